// logits: reference logits / tokenizer dumper against llama.cpp's public C API (llama.h).
// kvserve comparison driver (tools/llamacpp-check); built by `check.sh build-tools` against $LLAMA_CPP_DIR.
//
// Modes (exactly one of --tokens / --tokenize / --info):
//   logits -m MODEL --tokens 1,2,3 -o OUT.f32 [-t N] [--gen N] [--kv f16|f32|bf16|q8_0|q4_0]
//          [--fa off|on|auto] [--no-repack] [--ctx N] [--ubatch N] [--argmax] [-v]
//       Feeds the ids verbatim (no BOS/EOS added) at positions 0..n-1, seq 0, as ONE llama_decode
//       call with output enabled for every position. Writes n rows of n_vocab little-endian float32
//       (row i = logits after token i) to OUT. With --gen N: greedy argmax (lowest id wins ties) of
//       the last row gives g1; g1 is decoded at position n, its row appended; repeat N times.
//       OUT then holds n+N rows. Generated ids are printed on stdout as "gen: a,b,c".
//   logits -m MODEL --tokenize TEXT [--add-special] [--parse-special] [--pieces]
//       Prints llama_tokenize ids as "a,b,c" (add_special and parse_special default false).
//       TEXT is taken verbatim (no escape processing). --text-file F reads TEXT from a file.
//   logits -m MODEL --info
//       Prints vocab/model facts (n_vocab, bos/eos ids, add_bos/add_eos, n_embd, n_layer, ...).

#include "llama.h"
#include "ggml.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

static int g_verbose = 0;

// Errors and warnings always reach stderr (warnings prefixed "llama.cpp warning: ", which `check.sh load` counts);
// everything else only with -v.
static void log_cb(enum ggml_log_level level, const char * text, void *) {
    if (level == GGML_LOG_LEVEL_WARN) {
        fprintf(stderr, "llama.cpp warning: %s", text);
    } else if (g_verbose || level == GGML_LOG_LEVEL_ERROR) {
        fputs(text, stderr);
    }
}

static void usage(const char * argv0) {
    fprintf(stderr,
        "usage:\n"
        "  %s -m MODEL --tokens ID,ID,... -o OUT.f32 [-t THREADS] [--gen N] [--kv f16|f32|bf16|q8_0|q4_0]\n"
        "        [--fa off|on|auto] [--no-repack] [--ctx N] [--ubatch N] [--argmax] [-v]\n"
        "  %s -m MODEL --tokenize TEXT|--text-file FILE [--add-special] [--parse-special] [--pieces] [-v]\n"
        "  %s -m MODEL --info [-v]\n"
        "defaults: -t 2, --gen 0, --kv f16 (K and V), --fa off, CPU weight repacking on,\n"
        "          --ctx n_tokens+gen, --ubatch n_tokens (whole prompt in one ubatch)\n",
        argv0, argv0, argv0);
}

static bool parse_ids(const std::string & s, std::vector<llama_token> & out) {
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ',')) {
        // trim spaces / brackets so "[1, 2, 3]" (llama-tokenize --ids output) is accepted too
        std::string t;
        for (char c : item) {
            if (c != ' ' && c != '[' && c != ']' && c != '\n' && c != '\t') t += c;
        }
        if (t.empty()) continue;
        char * end = nullptr;
        errno = 0;
        long v = strtol(t.c_str(), &end, 10);
        if (errno != 0 || *end != '\0' || v < 0 || v > INT32_MAX) {
            fprintf(stderr, "bad token id: '%s'\n", t.c_str());
            return false;
        }
        out.push_back((llama_token) v);
    }
    return true;
}

static bool parse_type(const std::string & s, ggml_type & t) {
    if (s == "f32")  { t = GGML_TYPE_F32;  return true; }
    if (s == "f16")  { t = GGML_TYPE_F16;  return true; }
    if (s == "bf16") { t = GGML_TYPE_BF16; return true; }
    if (s == "q8_0") { t = GGML_TYPE_Q8_0; return true; }
    if (s == "q4_0") { t = GGML_TYPE_Q4_0; return true; }
    return false;
}

static std::string piece(const llama_vocab * vocab, llama_token id) {
    std::vector<char> buf(64);
    int n = llama_token_to_piece(vocab, id, buf.data(), (int32_t) buf.size(), 0, true);
    if (n < 0) {
        buf.resize(-n);
        n = llama_token_to_piece(vocab, id, buf.data(), (int32_t) buf.size(), 0, true);
    }
    return std::string(buf.data(), n > 0 ? n : 0);
}

static llama_token argmax(const float * row, int n_vocab) {
    int best = 0;
    for (int j = 1; j < n_vocab; j++) {
        if (row[j] > row[best]) best = j;  // strict '>' -> lowest id wins ties
    }
    return best;
}

int main(int argc, char ** argv) {
    std::string model_path, out_path, tokens_arg, text, text_file;
    bool have_text = false, info = false, add_special = false, parse_special = false, pieces = false;
    bool no_repack = false, print_argmax = false;
    int n_threads = 2, n_gen = 0, n_ctx_arg = 0, n_ubatch_arg = 0;
    std::string kv = "f16", fa = "off";

    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        auto need = [&](const char * name) -> const char * {
            if (i + 1 >= argc) { fprintf(stderr, "missing value for %s\n", name); exit(2); }
            return argv[++i];
        };
        if      (a == "-m" || a == "--model")  model_path = need("-m");
        else if (a == "-o" || a == "--out")    out_path = need("-o");
        else if (a == "-t" || a == "--threads") n_threads = atoi(need("-t"));
        else if (a == "--tokens")              tokens_arg = need("--tokens");
        else if (a == "--gen")                 n_gen = atoi(need("--gen"));
        else if (a == "--kv")                  kv = need("--kv");
        else if (a == "--fa")                  fa = need("--fa");
        else if (a == "--ctx")                 n_ctx_arg = atoi(need("--ctx"));
        else if (a == "--ubatch")              n_ubatch_arg = atoi(need("--ubatch"));
        else if (a == "--no-repack")           no_repack = true;
        else if (a == "--argmax")              print_argmax = true;
        else if (a == "--tokenize")            { text = need("--tokenize"); have_text = true; }
        else if (a == "--text-file")           text_file = need("--text-file");
        else if (a == "--add-special")         add_special = true;
        else if (a == "--parse-special")       parse_special = true;
        else if (a == "--pieces")              pieces = true;
        else if (a == "--info")                info = true;
        else if (a == "-v" || a == "--verbose") g_verbose = 1;
        else if (a == "-h" || a == "--help")   { usage(argv[0]); return 0; }
        else { fprintf(stderr, "unknown argument: %s\n", a.c_str()); usage(argv[0]); return 2; }
    }
    if (!text_file.empty()) {
        std::ifstream f(text_file, std::ios::binary);
        if (!f) { fprintf(stderr, "cannot read %s\n", text_file.c_str()); return 1; }
        std::stringstream ss; ss << f.rdbuf();
        text = ss.str(); have_text = true;
    }
    const int n_modes = (!tokens_arg.empty()) + (have_text ? 1 : 0) + (info ? 1 : 0);
    if (model_path.empty() || n_modes != 1) { usage(argv[0]); return 2; }

    llama_log_set(log_cb, nullptr);
    llama_backend_init();

    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    mp.vocab_only = have_text;            // tokenizer mode needs no weights
    mp.use_extra_bufts = !no_repack;      // CPU_REPACK buffers (e.g. Q4_0/Q4_K/IQ4_NL repacked kernels)

    llama_model * model = llama_model_load_from_file(model_path.c_str(), mp);
    if (!model) { fprintf(stderr, "failed to load model %s\n", model_path.c_str()); return 1; }
    const llama_vocab * vocab = llama_model_get_vocab(model);
    const int n_vocab = llama_vocab_n_tokens(vocab);

    if (info) {
        char desc[256];
        llama_model_desc(model, desc, sizeof(desc));
        printf("desc=%s\n", desc);
        printf("n_vocab=%d vocab_type=%d bos=%d eos=%d add_bos=%d add_eos=%d\n", n_vocab,
               (int) llama_vocab_type(vocab), llama_vocab_bos(vocab), llama_vocab_eos(vocab),
               (int) llama_vocab_get_add_bos(vocab), (int) llama_vocab_get_add_eos(vocab));
        printf("n_embd=%d n_layer=%d n_head=%d n_head_kv=%d n_ctx_train=%d n_params=%llu size_bytes=%llu\n",
               llama_model_n_embd(model), llama_model_n_layer(model), llama_model_n_head(model),
               llama_model_n_head_kv(model), llama_model_n_ctx_train(model),
               (unsigned long long) llama_model_n_params(model), (unsigned long long) llama_model_size(model));
        llama_model_free(model);
        llama_backend_free();
        return 0;
    }

    if (have_text) {
        int cap = (int) text.size() + 8;
        std::vector<llama_token> ids(cap);
        int n = llama_tokenize(vocab, text.data(), (int32_t) text.size(), ids.data(), cap, add_special, parse_special);
        if (n < 0) {
            if (n == INT32_MIN) { fprintf(stderr, "tokenize overflow\n"); return 1; }
            ids.resize(-n);
            n = llama_tokenize(vocab, text.data(), (int32_t) text.size(), ids.data(), -n, add_special, parse_special);
        }
        ids.resize(n);
        for (int i = 0; i < n; i++) printf(i ? ",%d" : "%d", ids[i]);
        printf("\n");
        if (pieces) {
            for (int i = 0; i < n; i++) printf("%6d -> '%s'\n", ids[i], piece(vocab, ids[i]).c_str());
        }
        llama_model_free(model);
        llama_backend_free();
        return 0;
    }

    // ---- logits mode ----
    std::vector<llama_token> toks;
    if (!parse_ids(tokens_arg, toks) || toks.empty()) { fprintf(stderr, "no valid token ids\n"); return 2; }
    for (llama_token t : toks) {
        if (t >= n_vocab) { fprintf(stderr, "token id %d >= n_vocab %d\n", t, n_vocab); return 2; }
    }
    if (out_path.empty()) { fprintf(stderr, "-o OUT is required\n"); return 2; }
    ggml_type kv_type;
    if (!parse_type(kv, kv_type)) { fprintf(stderr, "bad --kv %s\n", kv.c_str()); return 2; }

    const int n_prompt = (int) toks.size();
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx           = (uint32_t) std::max(n_ctx_arg, n_prompt + n_gen);
    cp.n_batch         = (uint32_t) n_prompt;
    cp.n_ubatch        = (uint32_t) (n_ubatch_arg > 0 ? n_ubatch_arg : n_prompt);
    cp.n_seq_max       = 1;
    cp.n_threads       = n_threads;
    cp.n_threads_batch = n_threads;
    cp.type_k          = kv_type;
    cp.type_v          = kv_type;
    cp.no_perf         = true;
    if      (fa == "off")  cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    else if (fa == "on")   cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_ENABLED;
    else if (fa == "auto") cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_AUTO;
    else { fprintf(stderr, "bad --fa %s\n", fa.c_str()); return 2; }

    llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) { fprintf(stderr, "failed to create context\n"); return 1; }

    FILE * fo = fopen(out_path.c_str(), "wb");
    if (!fo) { fprintf(stderr, "cannot open %s\n", out_path.c_str()); return 1; }

    fprintf(stderr, "model=%s n_vocab=%d n_prompt=%d n_gen=%d threads=%d kv=%s fa=%s repack=%s n_ctx=%u n_ubatch=%u\n",
            model_path.c_str(), n_vocab, n_prompt, n_gen, n_threads, kv.c_str(), fa.c_str(), no_repack ? "off" : "on",
            llama_n_ctx(ctx), llama_n_ubatch(ctx));

    // x86-64 is little-endian, so fwrite of float32 == raw little-endian float32
    auto write_row = [&](const float * row) {
        if (fwrite(row, sizeof(float), n_vocab, fo) != (size_t) n_vocab) { fprintf(stderr, "write failed\n"); exit(1); }
    };

    llama_batch batch = llama_batch_init(n_prompt, 0, 1);
    for (int i = 0; i < n_prompt; i++) {
        batch.token[i]     = toks[i];
        batch.pos[i]       = i;
        batch.n_seq_id[i]  = 1;
        batch.seq_id[i][0] = 0;
        batch.logits[i]    = 1;
    }
    batch.n_tokens = n_prompt;
    int rc = llama_decode(ctx, batch);
    if (rc != 0) { fprintf(stderr, "llama_decode (prompt) failed: %d\n", rc); return 1; }

    const float * last = nullptr;
    for (int i = 0; i < n_prompt; i++) {
        const float * row = llama_get_logits_ith(ctx, i);
        if (!row) { fprintf(stderr, "no logits for position %d\n", i); return 1; }
        write_row(row);
        if (print_argmax) {
            llama_token am = argmax(row, n_vocab);
            printf("pos %d tok %d argmax %d logit %.6f\n", i, toks[i], am, row[am]);
        }
        last = row;
    }

    std::vector<llama_token> gen;
    llama_token next = argmax(last, n_vocab);
    for (int k = 0; k < n_gen; k++) {
        gen.push_back(next);
        batch.token[0]     = next;
        batch.pos[0]       = n_prompt + k;
        batch.n_seq_id[0]  = 1;
        batch.seq_id[0][0] = 0;
        batch.logits[0]    = 1;
        batch.n_tokens     = 1;
        rc = llama_decode(ctx, batch);
        if (rc != 0) { fprintf(stderr, "llama_decode (gen %d) failed: %d\n", k, rc); return 1; }
        const float * row = llama_get_logits_ith(ctx, 0);
        if (!row) { fprintf(stderr, "no logits for gen step %d\n", k); return 1; }
        write_row(row);
        llama_token am = argmax(row, n_vocab);
        if (print_argmax) {
            printf("pos %d tok %d argmax %d logit %.6f (gen)\n", n_prompt + k, next, am, row[am]);
        }
        next = am;
    }
    fclose(fo);

    if (n_gen > 0) {
        printf("gen: ");
        for (size_t k = 0; k < gen.size(); k++) printf(k ? ",%d" : "%d", gen[k]);
        printf("\n");
    }
    fprintf(stderr, "wrote %d rows x %d float32 to %s\n", n_prompt + (int) gen.size(), n_vocab, out_path.c_str());

    llama_batch_free(batch);
    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
