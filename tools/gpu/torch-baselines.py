"""PyTorch baselines for the CUDA backend's benchmarks (b) and (c), on the same GPU and shapes as
io.kvserve.cuda.CudaBenchmark prints: torch.matmul TFLOP/s for the prefill GEMMs, and
scaled_dot_product_attention for one decode query per sequence over 4096 cached tokens (batch 1
and 64, llama-3.2-1b heads: 32 query heads, 8 KV heads, head size 64, F16).

usage: python3 tools/gpu/torch-baselines.py
"""
import torch
import torch.nn.functional as F


def timed(fn, repeats):
    fn()
    torch.cuda.synchronize()
    start = torch.cuda.Event(enable_timing=True)
    stop = torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(repeats):
        fn()
    stop.record()
    stop.synchronize()
    return start.elapsed_time(stop) / repeats  # ms


def main():
    print("torch", torch.__version__, "on", torch.cuda.get_device_name(0))
    for dtype in (torch.float16, torch.bfloat16):
        for rows, cols in ((2048, 2048), (3072, 2048), (16384, 2048), (2048, 8192)):
            for tokens in (512, 2048):
                x = torch.randn(tokens, cols, device="cuda", dtype=dtype)
                w = torch.randn(rows, cols, device="cuda", dtype=dtype)
                ms = timed(lambda: torch.matmul(x, w.t()), 50)
                print(f"(b) torch.matmul {str(dtype)[6:]:8} M={tokens:5} N={rows:5} K={cols:5}: "
                      f"{ms * 1e3:8.1f} us, {2 * rows * cols * tokens / ms / 1e9:6.1f} TFLOP/s")
    for batch in (1, 64):
        q = torch.randn(batch, 32, 1, 64, device="cuda", dtype=torch.float16)
        k = torch.randn(batch, 8, 4096, 64, device="cuda", dtype=torch.float16)
        v = torch.randn(batch, 8, 4096, 64, device="cuda", dtype=torch.float16)
        try:  # torch >= 2.5 reads the 8 KV heads as they are
            ms = timed(lambda: F.scaled_dot_product_attention(q, k, v, enable_gqa=True), 200)
            how = "enable_gqa"
        except TypeError:  # older torch: the KV heads repeated to 32, 4x the bytes
            k32, v32 = k.repeat_interleave(4, dim=1), v.repeat_interleave(4, dim=1)
            ms = timed(lambda: F.scaled_dot_product_attention(q, k32, v32), 200)
            how = "KV heads repeated"
        print(f"(c) torch SDPA decode batch {batch:2} x 4096 tokens ({how}): {ms * 1e3:7.1f} us")

if __name__ == "__main__":
    main()
