# Emulates matvec.cu (block loop, chunk mapping, decoders, dp4a, finish) and quantize_act_q8.
import numpy as np
rng = np.random.default_rng(3)

def quantize_act(x):  # per 32 block, like quantize_act_q8
    nt, cols = x.shape
    xb = x.reshape(-1, 32).astype(np.float32)
    amax = np.abs(xb).max(axis=1)
    d = (amax / np.float32(127)).astype(np.float32)
    idv = np.where(amax > 0, np.float32(127) / np.where(amax > 0, amax, 1), 0).astype(np.float32)
    q = np.clip(np.round(xb * idv[:, None]), -127, 127).astype(np.int8)  # numpy round = half-even; roundf = half-away (rare)
    return q.reshape(nt, cols), d.reshape(nt, cols // 32)

def s8(b): return b - 256 if b > 127 else b

def run(kind, rows, cols, numTokens):
    x = rng.standard_normal((numTokens, cols)).astype(np.float32)
    bias = rng.standard_normal(rows).astype(np.float32)
    out = rng.standard_normal((numTokens, rows)).astype(np.float32)
    nb = cols // 32
    if kind == 'f16':
        W = rng.standard_normal((rows, cols)).astype(np.float16); Wv = W.astype(np.float64)
        raw = W.view(np.uint8).reshape(rows, -1); N = 8
    elif kind == 'q8':
        qs = rng.integers(-127, 128, (rows, cols)).astype(np.int8); d = (rng.random((rows, nb)) * .01).astype(np.float16)
        Wv = qs.astype(np.float64) * np.repeat(d.astype(np.float64), 32, 1); raw = qs.view(np.uint8); COLS, NW = 16, 4
    else:
        v4 = rng.integers(0, 16, (rows, cols)); d = (rng.random((rows, nb)) * .01).astype(np.float16)
        Wv = (v4 - 8).astype(np.float64) * np.repeat(d.astype(np.float64), 32, 1)
        raw = np.zeros((rows, cols // 2), np.uint8)
        for b in range(nb):
            for j in range(16): raw[:, 16 * b + j] = v4[:, 32 * b + j] | (v4[:, 32 * b + j + 16] << 4)
        COLS, NW = 32, 8
    xq, xd = quantize_act(x)
    xqv = xq.view(np.uint8)
    quant = kind != 'f16'
    ref = out.astype(np.float64) + bias + (x.astype(np.float64) @ Wv.T if not quant else
          (xq.astype(np.float64) * np.repeat(xd, 32, 1)) @ Wv.T)
    numChunks = cols // (N if not quant else COLS)
    for bx in range((rows + 3) // 4):
        for by in range((numTokens + 7) // 8):
            r0, t0 = bx * 4, by * 8; nr = min(4, rows - r0); nt = min(8, numTokens - t0)
            red = np.zeros((4, 4, 8))
            for warp in range(4):
                for lane in range(32):
                    acc = np.zeros((4, 8))
                    chunk = warp * 32 + lane
                    while chunk < numChunks:
                        for rr in range(4):
                            row = r0 + min(rr, nr - 1)
                            u = raw[row, chunk * 16: chunk * 16 + 16] if rr < nr else np.zeros(16, np.uint8)
                            words = [int(u[4*k]) | int(u[4*k+1]) << 8 | int(u[4*k+2]) << 16 | int(u[4*k+3]) << 24 for k in range(4)]
                            if not quant:
                                f = np.frombuffer(bytes(u), dtype=np.float16).astype(np.float64)
                                c = chunk * N
                                for t in range(nt):
                                    acc[rr][t] += (f * x[t0 + t, c:c + N]).sum()
                            else:
                                if kind == 'q8':
                                    q = [[s8((w >> (8 * j)) & 0xff) for j in range(4)] for w in words]
                                else:
                                    q = [[((w >> (8 * j)) & 0xf) - 8 for j in range(4)] for w in words] + \
                                        [[((w >> (8 * j + 4)) & 0xf) - 8 for j in range(4)] for w in words]
                                c0 = chunk * COLS; b = c0 // 32
                                dw = float(d[row, b])
                                for t in range(nt):
                                    a = xq[t0 + t, c0:c0 + COLS]
                                    s = sum(q[k][j] * int(a[4 * k + j]) for k in range(NW) for j in range(4))
                                    acc[rr][t] += s * (dw * float(xd[t0 + t, b]))
                        chunk += 128
                    for rr in range(4):
                        for t in range(8): red[warp][rr][t] += acc[rr][t]
            for tid in range(32):
                rr, t = tid // 8, tid % 8
                if rr < nr and t < nt:
                    r = r0 + rr
                    out[t0 + t, r] = out[t0 + t, r] + bias[r] + red[:, rr, t].sum()
    err = np.abs(out - ref).max() / np.abs(ref).max()
    print(kind, rows, cols, numTokens, 'rel err', err); assert err < 1e-5

run('f16', 7, 96, 3)
run('f16', 9, 2080, 10)
run('q8', 6, 4128, 9)
run('q4', 5, 4160, 2)
