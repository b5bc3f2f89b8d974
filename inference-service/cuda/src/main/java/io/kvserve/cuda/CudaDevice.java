package io.kvserve.cuda;

import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUfunction;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Device 0 through JCuda's driver API: its primary context, one stream, memory, the kernel module
 * and launches. Load this class only after {@link CudaProbe} said a driver is there.
 *
 * <p>Threads: the primary context is the process's, but a thread must make it current before its
 * first driver call; {@link #makeCurrent()} does, once per thread. The engine's step loop is the
 * only thread that launches (JNI calls pin virtual threads, so no virtual thread calls in here);
 * the model loader thread uploads the weights before the loop starts.
 */
public final class CudaDevice implements AutoCloseable {

    /** Largest host-to-device copy in one call: a MemorySegment's ByteBuffer view is int-indexed. */
    private static final long MAX_COPY_BYTES = 1L << 30;

    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUstream stream = new CUstream();
    private final ThreadLocal<Boolean> current = ThreadLocal.withInitial(() -> false);

    /** Opens device 0's primary context and a stream on it. */
    public CudaDevice() {
        JCudaDriver.setExceptionsEnabled(true);
        JCudaDriver.cuInit(0);
        JCudaDriver.cuDeviceGet(device, 0);
        JCudaDriver.cuDevicePrimaryCtxRetain(context, device);
        makeCurrent();
        JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING); // capturable: no implicit sync with the legacy stream
    }

    /** Makes the primary context current on the calling thread (cheap after the first call). */
    public void makeCurrent() {
        if (!current.get()) {
            JCudaDriver.cuCtxSetCurrent(context);
            current.set(true);
        }
    }

    /** The device's multiprocessors. */
    public int numSms() {
        int[] value = new int[1];
        JCudaDriver.cuDeviceGetAttribute(value, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device);
        return value[0];
    }

    public CUstream stream() {
        return stream;
    }

    /** {@code bytes} of device memory, 256-byte aligned (cuMemAlloc's guarantee); see {@link DeviceMemory}. */
    CUdeviceptr allocate(long bytes) {
        makeCurrent();
        CUdeviceptr ptr = new CUdeviceptr();
        JCudaDriver.cuMemAlloc(ptr, Math.max(bytes, 1));
        return ptr;
    }

    void free(CUdeviceptr ptr) {
        makeCurrent();
        JCudaDriver.cuMemFree(ptr);
    }

    /** Free and total device memory now (cuMemGetInfo). */
    public long[] memoryInfo() {
        makeCurrent();
        long[] free = new long[1];
        long[] total = new long[1];
        JCudaDriver.cuMemGetInfo(free, total);
        return new long[] {free[0], total[0]};
    }

    /** Copies {@code src} (host memory, any size) to {@code dst + dstOffsetBytes}, synchronously. */
    public void upload(MemorySegment src, CUdeviceptr dst, long dstOffsetBytes) {
        makeCurrent();
        for (long done = 0; done < src.byteSize(); done += MAX_COPY_BYTES) {
            long n = Math.min(MAX_COPY_BYTES, src.byteSize() - done);
            ByteBuffer chunk = src.asSlice(done, n).asByteBuffer();
            if (!chunk.isDirect()) { // a heap segment: copy through a direct buffer
                ByteBuffer direct = ByteBuffer.allocateDirect((int) n);
                direct.put(chunk).flip();
                chunk = direct;
            }
            JCudaDriver.cuMemcpyHtoD(dst.withByteOffset(dstOffsetBytes + done), Pointer.to(chunk), n);
        }
        awaitLegacyStreamCopies();
    }

    /** Copies {@code ints} to the start of {@code dst}, synchronously. */
    public void upload(int[] ints, CUdeviceptr dst) {
        makeCurrent();
        JCudaDriver.cuMemcpyHtoD(dst, Pointer.to(ints), (long) ints.length * Integer.BYTES);
        awaitLegacyStreamCopies();
    }

    /** Copies {@code floats} to the start of {@code dst}, synchronously. */
    public void upload(float[] floats, CUdeviceptr dst) {
        makeCurrent();
        JCudaDriver.cuMemcpyHtoD(dst, Pointer.to(floats), (long) floats.length * Float.BYTES);
        awaitLegacyStreamCopies();
    }

    /**
     * Waits until the synchronous copies above have landed. cuMemcpyHtoD from pageable memory (a Java
     * array, a heap or direct buffer) returns once the data is staged, "but the DMA to final destination
     * may not have completed" (driver API, API synchronization behavior); it runs on the legacy stream,
     * with which our non-blocking {@link #stream()} does not synchronize, so a kernel queued right after
     * an upload could read the old bytes. Call it after any cuMemcpyHtoD (never inside a capture).
     */
    public static void awaitLegacyStreamCopies() {
        JCudaDriver.cuCtxSynchronize();
    }

    /** Page-locked host memory of {@code bytes}, native byte order; see {@link DeviceMemory}. */
    Pinned allocatePinned(long bytes) {
        makeCurrent();
        Pointer pointer = new Pointer();
        JCudaDriver.cuMemAllocHost(pointer, Math.max(bytes, 1));
        return new Pinned(pointer, pointer.getByteBuffer(0, Math.max(bytes, 1)).order(ByteOrder.nativeOrder()));
    }

    void free(Pinned pinned) {
        makeCurrent();
        JCudaDriver.cuMemFreeHost(pinned.pointer());
    }

    /**
     * Page-locked host memory.
     *
     * @param pointer for the driver's copies
     * @param buffer  the same bytes for Java, native order
     */
    public record Pinned(Pointer pointer, ByteBuffer buffer) {
    }

    /** Queues a copy of {@code bytes} from pinned {@code src} to {@code dst}. */
    public void copyAsync(Pinned src, CUdeviceptr dst, long bytes) {
        JCudaDriver.cuMemcpyHtoDAsync(dst, src.pointer(), bytes, stream);
    }

    /** Queues a copy of {@code bytes} from {@code src} to pinned {@code dst}. */
    public void copyAsync(CUdeviceptr src, Pinned dst, long bytes) {
        JCudaDriver.cuMemcpyDtoHAsync(dst.pointer(), src, bytes, stream);
    }

    /** Copies {@code n} ints from {@code src} into {@code dst}, synchronously (tests, benchmarks). */
    public void download(CUdeviceptr src, int[] dst, int n) {
        synchronize();
        JCudaDriver.cuMemcpyDtoH(Pointer.to(dst), src, (long) n * Integer.BYTES);
    }

    /** Copies {@code n} floats from {@code src} into {@code dst}, synchronously (tests, benchmarks). */
    public void download(CUdeviceptr src, float[] dst, int n) {
        synchronize();
        JCudaDriver.cuMemcpyDtoH(Pointer.to(dst), src, (long) n * Float.BYTES);
    }

    /** Waits for the stream. */
    public void synchronize() {
        JCudaDriver.cuStreamSynchronize(stream);
    }

    /** Loads a fatbin (or PTX) image. */
    public CUmodule loadModule(byte[] image) {
        makeCurrent();
        CUmodule module = new CUmodule();
        JCudaDriver.cuModuleLoadData(module, image);
        return module;
    }

    /** The kernel {@code name} of {@code module}. */
    public static CUfunction function(CUmodule module, String name) {
        CUfunction function = new CUfunction();
        JCudaDriver.cuModuleGetFunction(function, module, name);
        return function;
    }

    /** Queues {@code kernel} on the stream; {@code args} from {@link KernelArgs}. */
    public void launch(CUfunction kernel, int gridX, int gridY, int gridZ, int blockX, Pointer args) {
        JCudaDriver.cuLaunchKernel(kernel, gridX, gridY, gridZ, blockX, 1, 1, 0, stream, args, null);
    }

    /** Milliseconds the stream takes to run {@code work} {@code repeats} times (CUDA events around it), after one warm-up run. */
    public float time(int repeats, Runnable work) {
        makeCurrent();
        work.run();
        CUevent start = new CUevent();
        CUevent stop = new CUevent();
        JCudaDriver.cuEventCreate(start, 0);
        JCudaDriver.cuEventCreate(stop, 0);
        JCudaDriver.cuEventRecord(start, stream);
        for (int i = 0; i < repeats; i++) {
            work.run();
        }
        JCudaDriver.cuEventRecord(stop, stream);
        JCudaDriver.cuEventSynchronize(stop);
        float[] ms = new float[1];
        JCudaDriver.cuEventElapsedTime(ms, start, stop);
        JCudaDriver.cuEventDestroy(start);
        JCudaDriver.cuEventDestroy(stop);
        return ms[0];
    }

    /** Queues a device-to-device copy. */
    public void copyAsync(CUdeviceptr src, CUdeviceptr dst, long bytes) {
        JCudaDriver.cuMemcpyDtoDAsync(dst, src, bytes, stream);
    }

    /** Starts recording the stream's work into a graph instead of running it. */
    public void beginCapture() {
        JCudaDriver.cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
    }

    /** Ends the recording and instantiates it. */
    public CUgraphExec endCapture() {
        CUgraph graph = new CUgraph();
        JCudaDriver.cuStreamEndCapture(stream, graph);
        CUgraphExec exec = new CUgraphExec();
        JCudaDriver.cuGraphInstantiate(exec, graph, 0);
        JCudaDriver.cuGraphDestroy(graph);
        return exec;
    }

    /** Queues a captured graph on the stream. */
    public void launch(CUgraphExec graph) {
        JCudaDriver.cuGraphLaunch(graph, stream);
    }

    public static void destroy(CUgraphExec graph) {
        JCudaDriver.cuGraphExecDestroy(graph);
    }

    /** Destroys the stream and releases the primary context (free every {@link DeviceMemory} first). */
    @Override
    public void close() {
        makeCurrent();
        JCudaDriver.cuStreamSynchronize(stream);
        JCudaDriver.cuStreamDestroy(stream);
        JCudaDriver.cuDevicePrimaryCtxRelease(device);
    }
}
