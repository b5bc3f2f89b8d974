#!/usr/bin/env bash
# kvserve against llama.cpp: the comparisons behind the figures in docs/model-files.md and docs/tokenizers.md.
#
#   tools/llamacpp-check/check.sh build-tools   compile logits.cpp and tokenize_lines.cpp against $LLAMA_CPP_DIR
#   tools/llamacpp-check/check.sh load          every preset x type GGUF from the generator loads and decodes in llama.cpp
#   tools/llamacpp-check/check.sh tokens        kvserve ids vs llama_tokenize ids, adversarial strings and a 20 MiB text
#   tools/llamacpp-check/check.sh same-model    safetensors (float64 NumPy reference) vs GGUF (llama.cpp) logits
#   tools/llamacpp-check/check.sh quant         the generator's quantized tensors vs llama-quantize --pure, and back
#   tools/llamacpp-check/check.sh all           all of them in order
#   tools/llamacpp-check/check.sh engine [PRESET:TYPE ...]
#                                               kvserve's CPU engine logits vs llama.cpp's on the same GGUF file
#                                               (default: the matrix in inference-service/engine/README.md)
#   tools/llamacpp-check/check.sh engine-kv     llama.cpp's own --kv f16 vs --kv f32 on tiny f32, for scale
#
# Environment:
#   LLAMA_CPP_DIR     a llama.cpp checkout you built (CPU): include/, ggml/include/, build/bin/ with libllama
#                     and llama-quantize. These scripts do not build it.
#   KVSERVE_CHECK_DIR work folder for generated models and outputs (default /tmp/kvserve-llamacpp-check)
#   PYTHON            a python3 with numpy (default python3); `quant` also needs tqdm, for llama.cpp's gguf-py
#   JAVA_HOME         a JDK 25 (default: what bin/kvserve finds)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
tgt="$here/target"
work=${KVSERVE_CHECK_DIR:-/tmp/kvserve-llamacpp-check}
py=${PYTHON:-python3}
ids8=1,20,300,400,500,600,700,800   # teacher-forced ids for same-model (valid in every preset's vocabulary)

die() { echo "check.sh: $*" >&2; exit 1; }

need_llama() {
  [ -n "${LLAMA_CPP_DIR:-}" ] || die "set LLAMA_CPP_DIR to a llama.cpp checkout you built (CPU)"
  [ -f "$LLAMA_CPP_DIR/include/llama.h" ] || die "no include/llama.h under LLAMA_CPP_DIR=$LLAMA_CPP_DIR"
  ls "$LLAMA_CPP_DIR"/build/bin/libllama.* >/dev/null 2>&1 || die "no build/bin/libllama.* under LLAMA_CPP_DIR=$LLAMA_CPP_DIR"
}
need_tools() {
  [ -x "$tgt/logits" ] && [ -x "$tgt/tokenize_lines" ] || die "run '$0 build-tools' first"
}
llama_commit() { git -C "$LLAMA_CPP_DIR" rev-parse HEAD 2>/dev/null || echo unknown; }

kvserve() { "$root/bin/kvserve" "$@"; }
gen() { # PRESET TYPE FORMAT OUT: (re)generate with seed 0
  rm -rf "$4"
  kvserve model generate --preset "$1" --type "$2" --format "$3" --seed 0 -o "$4" >/dev/null
}
java_cp() {
  kvserve model presets >/dev/null          # builds kvserve if stale
  # shellcheck source=../../bin/lib/jdk.sh
  . "$root/bin/lib/jdk.sh"
  JAVA_HOME=$(find_jdk) || die "no JDK 25 found; set JAVA_HOME"
  CP="$root/cli/target/classes:$(cat "$root/cli/target/classpath.txt")"
}
kvtok() { "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xmx4g -cp "$CP" "$here/KvTok.java" "$@"; }
readback() { # NAME LLAMA_FILE [TENSOR ...]: kvserve's dequantization of a llama-quantize file vs gguf-py's
  local name=$1 f=$2; shift 2
  rm -rf "$work/quant/deq"; mkdir -p "$work/quant/deq"
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xmx4g -cp "$CP" "$here/KvDequant.java" "$f" "$work/quant/deq" "$@"
  "$py" "$here/cmp_dequant.py" "$name" "$f" "$work/quant/deq"
  rm -rf "$work/quant/deq"
}

cmd_build_tools() {
  need_llama
  mkdir -p "$tgt"
  local src
  for src in logits tokenize_lines; do
    g++ -O2 -std=c++17 -Wall -Wextra -I"$LLAMA_CPP_DIR/include" -I"$LLAMA_CPP_DIR/ggml/include" \
      "$here/$src.cpp" -o "$tgt/$src" \
      -L"$LLAMA_CPP_DIR/build/bin" -lllama -lggml -lggml-base -Wl,-rpath,"$LLAMA_CPP_DIR/build/bin"
    echo "built $tgt/$src"
  done
  echo "llama.cpp commit $(llama_commit)"
}

cmd_load() {
  need_llama; need_tools
  local d="$work/load" ok=0 all=0 p t f log
  mkdir -p "$d"
  echo "llama.cpp commit $(llama_commit); files in $d"
  local files=()
  for p in tiny tiny-qwen2 tiny-spm; do
    for t in f32 f16 bf16 q8_0 q4_0 q4_k q6_k; do files+=("$p:$t"); done
  done
  files+=(smollm2-135m:q8_0 qwen2.5-0.5b:q8_0 llama-3.2-1b:q4_0)
  for pt in "${files[@]}"; do
    p=${pt%%:*}; t=${pt#*:}; f="$d/$p-$t.gguf"; all=$((all + 1))
    gen "$p" "$t" gguf "$f"
    # load (logits --info, with llama.cpp's log), then one decode of 4 ids whose logits must be finite
    log=$("$tgt/logits" -m "$f" --info 2>&1) || { echo "FAIL load   $p $t"; echo "$log" | tail -5; continue; }
    local warns info
    warns=$(echo "$log" | grep -c "^llama.cpp warning:" || true)
    info=$(echo "$log" | grep -E '^n_vocab=' | cut -d' ' -f1-2)
    if ! "$tgt/logits" -m "$f" --tokens 1,2,3,4 -o "$d/out.f32" >/dev/null 2>&1 ||
       ! "$py" -c 'import sys, numpy as np; a = np.fromfile(sys.argv[1], "<f4"); sys.exit(0 if a.size and np.isfinite(a).all() else 1)' "$d/out.f32"; then
      echo "FAIL decode $p $t"; continue
    fi
    echo "OK   $p $t  ($info, llama.cpp log warnings $warns)"
    ok=$((ok + 1))
    rm -f "$f"
  done
  rm -f "$d/out.f32"
  echo "load: $ok/$all files load and decode in llama.cpp"
}

cmd_tokens() {
  need_llama; need_tools; java_cp
  local d="$work/tokens" fam p t f
  mkdir -p "$d"
  echo "llama.cpp commit $(llama_commit); files in $d"
  "$py" "$here/gen_strings.py" "$d/strings.hex" 2>/dev/null
  for fam in tiny:tiny:f32 tiny-spm:tiny-spm:f32 smollm2:smollm2-135m:q8_0 qwen2.5:qwen2.5-0.5b:q8_0 llama-3.2:llama-3.2-1b:q4_0; do
    IFS=: read -r fam p t <<<"$fam"
    f="$d/$p-$t.gguf"
    gen "$p" "$t" gguf "$f"
    "$tgt/tokenize_lines" "$f" < "$d/strings.hex" > "$d/$fam.llama.ids"
    kvtok lines "$f" "$d/strings.hex" > "$d/$fam.kvserve.ids"
    "$py" "$here/cmp_tokens.py" "$d/strings.hex" "$d/$fam.llama.ids" "$d/$fam.kvserve.ids" "$fam"
  done
  # one large text, encoded whole by both (the bench-tokenizer text: SyntheticText.mixed(20 MiB, seed 2024))
  kvtok text "$d/text.txt" 20 2024
  echo "whole text: $(wc -c < "$d/text.txt") bytes"
  for fam in smollm2:smollm2-135m:q8_0 qwen2.5:qwen2.5-0.5b:q8_0 llama-3.2:llama-3.2-1b:q4_0; do
    IFS=: read -r fam p t <<<"$fam"
    f="$d/$p-$t.gguf"
    local t0 t1
    t0=$(date +%s.%N)
    "$tgt/logits" -m "$f" --text-file "$d/text.txt" > "$d/$fam.text.ids"
    t1=$(date +%s.%N)
    echo "$fam: llama.cpp tokenize $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s (one process: load vocabulary, read, tokenize, print ids)"
    kvtok whole "$f" "$d/text.txt" "$d/$fam.text.ids"
    rm -f "$d/$fam.text.ids"
  done
  rm -f "$d"/*.gguf "$d/text.txt"
}

cmd_same_model() {
  need_llama; need_tools
  [ -x "$LLAMA_CPP_DIR/build/bin/llama-quantize" ] || die "no build/bin/llama-quantize under LLAMA_CPP_DIR"
  local d="$work/same-model" p t g h x
  mkdir -p "$d"
  echo "llama.cpp commit $(llama_commit); files in $d; ids $ids8; llama.cpp with --kv f32 --fa off, 2 threads"
  for pt in smollm2-135m:f32 tiny-qwen2:f32 qwen2.5-0.5b:bf16 llama-3.2-1b:bf16; do
    p=${pt%%:*}; t=${pt#*:}; g="$d/$p-$t.gguf"; h="$d/$p-$t-hf"; x="$g"
    gen "$p" "$t" gguf "$g"
    gen "$p" "$t" safetensors "$h"
    if [ "$t" != f32 ]; then
      # llama.cpp computes activations of a BF16 model in BF16; widen the weights to F32 (exact) first
      x="$d/$p-$t-as-f32.gguf"
      "$LLAMA_CPP_DIR/build/bin/llama-quantize" "$g" "$x" F32 >/dev/null 2>&1 || die "llama-quantize failed on $g"
      rm -f "$g"
    fi
    "$tgt/logits" -m "$x" --tokens "$ids8" -o "$d/llama.f32" --kv f32 --fa off >/dev/null 2>"$d/logits.log" ||
      { cat "$d/logits.log" >&2; die "logits failed on $x"; }
    "$py" "$here/ref_hf.py" "$h" "$ids8" "$d/ref.f64" 2>/dev/null
    "$py" "$here/cmp_logits.py" "$d/ref.f64" "$d/llama.f32" "$p $t"
    case "$p" in
      smollm2-135m) # sensitivity: the reference with interleaved-pair RoPE must disagree
        "$py" "$here/ref_hf.py" "$h" "$ids8" "$d/ref.f64" wrongrope 2>/dev/null
        "$py" "$here/cmp_logits.py" "$d/ref.f64" "$d/llama.f32" "$p $t, reference with wrong RoPE layout" | tail -1 ;;
      llama-3.2-1b) # sensitivity: the reference without llama3 RoPE scaling must disagree
        "$py" "$here/ref_hf.py" "$h" "$ids8" "$d/ref.f64" noscale 2>/dev/null
        "$py" "$here/cmp_logits.py" "$d/ref.f64" "$d/llama.f32" "$p $t, reference without llama3 scaling" | sed -n '1,2p;$p' ;;
    esac
    rm -rf "$g" "$x" "$h" "$d/llama.f32" "$d/ref.f64" "$d/logits.log"
  done
}

cmd_quant() {
  need_llama; java_cp
  local q="$LLAMA_CPP_DIR/build/bin/llama-quantize" d="$work/quant" t T
  [ -x "$q" ] || die "no build/bin/llama-quantize under LLAMA_CPP_DIR"
  mkdir -p "$d"
  export PYTHONPATH="$LLAMA_CPP_DIR/gguf-py${PYTHONPATH:+:$PYTHONPATH}"
  echo "llama.cpp commit $(llama_commit); files in $d"
  # Q8_0, Q4_0, F16, BF16: every matrix should be byte-identical to llama-quantize --pure of the F32 file.
  # Each llama-quantize file is also read back by kvserve and compared with gguf-py's dequantization.
  gen tiny f32 gguf "$d/tiny-f32.gguf"
  for t in q8_0 q4_0 f16 bf16; do
    T=$(echo "$t" | tr a-z A-Z)
    gen tiny "$t" gguf "$d/tiny-$t.gguf"
    "$q" --pure "$d/tiny-f32.gguf" "$d/tiny-$T-llama.gguf" "$T" 2 >/dev/null 2>&1 || die "llama-quantize $T failed"
    "$py" "$here/cmp_quant.py" "tiny $t" "$d/tiny-$t.gguf" "$d/tiny-$T-llama.gguf" "$d/tiny-f32.gguf"
    readback "tiny $T" "$d/tiny-$T-llama.gguf"
  done
  # Q4_K, Q6_K: a different (min/max) quantizer, so compare the error against the F32 values instead
  gen llama-3.2-1b f32 gguf "$d/l1b-f32.gguf"
  for t in q4_k q6_k; do
    T=$(echo "$t" | tr a-z A-Z)
    gen llama-3.2-1b "$t" gguf "$d/l1b-$t.gguf"
    "$q" --pure "$d/l1b-f32.gguf" "$d/l1b-$T-llama.gguf" "$T" 2 >/dev/null 2>&1 || die "llama-quantize $T failed"
    "$py" "$here/cmp_quant.py" "llama-3.2-1b $t" "$d/l1b-$t.gguf" "$d/l1b-$T-llama.gguf" "$d/l1b-f32.gguf" \
      blk.0.attn_k.weight blk.0.attn_v.weight blk.3.ffn_down.weight blk.15.attn_q.weight
    readback "llama-3.2-1b $T" "$d/l1b-$T-llama.gguf" blk.0.attn_k.weight blk.0.attn_v.weight blk.3.ffn_down.weight blk.15.attn_q.weight
    rm -f "$d/l1b-$t.gguf" "$d/l1b-$T-llama.gguf"
  done
  rm -f "$d"/*.gguf
}

# kvserve's engine against llama.cpp on one GGUF file: 12 prompt ids, then 8 greedy tokens, every logits row.
# Where the greedy ids differ, kvserve is run again teacher-forced along llama.cpp's 20 ids, so that every
# compared row has the same tokens before it on both sides.
prompt12=1,5,9,100,305,310,512,7,1000,42,77,900
engine_default=(tiny:f32 tiny:f16 tiny:bf16 tiny:q8_0 tiny:q4_0
  tiny-qwen2:f32 tiny-qwen2:f16 tiny-qwen2:bf16 tiny-qwen2:q8_0 tiny-qwen2:q4_0
  tiny-spm:f32 tiny-spm:f16 tiny-spm:bf16 tiny-spm:q8_0 tiny-spm:q4_0
  smollm2-135m:f32 smollm2-135m:f16 smollm2-135m:bf16 smollm2-135m:q8_0 smollm2-135m:q4_0
  llama-3.2-1b:q4_k llama-3.2-1b:q6_k llama-3.2-1b:q4_0 llama-3.2-1b:q8_0)
cmd_engine() {
  need_llama; need_tools
  local d="$work/engine" p t f gl gk types
  mkdir -p "$d"
  echo "llama.cpp commit $(llama_commit); files in $d; prompt $prompt12 + 8 greedy; llama.cpp --kv f32 --fa off, 2 threads"
  local list=("$@"); [ ${#list[@]} -gt 0 ] || list=("${engine_default[@]}")
  for pt in "${list[@]}"; do
    p=${pt%%:*}; t=${pt#*:}; f="$d/$p-$t.gguf"
    rm -f "$f"
    kvserve model generate --preset "$p" --type "$t" --seed 11 -o "$f" 2>&1 >/dev/null | grep -v '^WARNING: Using incubator' >&2 || true
    types=$(kvserve model inspect "$f" 2>/dev/null | sed -n '1s/.*tensors //p')
    gl=$("$tgt/logits" -m "$f" --tokens "$prompt12" -o "$d/llama.f32" --kv f32 --fa off -t 2 --gen 8 2>"$d/logits.log" | sed -n 's/^gen: //p') ||
      { cat "$d/logits.log" >&2; die "logits failed on $f"; }
    gk=$(kvserve generate --model "$f" --prompt-ids "$prompt12" --max-tokens 8 --temperature 0 --threads 2 \
           --dump-logits "$d/kvserve.f32" --json 2>/dev/null | "$py" -c 'import sys, json; print(",".join(map(str, json.load(sys.stdin)["output_ids"])))')
    if [ "$gl" = "$gk" ]; then
      "$py" "$here/cmp_engine.py" "$d/llama.f32" "$d/kvserve.f32" "$p $t $types" 20 "generated ids identical ($gl)"
    else
      kvserve generate --model "$f" --prompt-ids "$prompt12,$gl" --max-tokens 1 --temperature 0 --threads 2 \
        --dump-logits "$d/kvserve.f32" >/dev/null 2>&1
      "$py" "$here/cmp_engine.py" "$d/llama.f32" "$d/kvserve.f32" "$p $t $types" 20 \
        "generated ids differ (llama.cpp $gl, kvserve $gk); rows teacher-forced along llama.cpp's ids"
    fi
    if [ "$t" != f32 ]; then
      # the same weights widened to F32 by llama-quantize (exact): llama.cpp then takes float activations, as
      # kvserve does, so what is left is the two engines' float arithmetic; along the same 20 ids
      "$LLAMA_CPP_DIR/build/bin/llama-quantize" --allow-requantize --pure "$f" "$d/wide.gguf" F32 >/dev/null 2>&1 ||
        die "llama-quantize F32 failed on $f"
      rm -f "$f"
      "$tgt/logits" -m "$d/wide.gguf" --tokens "$prompt12,$gl" -o "$d/llama.f32" --kv f32 --fa off -t 2 >/dev/null 2>&1 ||
        die "logits failed on $d/wide.gguf"
      "$py" "$here/cmp_engine.py" "$d/llama.f32" "$d/kvserve.f32" "  same file widened to F32 by llama-quantize, llama.cpp on it vs kvserve" 20
    fi
    rm -f "$f" "$d/wide.gguf" "$d/llama.f32" "$d/kvserve.f32" "$d/logits.log"
  done
}
# llama.cpp's own F16 KV cache error, for scale: --kv f16 against --kv f32, both llama.cpp, teacher-forced
cmd_engine_kv() {
  need_llama; need_tools
  local d="$work/engine" f gl
  mkdir -p "$d"; f="$d/tiny-f32.gguf"
  kvserve model generate --preset tiny --type f32 --seed 11 -o "$f" 2>&1 >/dev/null | grep -v '^WARNING: Using incubator' >&2 || true
  gl=$("$tgt/logits" -m "$f" --tokens "$prompt12" -o "$d/kv32.f32" --kv f32 --fa off -t 2 --gen 8 2>/dev/null | sed -n 's/^gen: //p')
  "$tgt/logits" -m "$f" --tokens "$prompt12,$gl" -o "$d/kv16.f32" --kv f16 --fa off -t 2 >/dev/null 2>&1
  "$py" "$here/cmp_engine.py" "$d/kv32.f32" "$d/kv16.f32" "tiny f32, llama.cpp --kv f16 (second) vs --kv f32 (first)" 20
  rm -f "$f" "$d/kv32.f32" "$d/kv16.f32"
}

case "${1:-}" in
  build-tools) cmd_build_tools ;;
  load) cmd_load ;;
  tokens) cmd_tokens ;;
  same-model) cmd_same_model ;;
  quant) cmd_quant ;;
  all) cmd_build_tools; cmd_load; cmd_tokens; cmd_same_model; cmd_quant ;;
  engine) shift; cmd_engine "$@" ;;
  engine-kv) cmd_engine_kv ;;
  *) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
