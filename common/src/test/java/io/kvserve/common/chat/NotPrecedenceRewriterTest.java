package io.kvserve.common.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class NotPrecedenceRewriterTest {
    @Test
    void rewriteExpression_prefixNot_wrapsUpToLooserOperator() {
        assertThat(NotPrecedenceRewriter.rewriteExpression(" if not x|length == 1 "))
                .isEqualTo(" if not ( x|length == 1) ");
        assertThat(NotPrecedenceRewriter.rewriteExpression(" 'a' if not d is defined else 'b' "))
                .isEqualTo(" 'a' if not ( d is defined) else 'b' ");
        assertThat(NotPrecedenceRewriter.rewriteExpression(" not a and not (b or c) "))
                .isEqualTo(" not ( a) and not ( (b or c)) ");
        assertThat(NotPrecedenceRewriter.rewriteExpression(" f(not a, b) ")).isEqualTo(" f(not ( a), b) ");
    }

    @Test
    void rewriteExpression_binaryForms_untouched() {
        assertThat(NotPrecedenceRewriter.rewriteExpression(" x is not none and y not in z "))
                .isEqualTo(" x is not none and y not in z ");
        assertThat(NotPrecedenceRewriter.rewriteExpression(" 'not x' + m.not ")).isEqualTo(" 'not x' + m.not ");
    }

    @Test
    void render_notWithComparisonsAndMembership_followsJinja2() {
        ChatTemplate template = new ChatTemplate("{{ not messages|length == 1 }} {{ not 'a' in ['b'] }} "
                + "{{ not nope is defined }} {{ messages[0].role is not none }}", "", "");
        assertThat(template.render(List.of(ChatMessage.user("x")), false)).isEqualTo("false true true true");
    }
}
