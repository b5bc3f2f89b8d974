# cmp_dequant.py NAME MODEL.gguf DIR   (needs llama.cpp's gguf-py on PYTHONPATH)
# Compares kvserve's dequantized tensors (DIR/TENSOR.f32, from KvDequant.java) with gguf-py's dequantize of MODEL.
import os, sys, numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize
name, model, d = sys.argv[1:4]
worst = 0.0; n = 0; types = set()
for t in GGUFReader(model).tensors:
    f = os.path.join(d, t.name + '.f32')
    if not os.path.exists(f): continue
    ref = dequantize(np.asarray(t.data), t.tensor_type).astype(np.float32).reshape(-1)
    ours = np.fromfile(f, '<f4')
    if ours.size != ref.size: sys.exit(f'{name}: {t.name}: {ours.size} values, gguf-py {ref.size}')
    worst = max(worst, float(np.abs(ref - ours).max())); n += 1; types.add(t.tensor_type.name)
print(f'{name}: kvserve reads {n} tensors ({", ".join(sorted(types))}) of the llama-quantize file, max|diff| to gguf-py {worst:.3g}')
