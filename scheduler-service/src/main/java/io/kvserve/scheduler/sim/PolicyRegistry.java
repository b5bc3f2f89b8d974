package io.kvserve.scheduler.sim;

import io.kvserve.scheduler.policy.PlacementPolicy;
import java.lang.reflect.InvocationTargetException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Policies by name, each made fresh per run (a policy may keep state). {@link #withMainPolicies()}
 * registers the service's policies of {@code io.kvserve.scheduler.policy} by reflection, so the
 * simulator builds before they exist and runs them once they do; a name whose class is missing
 * fails when it is used, with the class it looked for.
 */
public final class PolicyRegistry {

    /** Names as in {@code PlacementPolicy#name()} -> class in {@code io.kvserve.scheduler.policy}. */
    public static final Map<String, String> MAIN_POLICY_CLASSES = mainPolicyClasses();

    private final Map<String, Supplier<PlacementPolicy>> suppliers = new LinkedHashMap<>();

    public static PolicyRegistry withMainPolicies() {
        PolicyRegistry registry = new PolicyRegistry();
        MAIN_POLICY_CLASSES.forEach((name, className) -> registry.register(name, reflective(name, className)));
        return registry;
    }

    /** Adds or replaces a policy. */
    public PolicyRegistry register(String name, Supplier<PlacementPolicy> supplier) {
        suppliers.put(name, supplier);
        return this;
    }

    public List<String> names() {
        return List.copyOf(suppliers.keySet());
    }

    /** A fresh policy; IllegalArgumentException for an unknown name or a class that is missing. */
    public PlacementPolicy create(String name) {
        Supplier<PlacementPolicy> supplier = suppliers.get(name);
        if (supplier == null) {
            throw new IllegalArgumentException("unknown policy '" + name + "': known policies are " + names());
        }
        return supplier.get();
    }

    /** A supplier that instantiates {@code className} with its public no-arg constructor when called. */
    static Supplier<PlacementPolicy> reflective(String name, String className) {
        return () -> instantiate(name, className);
    }

    private static PlacementPolicy instantiate(String name, String className) {
        Class<?> type;
        try {
            type = Class.forName(className);
        } catch (ClassNotFoundException e) {
            throw new IllegalArgumentException("policy '" + name + "' needs class " + className
                    + ", which is not on the classpath (not written or not merged yet?)", e);
        }
        if (!PlacementPolicy.class.isAssignableFrom(type)) {
            throw new IllegalArgumentException("policy '" + name + "': " + className + " does not implement PlacementPolicy");
        }
        try {
            return (PlacementPolicy) type.getConstructor().newInstance();
        } catch (NoSuchMethodException e) {
            throw new IllegalArgumentException("policy '" + name + "': " + className
                    + " has no public no-arg constructor; register it with PolicyRegistry.register(name, supplier)", e);
        } catch (InvocationTargetException e) {
            throw new IllegalArgumentException("policy '" + name + "': " + className + "() threw " + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("policy '" + name + "': cannot instantiate " + className + ": " + e, e);
        }
    }

    private static Map<String, String> mainPolicyClasses() {
        Map<String, String> classes = new LinkedHashMap<>();
        String pkg = "io.kvserve.scheduler.policy.";
        classes.put("round-robin", pkg + "RoundRobinPolicy");
        classes.put("least-load", pkg + "LeastLoadPolicy");
        classes.put("prefix-only", pkg + "PrefixOnlyPolicy");
        classes.put("combined", pkg + "CombinedPolicy");
        return java.util.Collections.unmodifiableMap(classes);
    }
}
