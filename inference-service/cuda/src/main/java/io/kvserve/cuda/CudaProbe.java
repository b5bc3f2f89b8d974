package io.kvserve.cuda;

import io.kvserve.engine.backend.BackendAvailability;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;

/**
 * Asks the NVIDIA driver, through the FFM API and without loading any JCuda class, whether the CUDA
 * backend can run here: is {@code libcuda.so.1} there, does {@code cuInit} succeed, is the driver new
 * enough for the kernels (CUDA 12.0: JCuda 12's runtime needs it), is there a device of compute
 * capability 8.0 or newer (the fatbin holds sm_80 and sm_90 code and compute_90 PTX).
 *
 * <p>Why not just touch {@code jcuda.driver.JCudaDriver}: its static initializer loads the JNI
 * library, and a class whose initializer failed stays failed for the JVM's life
 * ({@code NoClassDefFoundError} on every later use), so a machine without a driver would log a stack
 * trace and no later probe could tell why. The probe leaves the driver initialized (cuInit is
 * idempotent), which JCuda then reuses.
 */
public final class CudaProbe {

    /** The driver library's soname; the probe's only dependency. */
    public static final String DRIVER_LIBRARY = "libcuda.so.1";
    /** cuDriverGetVersion of CUDA 12.0. */
    static final int MIN_DRIVER_VERSION = 12000;
    static final int MIN_COMPUTE_MAJOR = 8;

    private static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    private static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;

    /**
     * What the driver said about device 0.
     *
     * @param name               the device's name ("NVIDIA H200")
     * @param computeMajor       compute capability, major (9 for Hopper)
     * @param computeMinor       compute capability, minor
     * @param totalMemoryBytes   device memory
     * @param driverVersion      cuDriverGetVersion: 1000 * major + 10 * minor (13000 for CUDA 13.0)
     * @param numDevices         devices the driver sees (the backend uses device 0)
     */
    public record Device(String name, int computeMajor, int computeMinor, long totalMemoryBytes, int driverVersion,
                         int numDevices) {

        /** "NVIDIA H200 (sm_90, 139.8 GiB), driver 13.0, 1 device". */
        public String describe() {
            return String.format(Locale.ROOT, "%s (sm_%d%d, %.1f GiB), driver %d.%d, %d device%s", name, computeMajor,
                    computeMinor, totalMemoryBytes / (double) (1L << 30), driverVersion / 1000, driverVersion % 1000 / 10,
                    numDevices, numDevices == 1 ? "" : "s");
        }
    }

    private CudaProbe() {
    }

    /** Probes the system's driver. */
    public static BackendAvailability probe() {
        return probe(DRIVER_LIBRARY);
    }

    /**
     * Probes the driver {@code library} (a soname searched the usual way, or a path).
     *
     * @return {@link BackendAvailability.Available} whose description is {@link Device#describe()},
     *         or {@link BackendAvailability.Unavailable} with the reason
     */
    public static BackendAvailability probe(String library) {
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup driver;
            try {
                driver = SymbolLookup.libraryLookup(library, arena);
            } catch (IllegalArgumentException e) {
                return new BackendAvailability.Unavailable(library + " not found: no NVIDIA driver on this machine");
            }
            return probe(driver, arena);
        } catch (Throwable e) { // a broken driver library must not take the engine down: the CPU is there
            return new BackendAvailability.Unavailable("probing " + library + " failed: " + e);
        }
    }

    private static BackendAvailability probe(SymbolLookup driver, Arena arena) throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle cuInit = function(linker, driver, "cuInit", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        MethodHandle cuDriverGetVersion = function(linker, driver, "cuDriverGetVersion",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
        MethodHandle cuDeviceGetCount = function(linker, driver, "cuDeviceGetCount",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
        MethodHandle cuDeviceGet = function(linker, driver, "cuDeviceGet",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        MethodHandle cuDeviceGetName = function(linker, driver, "cuDeviceGetName",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        MethodHandle cuDeviceTotalMem = function(linker, driver, "cuDeviceTotalMem_v2",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        MethodHandle cuDeviceGetAttribute = function(linker, driver, "cuDeviceGetAttribute",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

        int status = (int) cuInit.invokeExact(0);
        if (status != 0) {
            return new BackendAvailability.Unavailable("cuInit failed with CUDA error " + status
                    + (status == 100 ? " (CUDA_ERROR_NO_DEVICE: no GPU visible to this process)" : ""));
        }
        MemorySegment out = arena.allocate(ValueLayout.JAVA_LONG);
        check((int) cuDriverGetVersion.invokeExact(out), "cuDriverGetVersion");
        int driverVersion = out.get(ValueLayout.JAVA_INT, 0);
        if (driverVersion < MIN_DRIVER_VERSION) {
            return new BackendAvailability.Unavailable(String.format(Locale.ROOT,
                    "the driver supports CUDA %d.%d; the CUDA backend needs 12.0 or newer (update the NVIDIA driver)",
                    driverVersion / 1000, driverVersion % 1000 / 10));
        }
        check((int) cuDeviceGetCount.invokeExact(out), "cuDeviceGetCount");
        int numDevices = out.get(ValueLayout.JAVA_INT, 0);
        if (numDevices < 1) {
            return new BackendAvailability.Unavailable("the driver sees no CUDA device");
        }
        check((int) cuDeviceGet.invokeExact(out, 0), "cuDeviceGet");
        int device = out.get(ValueLayout.JAVA_INT, 0);
        MemorySegment name = arena.allocate(256);
        check((int) cuDeviceGetName.invokeExact(name, 256, device), "cuDeviceGetName");
        check((int) cuDeviceTotalMem.invokeExact(out, device), "cuDeviceTotalMem");
        long totalMemoryBytes = out.get(ValueLayout.JAVA_LONG, 0);
        check((int) cuDeviceGetAttribute.invokeExact(out, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device),
                "cuDeviceGetAttribute");
        int major = out.get(ValueLayout.JAVA_INT, 0);
        check((int) cuDeviceGetAttribute.invokeExact(out, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device),
                "cuDeviceGetAttribute");
        int minor = out.get(ValueLayout.JAVA_INT, 0);
        Device found = new Device(name.getString(0), major, minor, totalMemoryBytes, driverVersion, numDevices);
        if (major < MIN_COMPUTE_MAJOR) {
            return new BackendAvailability.Unavailable(found.describe() + ": the kernels are built for compute "
                    + "capability 8.0 and newer (Ampere, Hopper, Blackwell)");
        }
        return new BackendAvailability.Available(found.describe());
    }

    private static MethodHandle function(Linker linker, SymbolLookup driver, String name, FunctionDescriptor descriptor) {
        MemorySegment symbol = driver.find(name)
                .orElseThrow(() -> new IllegalStateException("the driver library has no " + name));
        return linker.downcallHandle(symbol, descriptor);
    }

    private static void check(int status, String call) {
        if (status != 0) {
            throw new IllegalStateException(call + " failed with CUDA error " + status);
        }
    }
}
