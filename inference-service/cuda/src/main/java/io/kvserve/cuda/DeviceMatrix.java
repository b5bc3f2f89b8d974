package io.kvserve.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * A weight matrix in device memory, in the kernels' layout ({@link PackedMatrix}).
 *
 * @param type   the kernels' weight type
 * @param rows   output features
 * @param cols   input features
 * @param values (rows, cols) values or quants
 * @param scales (rows, cols / 32) f16 scales; null for unquantized types
 */
record DeviceMatrix(KernelWeightType type, int rows, int cols, CUdeviceptr values, CUdeviceptr scales) {

    /**
     * Uploads {@code parts} stacked by rows into one matrix (fused QKV, fused gate/up): one launch
     * then computes all of them, and its output columns are the parts' outputs side by side.
     *
     * @throws IllegalArgumentException for parts of different types or widths
     */
    static DeviceMatrix upload(DeviceMemory memory, PackedMatrix... parts) {
        CudaDevice device = memory.device();
        KernelWeightType type = parts[0].type();
        int cols = parts[0].cols();
        int rows = 0;
        for (PackedMatrix part : parts) {
            if (part.type() != type || part.cols() != cols) {
                throw new IllegalArgumentException("fused weights must share type and width: " + parts[0] + " and " + part
                        + " (the CUDA backend fuses Q/K/V and gate/up into one matmul)");
            }
            rows += part.rows();
        }
        CUdeviceptr values = memory.allocate(type.valueBytes(rows, cols));
        CUdeviceptr scales = type.quantized() ? memory.allocate((long) rows * (cols / 32) * Short.BYTES) : null;
        long valueOffset = 0;
        long scaleOffset = 0;
        for (PackedMatrix part : parts) {
            device.upload(part.values(), values, valueOffset);
            valueOffset += part.values().byteSize();
            if (scales != null) {
                device.upload(part.scales(), scales, scaleOffset);
                scaleOffset += part.scales().byteSize();
            }
        }
        return new DeviceMatrix(type, rows, cols, values, scales);
    }
}
