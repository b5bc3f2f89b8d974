// kvserve comparison driver (tools/llamacpp-check); built by `check.sh build-tools` against $LLAMA_CPP_DIR.
// tokenize_lines MODEL.gguf < STRINGS.hex
// Reads lines of hex-encoded UTF-8 from stdin and prints, per line, the ids of
// llama_tokenize(vocab, text, add_special=false, parse_special=false) as "a,b,c" (vocabulary only is loaded).
#include "llama.h"
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

static void quiet(ggml_log_level, const char *, void *) {}

int main(int argc, char ** argv) {
    if (argc != 2) { fprintf(stderr, "usage: %s MODEL.gguf < STRINGS.hex\n", argv[0]); return 2; }
    llama_log_set(quiet, nullptr);
    llama_backend_init();
    auto mp = llama_model_default_params();
    mp.vocab_only = true;
    llama_model * model = llama_model_load_from_file(argv[1], mp);
    if (!model) { fprintf(stderr, "load failed: %s\n", argv[1]); return 1; }
    const llama_vocab * vocab = llama_model_get_vocab(model);
    std::string line;
    while (std::getline(std::cin, line)) {
        std::string text;
        for (size_t i = 0; i + 1 < line.size(); i += 2) text.push_back((char) std::stoi(line.substr(i, 2), nullptr, 16));
        std::vector<llama_token> ids(text.size() + 16);
        int n = llama_tokenize(vocab, text.data(), (int32_t) text.size(), ids.data(), (int32_t) ids.size(), false, false);
        if (n < 0) {
            ids.resize(-n);
            n = llama_tokenize(vocab, text.data(), (int32_t) text.size(), ids.data(), (int32_t) ids.size(), false, false);
        }
        for (int i = 0; i < n; i++) printf(i ? ",%d" : "%d", ids[i]);
        printf("\n");
    }
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
