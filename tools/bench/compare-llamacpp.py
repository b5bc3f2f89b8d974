#!/usr/bin/env python3
"""kvserve's engine against llama.cpp on the same GGUF files, run interleaved on this machine.

    LLAMA_CPP_DIR=/path/to/llama.cpp tools/bench/compare-llamacpp.py [--rounds 3] [--threads 2] MODEL.gguf ...

For every model and round it runs, one after the other:
  kvserve:   bin/kvserve bench -m MODEL -t T -p 512 -n 128 -r 2 --batch 0 --json
  llama.cpp: llama-bench -m MODEL -t T -p 512 -n 128 -r 2 -o json
and, with --batched, kvserve's `--batch 1,4,16 -p 0` against `llama-batched-bench -npp 32 -ntg 128
-npl 1,4,16` (aggregate decode tokens/s, S_TG). Each process runs under /usr/bin/time for its peak
RSS. Prints the median over rounds of each figure and the kvserve/llama.cpp ratio, as Markdown.
It builds nothing: LLAMA_CPP_DIR must hold a llama.cpp you built (build/bin/llama-bench).
"""
import argparse, json, os, re, statistics, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def timed(cmd):
    """Runs cmd under /usr/bin/time; returns (stdout, peak RSS in MiB)."""
    p = subprocess.run(["/usr/bin/time", "-f", "MAXRSS_KB %M"] + cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-2000:]}")
    rss = int(re.search(r"MAXRSS_KB (\d+)", p.stderr).group(1)) / 1024
    return p.stdout, rss


def kvserve(model, threads, batched):
    args = [os.path.join(ROOT, "bin", "kvserve"), "bench", "-m", model, "-t", str(threads), "--json"]
    args += ["-p", "0", "-n", "128", "-r", "2", "--batch", "1,4,16"] if batched else \
            ["-p", "512", "-n", "128", "-r", "2", "--batch", "0"]
    out, rss = timed(args)
    data = json.loads(out[out.index("{"):])
    figures = {r["test"].replace(" x", "/x"): r["avg_ts"] for r in data["results"]}
    return figures, rss


def llamacpp(model, threads, batched, bin_dir):
    if batched:
        out, rss = timed([os.path.join(bin_dir, "llama-batched-bench"), "-m", model, "-t", str(threads),
                          "-npp", "32", "-ntg", "128", "-npl", "1,4,16", "-c", "4096"])
        figures = {}
        for line in out.splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 10 and cells[0].isdigit():
                figures[f"tg128/x{cells[2]}"] = float(cells[7])
        return figures, rss
    out, rss = timed([os.path.join(bin_dir, "llama-bench"), "-m", model, "-t", str(threads), "-p", "512", "-n", "128",
                      "-r", "2", "-o", "json"])
    figures = {}
    for r in json.loads(out):
        figures["pp512" if r["n_prompt"] > 0 else "tg128"] = r["avg_ts"]
    return figures, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="+")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batched", action="store_true", help="batched decode (1, 4, 16 sequences) instead of pp512/tg128")
    a = ap.parse_args()
    bin_dir = os.path.join(os.environ.get("LLAMA_CPP_DIR") or sys.exit("set LLAMA_CPP_DIR"), "build", "bin")
    print(f"| model | test | kvserve t/s | llama.cpp t/s | ratio | kvserve RSS MiB | llama.cpp RSS MiB |")
    print(f"|---|---|---|---|---|---|---|")
    for model in a.models:
        runs = {"kv": [], "ll": []}
        for _ in range(a.rounds):  # interleaved
            runs["kv"].append(kvserve(model, a.threads, a.batched))
            runs["ll"].append(llamacpp(model, a.threads, a.batched, bin_dir))
        kv_rss = statistics.median(r for _, r in runs["kv"])
        ll_rss = statistics.median(r for _, r in runs["ll"])
        for test in runs["ll"][0][0]:
            kv = statistics.median(f[test] for f, _ in runs["kv"])
            ll = statistics.median(f[test] for f, _ in runs["ll"])
            print(f"| {os.path.basename(model)} | {test} | {kv:.1f} | {ll:.1f} | {kv / ll:.2f} | {kv_rss:.0f} | {ll_rss:.0f} |",
                  flush=True)


if __name__ == "__main__":
    main()
