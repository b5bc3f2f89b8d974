# cmp_quant.py NAME KVSERVE.gguf LLAMA.gguf F32.gguf [TENSOR ...]   (needs llama.cpp's gguf-py on PYTHONPATH)
# KVSERVE: the generator's quantized file; LLAMA: `llama-quantize --pure` of F32, the generator's F32 file of the
# same preset and seed. Prints how many matrices and 1-D tensors are byte-identical; for each TENSOR named, the RMSE and max error of
# both quantizations against the F32 values.
import sys, numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize
name, kv, ll, f32 = sys.argv[1:5]; names = sys.argv[5:]
a = {t.name: t for t in GGUFReader(kv).tensors}; b = {t.name: t for t in GGUFReader(ll).tensors}
if a.keys() != b.keys(): sys.exit(f'{name}: tensor names differ: {sorted(a.keys() ^ b.keys())}')
# matrices are what the type quantizes; 1-D tensors (norms, rope_freqs) stay F32 in both files, but the generator
# rounds the norms of an f16/bf16 file to that type (as the converter writes a f16/bf16 checkpoint), llama-quantize does not
for kind, sel in (('matrices', lambda t: len(t.shape) > 1), ('1-D tensors', lambda t: len(t.shape) == 1)):
    ns = [n for n, t in a.items() if sel(t)]
    same = [n for n in ns if a[n].tensor_type == b[n].tensor_type
            and np.array_equal(np.asarray(a[n].data).view(np.uint8), np.asarray(b[n].data).view(np.uint8))]
    line = f'{name}: {kind} {len(same)}/{len(ns)} byte-identical to llama-quantize --pure'
    other = [n for n in ns if n not in same]
    if other and all(a[n].tensor_type == b[n].tensor_type and a[n].tensor_type.name == 'F32' for n in other):
        md = max(float(np.abs(np.asarray(a[n].data, np.float64) - np.asarray(b[n].data, np.float64)).max()) for n in other)
        line += f' (the other {len(other)}: F32 in both, max|diff| {md:.2e})'
    elif other:
        line += f' (the other {len(other)}: {", ".join(sorted({a[n].tensor_type.name + " vs " + b[n].tensor_type.name for n in other}))})'
    print(line)
if names:
    f = {t.name: t for t in GGUFReader(f32).tensors}
    for n in names:
        x = np.asarray(f[n].data, dtype=np.float32).reshape(-1)
        r = []
        for t in (a[n], b[n]):
            d = dequantize(np.asarray(t.data), t.tensor_type).reshape(-1)
            r.append((np.sqrt(((d - x) ** 2).mean()), np.abs(d - x).max(), t.tensor_type.name))
        print(f'  {n:24s} {r[0][2]}/{r[1][2]}  RMSE kvserve {r[0][0]:.3e} llama.cpp {r[1][0]:.3e}   max|err| kvserve {r[0][1]:.3e} llama.cpp {r[1][1]:.3e}')
