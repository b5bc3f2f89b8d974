# Emulates attention.cu's paged_attention (phase by phase, thread by thread) + paged_attention_reduce.
import numpy as np, math
rng = np.random.default_rng(2)
AT_THREADS, AT_WARPS, AT_TP, AT_GC = 128, 4, 32, 8

def run(numTokens, numHeads, numKvHeads, hd, bs, splitSize, numSplits, positions, tokenSeqs, dtype):
    numBlocks = 64
    kC = rng.standard_normal((numBlocks, numKvHeads, bs, hd)).astype(dtype).reshape(-1)
    vC = rng.standard_normal((numBlocks, numKvHeads, bs, hd)).astype(dtype).reshape(-1)
    nseq = max(tokenSeqs) + 1
    stride = 40
    tables = np.array([rng.permutation(numBlocks)[:stride] for _ in range(nseq)], dtype=np.int64)
    qkvStride = (numHeads + 2 * numKvHeads) * hd + 3; qOffset = 3
    qkv = rng.standard_normal((numTokens, qkvStride)).astype(np.float32)
    scale = 1 / math.sqrt(hd)
    pAcc = np.full(numTokens * numHeads * numSplits * hd, np.nan); pMS = np.full(numTokens * numHeads * numSplits * 2, np.nan)
    G = numHeads // numKvHeads
    for t in range(numTokens):
        for kvh in range(numKvHeads):
            for z in range(numSplits):
                pos = positions[t]; start = z * splitSize
                end = start if pos < 0 else min(start + splitSize, pos + 1)
                outBase = t * numHeads + kvh * G
                if start >= end:
                    for idx in range(G * hd):
                        g, i = idx // hd, idx % hd
                        pAcc[((outBase + g) * numSplits + z) * hd + i] = 0
                    for g in range(G):
                        pMS[((outBase + g) * numSplits + z) * 2] = -np.inf; pMS[((outBase + g) * numSplits + z) * 2 + 1] = 0
                    continue
                table = tables[tokenSeqs[t]]
                rowOffset = lambda p: ((int(table[p // bs]) * numKvHeads + kvh) * bs + p % bs) * hd
                qrow = qOffset + kvh * G * hd
                dq = hd // AT_WARPS; rowThreads = hd // 4; groups = AT_THREADS // rowThreads
                for g0 in range(0, G, AT_GC):
                    gc = min(AT_GC, G - g0)
                    qs = np.zeros((AT_GC, 256))
                    for idx in range(gc * hd):
                        g, i = idx // hd, idx % hd
                        qs[g][i] = np.float32(scale) * qkv[t, qrow + (g0 + g) * hd + i]
                    rowOff = [[None] * 32, [None] * 32]
                    for tid in range(32):
                        if start + tid < end: rowOff[0][tid] = rowOffset(start + tid)
                    mrun = {w: [-np.inf, -np.inf] for w in range(4)}; srun = {w: [0.0, 0.0] for w in range(4)}
                    acc = {tid: np.zeros((AT_GC, 4)) for tid in range(128)}
                    p0 = start; it = 0
                    kvoff = [rowOff[0][l] if l < min(AT_TP, end - start) else None for l in range(32)]  # prefetched K rows
                    while p0 < end:
                        cur = it & 1; n = min(AT_TP, end - p0); off = list(rowOff[cur])
                        for tid in range(32):
                            if p0 + AT_TP + tid < end: rowOff[cur ^ 1][tid] = rowOffset(p0 + AT_TP + tid)
                        part = np.zeros((4, AT_GC, 32))
                        for tid in range(128):
                            lane, warp = tid & 31, tid >> 5; d0 = warp * dq
                            sc = np.zeros(AT_GC)
                            if lane < n:
                                assert kvoff[lane] == off[lane], ('prefetched K row mismatch', lane)
                                base = kvoff[lane] + d0
                                for d in range(dq):
                                    for g in range(gc): sc[g] += qs[g][d0 + d] * float(kC[base + d])
                            for g in range(gc): part[warp][g][lane] = sc[g]
                        nn = min(AT_TP, end - (p0 + AT_TP))
                        kvoff = [rowOff[cur ^ 1][l] if l < nn else None for l in range(32)]
                        ps = np.zeros((AT_GC, 32)); corr = np.zeros(AT_GC)
                        for warp in range(4):
                            for j in range(2):
                                g = warp + 4 * j
                                if g < gc:
                                    s = np.array([part[:, g, l].sum() if l < n else -np.inf for l in range(32)])
                                    mnew = max(mrun[warp][j], s.max())
                                    e = np.array([math.exp(s[l] - mnew) if l < n else 0 for l in range(32)])
                                    c = math.exp(mrun[warp][j] - mnew) if mrun[warp][j] != -np.inf else 0.0
                                    mrun[warp][j] = mnew; srun[warp][j] = srun[warp][j] * c + e.sum()
                                    ps[g] = e; corr[g] = c
                        for tid in range(128):
                            grp = tid // rowThreads; j4 = (tid - grp * rowThreads) * 4
                            if grp >= groups: continue
                            acc[tid][:gc] *= corr[:gc, None]
                            l = grp
                            while l < n:
                                v = vC[off[l] + j4: off[l] + j4 + 4].astype(np.float64)
                                acc[tid][:gc] += ps[:gc, l][:, None] * v[None, :]
                                l += groups
                        p0 += AT_TP; it += 1
                    red = np.zeros(AT_GC * 4 * AT_THREADS)
                    for tid in range(128):
                        grp = tid // rowThreads; j4 = (tid - grp * rowThreads) * 4
                        if grp >= groups: continue
                        for g in range(gc):
                            for k in range(4): red[(grp * AT_GC + g) * hd + j4 + k] = acc[tid][g][k]
                    for idx in range(gc * hd):
                        g, i = idx // hd, idx % hd
                        pAcc[((outBase + g0 + g) * numSplits + z) * hd + i] = sum(red[(q * AT_GC + g) * hd + i] for q in range(groups))
                    for warp in range(4):
                        for j in range(2):
                            g = warp + 4 * j
                            if g < gc:
                                pMS[((outBase + g0 + g) * numSplits + z) * 2] = mrun[warp][j]
                                pMS[((outBase + g0 + g) * numSplits + z) * 2 + 1] = srun[warp][j]
    assert not np.isnan(pAcc).any() and not np.isnan(pMS).any()
    # reduce
    out = np.zeros((numTokens, numHeads * hd))
    for t in range(numTokens):
        for h in range(numHeads):
            base = (t * numHeads + h) * numSplits
            M = max(pMS[(base + z) * 2] for z in range(numSplits))
            for i in range(hd):
                if M == -np.inf: out[t, h * hd + i] = 0; continue
                num = den = 0.0
                for z in range(numSplits):
                    m = pMS[(base + z) * 2]
                    if m == -np.inf: continue
                    w = math.exp(m - M); num += w * pAcc[(base + z) * hd + i]; den += w * pMS[(base + z) * 2 + 1]
                out[t, h * hd + i] = num / den
    # CPU reference (ScalarTensorOps.attention)
    ref = np.zeros_like(out)
    for t in range(numTokens):
        if positions[t] < 0: continue
        table = tables[tokenSeqs[t]]
        for h in range(numHeads):
            kvh = h // G
            q = qkv[t, qOffset + h * hd: qOffset + (h + 1) * hd].astype(np.float64)
            ks = []; vs = []
            for j in range(positions[t] + 1):
                o = ((int(table[j // bs]) * numKvHeads + kvh) * bs + j % bs) * hd
                ks.append(kC[o:o + hd].astype(np.float64)); vs.append(vC[o:o + hd].astype(np.float64))
            s = np.array(ks) @ q * scale; p = np.exp(s - s.max()); p /= p.sum()
            ref[t, h * hd:(h + 1) * hd] = p @ np.array(vs)
    err = np.abs(out - ref).max()
    print(numHeads, numKvHeads, hd, bs, splitSize, numSplits, positions, 'max abs err', err)
    assert err < 1e-4

run(3, 12, 1, 96, 16, 48, 3, [100, -1, 5], [0, 1, 1], np.float16)
run(2, 8, 2, 128, 32, 64, 2, [70, 127], [1, 0], np.float32)
run(1, 4, 4, 32, 8, 40, 2, [79], [0], np.float16)
