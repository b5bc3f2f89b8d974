package io.kvserve.common.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ChatTemplateTest {
    private static final Clock FIXED = Clock.fixed(Instant.parse("2025-03-07T10:15:30Z"), ZoneOffset.UTC);

    private static String render(String template, String snippetVariable) {
        return new ChatTemplate(template, "<s>", "</s>").render(List.of(ChatMessage.user(snippetVariable)), false);
    }

    @Test
    void render_llama31_systemAndUser_matchesReferenceLayout() {
        ChatTemplate template = new ChatTemplate(ReferenceChatTemplates.LLAMA_3_1, "<|begin_of_text|>", "<|eot_id|>");
        String prompt = template.render(List.of(ChatMessage.system(" You are helpful. "), ChatMessage.user("Hi\n")), true,
                Map.of("date_string", "26 Jul 2024"));
        assertThat(prompt).isEqualTo("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
                + "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n"
                + "You are helpful.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n");
    }

    @Test
    void render_llama31_noDateString_usesStrftimeNow() {
        ChatTemplate template = new ChatTemplate(ReferenceChatTemplates.LLAMA_3_1, "<|begin_of_text|>", "<|eot_id|>", FIXED);
        assertThat(template.render(List.of(ChatMessage.user("Hi")), false)).contains("Today Date: 07 Mar 2025\n\n");
    }

    @Test
    void render_llama31_twoToolCalls_raisesTemplateMessage() {
        ChatTemplate template = new ChatTemplate(ReferenceChatTemplates.LLAMA_3_1, "<|begin_of_text|>", "<|eot_id|>");
        Map<String, Object> call = Map.of("function", Map.of("name", "f", "arguments", Map.of("x", 1)));
        ChatMessage assistant = new ChatMessage("assistant", null, Map.of("tool_calls", List.of(call, call)));
        assertThatThrownBy(() -> template.render(List.of(ChatMessage.user("Hi"), assistant), false))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessageContaining("This model only supports single tool-calls at once!");
    }

    @Test
    void render_llama31_oneToolCall_writesPythonStyleJson() {
        ChatTemplate template = new ChatTemplate(ReferenceChatTemplates.LLAMA_3_1, "<|begin_of_text|>", "<|eot_id|>");
        Map<String, Object> call = Map.of("function", Map.of("name", "get_weather", "arguments", Map.of("city", "Paris")));
        ChatMessage assistant = new ChatMessage("assistant", null, Map.of("tool_calls", List.of(call)));
        String prompt = template.render(List.of(ChatMessage.user("Hi"), assistant), false, Map.of("date_string", "x"));
        assertThat(prompt).endsWith("<|start_header_id|>assistant<|end_header_id|>\n\n"
                + "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}<|eot_id|>");
    }

    @Test
    void render_qwen25_userOnly_addsDefaultSystemPrompt() {
        ChatTemplate template = new ChatTemplate(ReferenceChatTemplates.QWEN_2_5, "", "<|im_end|>");
        assertThat(template.render(List.of(ChatMessage.user("Hi")), true)).isEqualTo(
                "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
                        + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    }

    @Test
    void render_qwen25_toolsAndToolTurns_rendersToolBlocks() {
        ChatTemplate template = new ChatTemplate(ReferenceChatTemplates.QWEN_2_5, "", "<|im_end|>");
        Map<String, Object> tool = new java.util.LinkedHashMap<>();
        tool.put("type", "function");
        tool.put("function", Map.of("name", "f"));
        Map<String, Object> call = Map.of("function", Map.of("name", "f", "arguments", Map.of("a", 1)));
        String prompt = template.render(List.of(ChatMessage.user("Hi"),
                new ChatMessage("assistant", "", Map.of("tool_calls", List.of(call))),
                new ChatMessage("tool", "42"), new ChatMessage("tool", "43")), true, Map.of("tools", List.of(tool)));
        assertThat(prompt).contains("<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"f\"}}\n</tools>")
                .contains("<|im_start|>assistant\n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1}}\n</tool_call><|im_end|>\n")
                .contains("<|im_start|>user\n<tool_response>\n42\n</tool_response>\n<tool_response>\n43\n</tool_response><|im_end|>\n")
                .endsWith("<|im_start|>assistant\n");
    }

    @Test
    void render_smollm2_userOnly_matchesReferenceLayout() {
        ChatTemplate template = new ChatTemplate(ReferenceChatTemplates.SMOLLM2, "<|im_start|>", "<|im_end|>");
        assertThat(template.render(List.of(ChatMessage.user("Hi"), ChatMessage.assistant("Hello!")), true)).isEqualTo(
                "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
                        + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n"
                        + "<|im_start|>assistant\n");
    }

    @Test
    void render_pythonStringMethods_behaveLikePython() {
        String template = "{% set c = messages[0].content %}{{ c.strip() }}|{{ c.startswith(' a') }}|{{ c.endswith(('x', 'c ')) }}"
                + "|{{ c.upper() }}|{{ c.split() }}|{{ c.lstrip() }}|{{ c.rstrip() }}|{{ c.strip(' c') }}|{{ c.title() }}"
                + "|{{ '-'.join(c.split()) }}|{{ messages[0].get('missing', 'd') }}";
        assertThat(render(template, " ab c ")).isEqualTo("ab c|true|true| AB C |[ab, c]|ab c | ab c|ab| Ab C |ab-c|d");
    }

    @Test
    void render_namespaceLoopControlsAndSlices_work() {
        String template = "{% set ns = namespace(n=0) %}{% for m in messages + messages + messages %}{% if loop.first %}{% continue %}"
                + "{% endif %}{% set ns.n = ns.n + 1 %}{% if loop.index == 2 %}{% break %}{% endif %}{% endfor %}"
                + "{{ ns.n }}{{ messages[1:] | length }}{{ messages[-1].role }}";
        assertThat(render(template, "x")).isEqualTo("10user");
    }

    @Test
    void render_trimAndLstripBlocks_likeHf() {
        String template = "{% for m in messages %}\n    {% if true %}\n{{ m.content }}\n    {% endif %}\n{% endfor %}";
        assertThat(render(template, "x")).isEqualTo("x\n");
    }

    @Test
    void render_undefinedAttribute_isEmptyAndFalsyAsInJinja2() {
        assertThat(render("{{ messages[0].nope }}|{% if messages[0].nope %}y{% else %}n{% endif %}|{{ nope is defined }}", "x"))
                .isEqualTo("|n|false");
    }

    @Test
    void new_syntaxError_throwsWithJinjavaMessage() {
        assertThatThrownBy(() -> new ChatTemplate("{% if messages %}x", "", ""))
                .isInstanceOf(ChatTemplateException.class).hasMessageContaining("does not parse")
                .hasMessageContaining("endif");
    }

    @Test
    void new_unknownFilter_throwsNamingIt() {
        assertThatThrownBy(() -> new ChatTemplate("{{ messages | frobnicate }}", "", ""))
                .isInstanceOf(ChatTemplateException.class).hasMessageContaining("frobnicate");
    }

    @Test
    void render_unknownFunction_throws() {
        ChatTemplate template = new ChatTemplate("{{ frobnicate(1) }}", "", "");
        assertThatThrownBy(() -> template.render(List.of(), false)).isInstanceOf(ChatTemplateException.class)
                .hasMessageContaining("frobnicate");
    }

    @Test
    void render_raiseException_throwsTemplateMessage() {
        ChatTemplate template = new ChatTemplate(
                "{% if messages[0].role != 'system' %}{{ raise_exception('Conversation roles must alternate') }}{% endif %}", "", "");
        assertThatThrownBy(() -> template.render(List.of(ChatMessage.user("x")), false))
                .isInstanceOf(ChatTemplateException.class).hasMessage("chat template raised: Conversation roles must alternate");
    }

    @Test
    void tojson_nestedValues_usePythonSeparatorsAndKeepUnicode() {
        assertThat(PythonJsonFilter.toJson(Map.of("k", List.of(1, "é\n\"", true, 2.0)), null))
                .isEqualTo("{\"k\": [1, \"é\\n\\\"\", true, 2.0]}");
        assertThat(PythonJsonFilter.toJson(Map.of("a", List.of(1)), 2)).isEqualTo("{\n  \"a\": [\n    1\n  ]\n}");
    }
}
