package io.kvserve.common.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.time.Clock;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jinjava.javax.el.CompositeELResolver;

/**
 * A model's Jinja chat template, rendered the way HF transformers renders it.
 *
 * <h2>Design</h2>
 * HF renders with jinja2 ({@code trim_blocks}, {@code lstrip_blocks}, loop controls) and adds
 * {@code raise_exception(msg)}, {@code strftime_now(fmt)} and a {@code tojson} with Python's
 * separators [1]. Jinjava gives the same language with gaps that are filled here:
 * <ul>
 *   <li>Python string and dict methods ({@code .startswith()}, {@code .strip('x')}, {@code .split()},
 *       {@code .get(k, d)}) through {@link PythonMethodResolver};</li>
 *   <li>jinja2's loose {@code not} through {@link NotPrecedenceRewriter};</li>
 *   <li>{@code tojson} through {@link PythonJsonFilter}; {@code raise_exception} and
 *       {@code strftime_now} as functions ({@code strftime_now} is also a defined variable, since
 *       templates test {@code strftime_now is defined} first, as HF exposes it as a global).</li>
 * </ul>
 * Strictness: Jinjava reports problems as a list beside partial output. Here any FATAL error (syntax
 * error, unknown tag or function, failed method call, {@code raise_exception}) throws
 * {@link ChatTemplateException}; the template is parsed when constructed so a broken one fails at
 * model load, not at the first request; and filters are checked against the registry, because
 * Jinjava silently renders an unknown filter as empty. Undefined variables and attributes keep
 * jinja2's default meaning (empty and falsy), because real templates rely on it
 * ({@code message.tool_calls} on a plain user turn).
 *
 * <p>Thread-safe: one {@link Jinjava} per template, no mutable state besides per-render thread-locals.
 *
 * <p>References: [1] huggingface/transformers {@code utils/chat_template_utils.py} ({@code _compile_jinja_template}).
 */
public final class ChatTemplate {
    private static final ThreadLocal<String> RAISED = new ThreadLocal<>();
    private static final ThreadLocal<Clock> CLOCK = ThreadLocal.withInitial(Clock::systemDefaultZone);
    private static final Pattern TAG = Pattern.compile("\\{\\{.*?}}|\\{%.*?%}", Pattern.DOTALL);
    private static final Pattern QUOTED = Pattern.compile("'(?:[^'\\\\]|\\\\.)*'|\"(?:[^\"\\\\]|\\\\.)*\"");
    private static final Pattern FILTER_NAME = Pattern.compile("(?<!\\|)\\|(?!\\|)\\s*([A-Za-z_][A-Za-z0-9_]*)");

    private final String source;
    private final String template; // source with jinja2's "not" precedence made explicit
    private final String bosToken;
    private final String eosToken;
    private final Jinjava jinjava;
    private final Clock clock;

    public ChatTemplate(String template, String bosToken, String eosToken) {
        this(template, bosToken, eosToken, Clock.systemDefaultZone());
    }

    /**
     * @param template the Jinja source ({@code tokenizer.chat_template} or tokenizer_config's {@code chat_template})
     * @param bosToken value of {@code bos_token} in the template, "" when the model has none
     * @param eosToken value of {@code eos_token}
     * @param clock    time source for {@code strftime_now}
     */
    public ChatTemplate(String template, String bosToken, String eosToken, Clock clock) {
        this.source = Objects.requireNonNull(template, "template");
        this.template = NotPrecedenceRewriter.rewrite(template);
        this.bosToken = Objects.requireNonNullElse(bosToken, "");
        this.eosToken = Objects.requireNonNullElse(eosToken, "");
        this.clock = clock;
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonMethodResolver());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_WRITE);
        this.jinjava = new Jinjava(JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withElResolver(resolver)
                .withMaxOutputSize(64L << 20)
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        // {{- x }} and {#- c #} trim like jinja2; natural precedence stays off because
                        // it reads "not x is defined" as "(not x) is defined"
                        .withUseTrimmingForNotesAndExpressions(true)
                        .withEvaluateMapKeys(true)
                        .build())
                .build());
        jinjava.getGlobalContext().registerFilter(new PythonJsonFilter());
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                ChatTemplate.class, "raiseException", String.class));
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now",
                ChatTemplate.class, "strftimeNow", String.class));
        validate();
    }

    private void validate() {
        Matcher tags = TAG.matcher(template);
        while (tags.find()) {
            String unquoted = QUOTED.matcher(tags.group()).replaceAll("''");
            Matcher filter = FILTER_NAME.matcher(unquoted);
            while (filter.find()) {
                String name = filter.group(1);
                if (jinjava.getGlobalContext().getFilter(name) == null) {
                    throw new ChatTemplateException("chat template uses unknown filter '" + name + "' in "
                            + tags.group());
                }
            }
        }
        JinjavaInterpreter interpreter = jinjava.newInterpreter();
        JinjavaInterpreter.pushCurrent(interpreter);
        try {
            interpreter.parse(template);
        } finally {
            JinjavaInterpreter.popCurrent();
        }
        throwOnFatal(interpreter.getErrors(), "does not parse");
    }

    /** Renders the prompt for {@code messages}; {@code addGenerationPrompt} opens the assistant turn. */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt, Map.of());
    }

    /**
     * @param extraVariables further template variables ({@code tools}, {@code date_string},
     *                       {@code enable_thinking}...); they override the standard ones
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, Object> extraVariables) {
        List<Map<String, Object>> messageMaps = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            messageMaps.add(m.toTemplateMap());
        }
        Map<String, Object> variables = new HashMap<>();
        variables.put("messages", messageMaps);
        variables.put("add_generation_prompt", addGenerationPrompt);
        variables.put("bos_token", bosToken);
        variables.put("eos_token", eosToken);
        variables.put("strftime_now", "strftime_now");
        variables.putAll(extraVariables);
        RAISED.remove();
        CLOCK.set(clock);
        try {
            RenderResult result = jinjava.renderForResult(template, variables);
            String raised = RAISED.get();
            if (raised != null) {
                throw new ChatTemplateException("chat template raised: " + raised);
            }
            throwOnFatal(result.getErrors(), "failed to render");
            return result.getOutput();
        } finally {
            RAISED.remove();
            CLOCK.remove();
        }
    }

    private static void throwOnFatal(List<TemplateError> errors, String what) {
        List<String> fatal = new ArrayList<>();
        for (TemplateError error : errors) {
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                fatal.add((error.getLineno() > 0 ? "line " + error.getLineno() + ": " : "") + error.getMessage());
            }
        }
        if (!fatal.isEmpty()) {
            throw new ChatTemplateException("chat template " + what + ": " + String.join("; ", fatal));
        }
    }

    public String source() {
        return source;
    }

    /** {@code raise_exception(message)}: aborts rendering with the template's message. */
    public static String raiseException(String message) {
        RAISED.set(message);
        throw new IllegalStateException(message);
    }

    /** {@code strftime_now(format)}: the current time in Python strftime format. */
    public static String strftimeNow(String format) {
        return strftime(ZonedDateTime.now(CLOCK.get()), format);
    }

    static String strftime(ZonedDateTime time, String format) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) {
                sb.append(c);
                continue;
            }
            char code = format.charAt(++i);
            switch (code) {
                case 'd' -> sb.append(String.format("%02d", time.getDayOfMonth()));
                case 'm' -> sb.append(String.format("%02d", time.getMonthValue()));
                case 'Y' -> sb.append(time.getYear());
                case 'y' -> sb.append(String.format("%02d", time.getYear() % 100));
                case 'H' -> sb.append(String.format("%02d", time.getHour()));
                case 'I' -> sb.append(String.format("%02d", (time.getHour() + 11) % 12 + 1));
                case 'M' -> sb.append(String.format("%02d", time.getMinute()));
                case 'S' -> sb.append(String.format("%02d", time.getSecond()));
                case 'p' -> sb.append(time.getHour() < 12 ? "AM" : "PM");
                case 'b' -> sb.append(time.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'B' -> sb.append(time.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'a' -> sb.append(time.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'A' -> sb.append(time.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'j' -> sb.append(String.format("%03d", time.getDayOfYear()));
                case 'Z' -> sb.append(time.getZone().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'z' -> sb.append(time.format(DateTimeFormatter.ofPattern("xx")));
                case '%' -> sb.append('%');
                default -> sb.append('%').append(code);
            }
        }
        return sb.toString();
    }
}
