# cmp_engine.py LLAMA.f32 KVSERVE.f32 NAME ROWS [NOTE]
# Both: float32 logits rows (llama.cpp's `logits --gen`, kvserve's `generate --dump-logits`), the first ROWS
# rows of each are compared (same token at every position). Prints one summary line, then for every row
# whose argmax differs: llama.cpp's top-2 margin, by how much llama.cpp puts its argmax x over kvserve's y, and
# that row's max|diff|. The two engines' x - y can differ by up to 2 x max|diff| (each logit by up to max|diff|),
# so a differing argmax is explained by the numerics only where llama.cpp's x - y is below 2 x row max|diff|.
import sys, numpy as np
a = np.fromfile(sys.argv[1], '<f4').astype(np.float64); b = np.fromfile(sys.argv[2], '<f4').astype(np.float64)
name, rows = sys.argv[3], int(sys.argv[4]); note = sys.argv[5] if len(sys.argv) > 5 else ''
n_vocab = a.size // rows
if a.size != rows * n_vocab or b.size < rows * n_vocab: sys.exit(f'{name}: bad sizes {a.size} {b.size}')
a = a[:rows * n_vocab].reshape(rows, n_vocab); b = b[:rows * n_vocab].reshape(rows, n_vocab)
if not (np.isfinite(a).all() and np.isfinite(b).all()): print(f'{name}: NON-FINITE logits')
d = np.abs(a - b).max(axis=1)
am_a, am_b = a.argmax(axis=1), b.argmax(axis=1)
same = int((am_a == am_b).sum())
print(f'{name}: max|diff| {d.max():.2e}  median row {np.median(d):.2e}  argmax {same}/{rows}  max|logit| {np.abs(a).max():.2f}  {note}')
for i in np.nonzero(am_a != am_b)[0]:
    x, y = am_a[i], am_b[i]
    m = a[i, x] - a[i, y]                       # llama.cpp's top-2 margin (y is its runner-up or near it)
    s2 = np.sort(a[i])[::-1]
    print(f'    row {i}: argmax llama.cpp {x} kvserve {y}  llama.cpp top-2 margin {s2[0] - s2[1]:.4f}, {x} over {y} by {m:.4f}'
          f' (kvserve: by {b[i, x] - b[i, y]:.4f})  row max|diff| {d[i]:.3f}'
          f'  {"within" if m <= 2 * d[i] else "BEYOND"} 2 x row max|diff|')
