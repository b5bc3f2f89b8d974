package io.kvserve.cuda;

import jcuda.driver.CUdeviceptr;

import java.util.ArrayList;
import java.util.List;

/**
 * The device and pinned host allocations of one owner (a model runner, a benchmark), freed together
 * by {@link #close()} on the thread that uses them.
 */
final class DeviceMemory implements AutoCloseable {

    private final CudaDevice device;
    private final List<CUdeviceptr> allocations = new ArrayList<>();
    private final List<CudaDevice.Pinned> pinned = new ArrayList<>();
    private long numDeviceBytes;

    DeviceMemory(CudaDevice device) {
        this.device = device;
    }

    CudaDevice device() {
        return device;
    }

    CUdeviceptr allocate(long bytes) {
        CUdeviceptr ptr = device.allocate(bytes);
        allocations.add(ptr);
        numDeviceBytes += bytes;
        return ptr;
    }

    CudaDevice.Pinned allocatePinned(long bytes) {
        CudaDevice.Pinned p = device.allocatePinned(bytes);
        pinned.add(p);
        return p;
    }

    /** A new device array holding {@code values}. */
    CUdeviceptr upload(float[] values) {
        CUdeviceptr ptr = allocate((long) values.length * Float.BYTES);
        device.upload(values, ptr);
        return ptr;
    }

    /** A new device array holding {@code values}. */
    CUdeviceptr upload(int[] values) {
        CUdeviceptr ptr = allocate((long) values.length * Integer.BYTES);
        device.upload(values, ptr);
        return ptr;
    }

    /** Device memory allocated here. */
    long numDeviceBytes() {
        return numDeviceBytes;
    }

    @Override
    public void close() {
        device.synchronize();
        allocations.forEach(device::free);
        allocations.clear();
        pinned.forEach(device::free);
        pinned.clear();
        numDeviceBytes = 0;
    }
}
