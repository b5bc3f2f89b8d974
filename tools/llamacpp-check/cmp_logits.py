# cmp_logits.py REF.f64 LLAMA.f32 NAME
# REF: float64 rows from ref_hf.py; LLAMA: float32 rows from `logits --tokens`; same row count, n_vocab from the sizes.
# Prints max|diff| per row, both argmaxes, and a summary line.
import sys, numpy as np
ref = np.fromfile(sys.argv[1], '<f8'); g = np.fromfile(sys.argv[2], '<f4').astype(np.float64); name = sys.argv[3]
if ref.size != g.size: sys.exit(f'{name}: sizes differ ({ref.size} vs {g.size} values)')
rows = int(sys.argv[4]) if len(sys.argv) > 4 else 8
ref = ref.reshape(rows, -1); g = g.reshape(rows, -1)
agree = 0
for i in range(rows):
    d = np.abs(ref[i] - g[i]).max(); a, b = int(ref[i].argmax()), int(g[i].argmax()); agree += a == b
    print(f'  row {i}: max|diff| {d:.2e}  max|logit| {np.abs(ref[i]).max():.3f}  argmax ref {a} llama.cpp {b}  {"same" if a == b else "DIFFERENT"}')
print(f'{name}: max|diff| {np.abs(ref - g).max():.2e} over {rows} rows x {ref.shape[1]} logits, argmax agrees {agree}/{rows}')
