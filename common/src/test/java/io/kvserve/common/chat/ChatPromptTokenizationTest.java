package io.kvserve.common.chat;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.common.tokenizer.GgufTokenizerLoader;
import io.kvserve.common.tokenizer.IncrementalDetokenizer;
import io.kvserve.common.tokenizer.LoadedTokenizer;
import io.kvserve.common.tokenizer.SyntheticVocab;
import io.kvserve.common.tokenizer.Tokenizer;
import io.kvserve.common.tokenizer.Tokenizer.EncodeOptions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The scheduler's path end to end: template from the model, render, tokenize, stream back. */
class ChatPromptTokenizationTest {
    @Test
    void renderedLlama3Prompt_tokenizesWithOneBosAndHeaderTokens() {
        LoadedTokenizer loaded = GgufTokenizerLoader.load(SyntheticVocab.generate(SyntheticVocab.Family.TINY, 1).toGguf());
        Tokenizer tokenizer = loaded.tokenizer();
        ChatTemplate template = new ChatTemplate(loaded.chatTemplate().orElseThrow(), loaded.bosToken(), loaded.eosToken());
        String prompt = template.render(List.of(ChatMessage.user("Hello there")), true, Map.of("date_string", "1 Jan 2025"));
        int[] ids = tokenizer.encode(prompt, EncodeOptions.RENDERED_CHAT);
        assertThat(ids[0]).isEqualTo(tokenizer.bosId().getAsInt());
        assertThat(ids[1]).isNotEqualTo(tokenizer.bosId().getAsInt());
        assertThat(tokenizer.tokenText(ids[1])).isEqualTo("<|start_header_id|>");
        assertThat(tokenizer.decode(ids)).isEqualTo(prompt);
        IncrementalDetokenizer detokenizer = new IncrementalDetokenizer(tokenizer, false);
        StringBuilder streamed = new StringBuilder();
        for (int id : ids) {
            streamed.append(detokenizer.push(id));
        }
        assertThat(streamed.append(detokenizer.flush()).toString()).isEqualTo(prompt);
    }
}
