# Emulates gemm.cu's index arithmetic (loaders, ldmatrix addressing, mma fragments, epilogue) per the PTX ISA.
import numpy as np
GM, GN, GK, GLDS = 128, 64, 32, 40
rng = np.random.default_rng(1)

def ldmatrix_x4(smem, addrs):  # addrs[lane] = element index of row start (8 consecutive 16-bit elems)
    regs = np.zeros((32, 4, 2), dtype=np.float64)
    for q in range(4):
        for lane in range(32):
            r = lane // 4; c = 2 * (lane % 4)
            base = addrs[8 * q + r]
            regs[lane, q, 0] = smem[base + c]; regs[lane, q, 1] = smem[base + c + 1]
    return regs

def mma(c, a, b):  # c[lane][4], a[lane][4][2], b[lane][2][2]
    A = np.zeros((16, 16)); B = np.zeros((16, 8))
    for lane in range(32):
        g, tq = lane // 4, lane % 4
        for i in range(4):
            for j in range(2):
                row = g + 8 * (i % 2); col = tq * 2 + j + 8 * (i // 2)
                A[row, col] = a[lane][i][j]
        for i in range(2):
            for j in range(2):
                B[tq * 2 + j + 8 * i, g] = b[lane][i][j]
    C = A @ B
    for lane in range(32):
        g, tq = lane // 4, lane % 4
        c[lane][0] += C[g, 2 * tq]; c[lane][1] += C[g, 2 * tq + 1]
        c[lane][2] += C[g + 8, 2 * tq]; c[lane][3] += C[g + 8, 2 * tq + 1]

def run(kind, rows, cols, numTokens):
    x = rng.standard_normal((numTokens, cols)).astype(np.float32)
    bias = rng.standard_normal(rows).astype(np.float32)
    nb = cols // 32
    if kind == 'f16':
        Wv = rng.standard_normal((rows, cols)).astype(np.float16).astype(np.float64)
        def loadA(As, m0, kt):
            for tid in range(256):
                for i in range(2):
                    id_ = tid + i * 256; row = id_ >> 2; cc = (id_ & 3) * 8; gr = m0 + row
                    for e in range(8):
                        As[row * GLDS + cc + e] = Wv[min(gr, rows - 1), kt * GK + cc + e] if gr < rows else 0
    elif kind == 'q8':
        qs = rng.integers(-127, 128, (rows, cols)).astype(np.int8)
        d = (rng.random((rows, nb)) * 0.01).astype(np.float16)
        Wv = qs.astype(np.float64) * np.repeat(d.astype(np.float64), 32, axis=1)
        raw = qs.view(np.uint8).reshape(rows, cols)
        def loadA(As, m0, kt):
            for tid in range(256):
                row = tid >> 1; hh = tid & 1; gr = m0 + row
                if gr < rows:
                    b = raw[gr, kt * GK + hh * 16: kt * GK + hh * 16 + 16]
                    words = [int(b[4*k]) | int(b[4*k+1]) << 8 | int(b[4*k+2]) << 16 | int(b[4*k+3]) << 24 for k in range(4)]
                    dd = float(d[gr, kt])
                else:
                    words = [0] * 4; dd = 0.0
                def deq2(word, byte):
                    a = ((word >> (8 * byte)) & 0xff); a = a - 256 if a > 127 else a
                    bb = ((word >> (8 * byte + 8)) & 0xff); bb = bb - 256 if bb > 127 else bb
                    return [np.float16(a * dd), np.float16(bb * dd)]
                vals = []
                for (w_, byte) in [(0, 0), (0, 2), (1, 0), (1, 2), (2, 0), (2, 2), (3, 0), (3, 2)]:
                    vals += deq2(words[w_], byte)
                for e in range(16): As[row * GLDS + hh * 16 + e] = vals[e]
    elif kind == 'q4':
        vals4 = rng.integers(0, 16, (rows, cols))
        d = (rng.random((rows, nb)) * 0.01).astype(np.float16)
        Wv = (vals4 - 8).astype(np.float64) * np.repeat(d.astype(np.float64), 32, axis=1)
        raw = np.zeros((rows, cols // 2), dtype=np.uint8)
        for b in range(nb):
            for j in range(16):
                raw[:, 16 * b + j] = vals4[:, 32 * b + j] | (vals4[:, 32 * b + j + 16] << 4)
        def loadA(As, m0, kt):
            for tid in range(256):
                row = tid >> 1; hh = tid & 1; gr = m0 + row
                if gr < rows:
                    b = raw[gr, kt * 16: kt * 16 + 16]
                    words = [int(b[4*k]) | int(b[4*k+1]) << 8 | int(b[4*k+2]) << 16 | int(b[4*k+3]) << 24 for k in range(4)]
                    dd = float(d[gr, kt])
                else:
                    words = [0x88888888] * 4; dd = 0.0
                sh = hh * 4
                def deq2(word, pair):
                    a = ((word >> (16 * pair + sh)) & 0xf) - 8
                    bb = ((word >> (16 * pair + 8 + sh)) & 0xf) - 8
                    return [np.float16(a * dd), np.float16(bb * dd)]
                vals = []
                for (w_, pair) in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1), (3, 0), (3, 1)]:
                    vals += deq2(words[w_], pair)
                for e in range(16): As[row * GLDS + hh * 16 + e] = vals[e]
    def loadB(Bs, n0, kt):
        for tid in range(256):
            tok = tid >> 2; cc = (tid & 3) * 8; gt = n0 + tok
            for e in range(8):
                Bs[tok * GLDS + cc + e] = np.float16(x[gt, kt * GK + cc + e]) if gt < numTokens else 0
    out = rng.standard_normal((numTokens, rows)).astype(np.float32)
    ref = out.astype(np.float64) + bias + x.astype(np.float16).astype(np.float64) @ Wv.T
    for bx in range((rows + GM - 1) // GM):
        for by in range((numTokens + GN - 1) // GN):
            m0, n0 = bx * GM, by * GN
            acc = {(w, mi, ni): np.zeros((32, 4)) for w in range(8) for mi in range(2) for ni in range(4)}
            for kt in range(cols // GK):
                As = np.zeros(GM * GLDS); Bs = np.zeros(GN * GLDS)
                loadA(As, m0, kt); loadB(Bs, n0, kt)
                for warp in range(8):
                    wm = (warp & 3) * 32; wn = (warp >> 2) * 32
                    for kk in (0, 16):
                        a = {}
                        for mi in range(2):
                            a[mi] = ldmatrix_x4(As, [(wm + mi * 16 + (lane & 15)) * GLDS + kk + (lane >> 4) * 8 for lane in range(32)])
                        b = {}
                        for nj in range(2):
                            r = ldmatrix_x4(Bs, [(wn + nj * 16 + ((lane >> 3) >> 1) * 8 + (lane & 7)) * GLDS + kk + ((lane >> 3) & 1) * 8 for lane in range(32)])
                            b[2 * nj] = [[r[l, 0], r[l, 1]] for l in range(32)]
                            b[2 * nj + 1] = [[r[l, 2], r[l, 3]] for l in range(32)]
                        for mi in range(2):
                            for ni in range(4):
                                mma(acc[(warp, mi, ni)], a[mi], b[ni])
            for warp in range(8):
                wm = (warp & 3) * 32; wn = (warp >> 2) * 32
                for lane in range(32):
                    for mi in range(2):
                        for half in range(2):
                            r = m0 + wm + mi * 16 + (lane >> 2) + half * 8
                            if r >= rows: continue
                            for ni in range(4):
                                for e in range(2):
                                    t = n0 + wn + ni * 8 + (lane & 3) * 2 + e
                                    if t < numTokens:
                                        out[t, r] = out[t, r] + bias[r] + acc[(warp, mi, ni)][lane][half * 2 + e]
    err = np.abs(out - ref).max() / np.abs(ref).max()
    print(kind, rows, cols, numTokens, 'max rel err', err)
    assert err < 1e-3

run('f16', 130, 64, 70)
run('q8', 129, 64, 17)
run('q4', 131, 96, 65)
