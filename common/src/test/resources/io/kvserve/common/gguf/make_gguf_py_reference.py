# Writes gguf-py-reference.gguf and gguf-py-reference.f32 with llama.cpp's own Python package
# (gguf-py, `pip install gguf`; made with 0.19.0), so GgufReferenceFileTest checks the Java reader
# and kernels against an independent writer and dequantizer.
#   PYTHONPATH=<gguf-py> python3 make_gguf_py_reference.py
# The .f32 file holds, for each tensor in file order, gguf-py's dequantized values (float32 LE).
import numpy as np
from gguf import GGUFWriter, GGMLQuantizationType as T, GGUFValueType as V
from gguf.quants import dequantize, quantize

rng = np.random.default_rng(2024)
w = GGUFWriter("gguf-py-reference.gguf", "llama")
w.add_uint32("llama.block_count", 2)
w.add_int32("test.int32", -7)
w.add_uint64("test.uint64", 1 << 40)
w.add_float32("test.float32", 0.25)
w.add_float64("test.float64", -1.5)
w.add_bool("test.bool", True)
w.add_string("test.string", "héllo")
w.add_array("test.strings", ["<s>", "▁a", "😀"])
w.add_array("test.ints", [1, 2, 3])
w.add_array("test.floats", [0.5, -0.5])

def k_blocks(block_bytes, n_blocks, f16_fields):
    b = rng.integers(0, 256, size=(n_blocks, block_bytes), dtype=np.uint8)
    for off, lo, hi in f16_fields:  # keep the f16 scales finite and modest
        vals = rng.uniform(lo, hi, size=n_blocks).astype(np.float16)
        b[:, off:off + 2] = vals.view(np.uint8).reshape(n_blocks, 2)
    return b

x = rng.normal(size=(2, 256)).astype(np.float32)
tensors = [
    ("f32", x, None),
    ("f16", x.astype(np.float16), None),
    ("bf16", quantize(x, T.BF16), T.BF16),
    ("q4_0", quantize(x, T.Q4_0), T.Q4_0),
    ("q8_0", quantize(x, T.Q8_0), T.Q8_0),
    ("q4_k", k_blocks(144, 2, [(0, 0.001, 0.05), (2, 0.001, 0.05)]), T.Q4_K),
    ("q6_k", k_blocks(210, 2, [(208, 0.0005, 0.01)]), T.Q6_K),
]
expected = []
for name, data, raw in tensors:
    if raw is None:
        w.add_tensor(name, data)
        expected.append(data.astype(np.float32).reshape(-1))
    else:
        w.add_tensor(name, data, raw_dtype=raw)
        expected.append(dequantize(data, raw).astype(np.float32).reshape(-1))
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
np.concatenate(expected).astype("<f4").tofile("gguf-py-reference.f32")
