package io.kvserve.common.openai;

import static io.kvserve.common.openai.Bodies.json;
import static io.kvserve.common.openai.Bodies.rejected;
import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.common.openai.GenerateRequest.Api;
import io.kvserve.common.openai.OpenAiRequests.Limits;
import org.junit.jupiter.api.Test;

/** The scheduler's placement envelope: the tenant's request checked as the public endpoint checks it. */
class ParsePlaceTest {

    private static final String CHAT =
            "{'model': 'm', 'messages': [{'role': 'user', 'content': 'hi'}], 'max_tokens': 7}";

    private static PlaceRequest parse(String singleQuoted) {
        return OpenAiRequests.parsePlace(json(singleQuoted), Limits.DEFAULT);
    }

    @Test
    void parsePlace_chatEnvelope_requestParsedAsThePublicEndpointDoes() {
        PlaceRequest request = parse("{'api': 'chat.completions', 'tenant_id': 'acme', 'request': " + CHAT + "}");

        assertThat(request.api()).isEqualTo(Api.CHAT);
        assertThat(request.chat()).isEqualTo(OpenAiRequests.parseChat(json(CHAT), Limits.DEFAULT));
        assertThat(request.completion()).isNull();
        assertThat(request.tenantId()).isEqualTo("acme");
        assertThat(request.model()).isEqualTo("m");
        assertThat(request.params().maxTokens()).isEqualTo(7);
        assertThat(request.tenantWeight()).as("default").isEqualTo(1);
    }

    @Test
    void parsePlace_tenantWeight_takenWhenInRange() {
        assertThat(parse("{'api': 'chat.completions', 'tenant_id': 'acme', 'tenant_weight': 4, 'request': " + CHAT
                + "}").tenantWeight()).isEqualTo(4);
        assertThat(rejected(() -> parse("{'api': 'chat.completions', 'tenant_id': 'acme', 'tenant_weight': 0, "
                + "'request': " + CHAT + "}")).param()).isEqualTo("tenant_weight");
        assertThat(rejected(() -> parse("{'api': 'chat.completions', 'tenant_id': 'acme', 'tenant_weight': 'x', "
                + "'request': " + CHAT + "}")).param()).isEqualTo("tenant_weight");
    }

    @Test
    void parsePlace_completionEnvelope_parsed() {
        PlaceRequest request = parse("{'api': 'completions', 'tenant_id': 't', 'request': {'model': 'm', 'prompt': [5, 6]}}");

        assertThat(request.api()).isEqualTo(Api.COMPLETIONS);
        assertThat(request.completion().prompt()).isInstanceOf(CompletionRequest.Prompt.TokenIds.class);
    }

    @Test
    void parsePlace_badEnvelopes_refusedNamingTheField() {
        assertThat(rejected(() -> parse("{'tenant_id': 'acme', 'request': " + CHAT + "}")).param()).isEqualTo("api");
        assertThat(rejected(() -> parse("{'api': 'embeddings', 'tenant_id': 'acme', 'request': " + CHAT + "}")).param())
                .isEqualTo("api");
        assertThat(rejected(() -> parse("{'api': 'chat.completions', 'request': " + CHAT + "}")).param())
                .isEqualTo("tenant_id");
        assertThat(rejected(() -> parse("{'api': 'chat.completions', 'tenant_id': 'acme'}")).param()).isEqualTo("request");
        assertThat(rejected(() -> parse("{'api': 'chat.completions', 'tenant_id': 'acme', 'request': " + CHAT
                + ", 'cache_salt': 'x'}")).message()).isEqualTo("Unrecognized request argument supplied: cache_salt");
    }

    @Test
    void parsePlace_badRequestInside_namesTheParameterUnderRequest() {
        OpenAiError error = rejected(() -> parse("{'api': 'chat.completions', 'tenant_id': 'acme', 'request': "
                + "{'model': 'm', 'messages': [{'role': 'wizard', 'content': 'hi'}]}}"));
        assertThat(error.param()).isEqualTo("request.messages[0].role");
    }
}
