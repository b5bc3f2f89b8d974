// The one translation unit of the kvserve kernels (one fatbin); see kvserve_kernels.h for the ABI.
#include "embed.cu"
#include "norm.cu"
#include "matvec.cu"
#include "rope.cu"
#include "ffn.cu"
#include "sampling.cu"
#include "attention.cu"
#include "gemm.cu"
