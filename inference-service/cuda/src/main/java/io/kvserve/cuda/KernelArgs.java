package io.kvserve.cuda;

import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/**
 * The {@code kernelParams} of a launch: one pointer per argument, in the kernel's order
 * (kvserve_kernels.h). Device pointers, {@code int}s and {@code float}s; {@code null} for a NULL
 * pointer argument (no bias, no scales).
 */
final class KernelArgs {

    private static final CUdeviceptr NULL = new CUdeviceptr();

    private KernelArgs() {
    }

    static Pointer of(Object... args) {
        NativePointerObject[] pointers = new NativePointerObject[args.length];
        for (int i = 0; i < args.length; i++) {
            pointers[i] = switch (args[i]) {
                case null -> Pointer.to(NULL);
                case CUdeviceptr ptr -> Pointer.to(ptr);
                case Integer v -> Pointer.to(new int[] {v});
                case Float v -> Pointer.to(new float[] {v});
                default -> throw new IllegalArgumentException("kernel argument " + i + " of type "
                        + args[i].getClass().getSimpleName() + ": device pointers, ints and floats only");
            };
        }
        return Pointer.to(pointers);
    }
}
