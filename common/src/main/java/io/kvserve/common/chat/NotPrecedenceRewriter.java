package io.kvserve.common.chat;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Makes jinja2's precedence of {@code not} explicit for Jinjava.
 *
 * <p>In jinja2 {@code not} binds looser than comparisons, {@code in} and {@code is} tests, so
 * {@code not x|length == 1} means {@code not (x|length == 1)}. Jinjava's EL parser binds it as a
 * tight unary operator and then fails ("cannot coerce Boolean to Long") or silently answers the
 * wrong question ({@code not 'a' in l}). Its "natural precedence" mode fixes comparisons but breaks
 * {@code not x is defined}. So every prefix {@code not} inside {@code {{ }}} and {@code {% %}} gets
 * parentheses up to the next {@code and}, {@code or}, {@code if}, {@code else}, comma or closing
 * bracket at the same nesting depth, which is exactly jinja2's grammar ({@code not_expr} sits between
 * {@code and} and comparisons). {@code is not} and {@code not in} are binary forms and stay as they are.
 */
final class NotPrecedenceRewriter {
    private static final Pattern TAG = Pattern.compile("(\\{\\{|\\{%)(.*?)(}}|%})", Pattern.DOTALL);

    private NotPrecedenceRewriter() {
    }

    static String rewrite(String template) {
        if (!template.contains("not")) {
            return template;
        }
        Matcher tags = TAG.matcher(template);
        StringBuilder out = new StringBuilder(template.length() + 16);
        int last = 0;
        while (tags.find()) {
            out.append(template, last, tags.start(2));
            out.append(rewriteExpression(tags.group(2)));
            last = tags.end(2);
        }
        out.append(template.substring(last));
        return out.toString();
    }

    static String rewriteExpression(String expr) {
        StringBuilder out = new StringBuilder(expr.length() + 8);
        Deque<Integer> pendingDepths = new ArrayDeque<>();
        int depth = 0;
        String previousWord = "";
        int i = 0;
        int n = expr.length();
        while (i < n) {
            char c = expr.charAt(i);
            if (c == '\'' || c == '"') {
                int j = i + 1;
                while (j < n && expr.charAt(j) != c) {
                    j += expr.charAt(j) == '\\' ? 2 : 1;
                }
                j = Math.min(j + 1, n);
                out.append(expr, i, j);
                previousWord = "";
                i = j;
            } else if (Character.isLetter(c) || c == '_') {
                int j = i;
                while (j < n && (Character.isLetterOrDigit(expr.charAt(j)) || expr.charAt(j) == '_')) {
                    j++;
                }
                String word = expr.substring(i, j);
                boolean afterDot = i > 0 && expr.charAt(i - 1) == '.';
                if (!afterDot && (word.equals("and") || word.equals("or") || word.equals("if") || word.equals("else"))) {
                    closePending(out, pendingDepths, depth);
                }
                out.append(word);
                if (!afterDot && word.equals("not") && !previousWord.equals("is") && !nextWordIs(expr, j, "in")) {
                    out.append(" (");
                    pendingDepths.push(depth);
                }
                previousWord = afterDot ? "" : word;
                i = j;
            } else {
                if (c == '(' || c == '[' || c == '{') {
                    depth++;
                } else if (c == ')' || c == ']' || c == '}') {
                    closePending(out, pendingDepths, depth);
                    depth--;
                } else if (c == ',') {
                    closePending(out, pendingDepths, depth);
                }
                if (!Character.isWhitespace(c)) {
                    previousWord = "";
                }
                out.append(c);
                i++;
            }
        }
        closePending(out, pendingDepths, Integer.MIN_VALUE);
        return out.toString();
    }

    private static void closePending(StringBuilder out, Deque<Integer> pendingDepths, int depth) {
        while (!pendingDepths.isEmpty() && pendingDepths.peek() >= depth) {
            pendingDepths.pop();
            int end = out.length();
            while (end > 0 && Character.isWhitespace(out.charAt(end - 1))) {
                end--;
            }
            out.insert(end, ')');
        }
    }

    private static boolean nextWordIs(String expr, int from, String word) {
        int i = from;
        while (i < expr.length() && Character.isWhitespace(expr.charAt(i))) {
            i++;
        }
        return expr.startsWith(word, i) && (i + word.length() == expr.length()
                || !Character.isLetterOrDigit(expr.charAt(i + word.length())));
    }
}
