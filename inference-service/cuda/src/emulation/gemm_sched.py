# Tag-level emulation of gemm.cu's pipeline schedule: which tile each stage holds when the MMAs read it.
def run(nk, async_a):
    As = [None] * 3; Bs = [None] * 2; regsA = [None] * 2; regsB = [None] * 2
    pending = []; cur = []
    readers = {}  # stage -> tile last computed (to check a write never hits a stage whose tile is not yet computed)
    computed = set()
    def write(kind, stage, tile):
        arr = As if kind == 'A' else Bs
        old = arr[stage]
        assert old is None or old in computed, f"{kind}{stage} overwritten (tile {old} -> {tile}) before its MMAs"
        arr[stage] = tile
    def loadTile(s, kt):
        if async_a:
            assert As[kt % 3] is None or As[kt % 3] in computed, 'cp.async may land before the MMAs of the old tile'
            assert all(st != kt % 3 for g in pending for (_, st, _) in g), 'two pending copies into one stage'
            cur.append(('A', kt % 3, kt))
        else: regsA[s] = kt
        regsB[s] = kt
    def storeTile(s, kt):
        if not async_a:
            assert regsA[s] == kt; write('A', kt % 3, kt)
        assert regsB[s] == kt; write('B', kt & 1, kt)
    def commit():
        nonlocal cur
        pending.append(cur); cur = []
    def wait_group(n):
        while len(pending) > n:
            for (k, st, t) in pending.pop(0): write(k, st, t)
    done_since_barrier = []
    def barrier():
        computed.update(done_since_barrier); done_since_barrier.clear()
    loadTile(0, 0); commit(); storeTile(0, 0)
    if nk > 1: loadTile(1, 1)
    commit(); wait_group(1); barrier()
    def iteration(s, kt):
        assert s == kt % 2
        if kt + 2 < nk: loadTile(s, kt + 2)
        commit()
        assert As[kt % 3] == kt and Bs[kt & 1] == kt, (kt, As, Bs)
        done_since_barrier.append(kt)
        if kt + 1 < nk: storeTile(s ^ 1, kt + 1)
        wait_group(1); barrier()
    kt = 0
    while kt < nk:
        iteration(0, kt)
        if kt + 1 < nk: iteration(1, kt + 1)
        kt += 2
    assert computed == set(range(nk))
for nk in range(1, 12):
    for a in (True, False): run(nk, a)
print("schedule ok")
