/* A stand-in for libcuda.so.1 with the seven entry points CudaProbe calls, its answers fixed at
 * compile time (-DINIT_STATUS=100, -DDRIVER_VERSION=11080, ...), so CudaProbeTest can drive the
 * probe's every branch through the real FFM calls on a machine without a GPU. */
#include <string.h>
#include <stddef.h>
#ifndef INIT_STATUS
#define INIT_STATUS 0
#endif
#ifndef DRIVER_VERSION
#define DRIVER_VERSION 13000
#endif
#ifndef NUM_DEVICES
#define NUM_DEVICES 1
#endif
#ifndef CC_MAJOR
#define CC_MAJOR 9
#endif
#ifndef CC_MINOR
#define CC_MINOR 0
#endif
#ifndef TOTAL_MEM
#define TOTAL_MEM 150095716352ULL
#endif
int cuInit(unsigned int flags) { return flags == 0 ? INIT_STATUS : 1; }
int cuDriverGetVersion(int *v) { *v = DRIVER_VERSION; return 0; }
int cuDeviceGetCount(int *n) { *n = NUM_DEVICES; return 0; }
int cuDeviceGet(int *dev, int ordinal) { *dev = ordinal; return ordinal < NUM_DEVICES ? 0 : 101; }
int cuDeviceGetName(char *name, int len, int dev) { strncpy(name, "NVIDIA H200", len); return dev == 0 ? 0 : 101; }
int cuDeviceTotalMem_v2(size_t *bytes, int dev) { *bytes = (size_t) TOTAL_MEM; return dev == 0 ? 0 : 101; }
int cuDeviceGetAttribute(int *v, int attribute, int dev) {
    if (dev != 0) return 101;
    if (attribute == 75) { *v = CC_MAJOR; return 0; }
    if (attribute == 76) { *v = CC_MINOR; return 0; }
    return 1;
}
