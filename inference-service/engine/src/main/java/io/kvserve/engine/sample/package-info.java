/**
 * Token sampling: how one request turns a row of logits into its next token, and how its stop
 * strings end the text.
 *
 * <p>{@link io.kvserve.engine.sample.SamplingParams} is the checked request side (OpenAI parameter
 * names in its errors). {@link io.kvserve.engine.sample.SequenceSampler} holds one request's state and
 * applies, per token, in vLLM v1's order [1]: raw logprobs (before anything changes the row), logit
 * bias, {@code min_tokens} masking of EOS and stop token ids, repetition penalty (prompt and output,
 * CTRL / HF [4]) then frequency and presence penalties (output only, OpenAI [3]), and either argmax
 * (temperature 0) or temperature, top-k, top-p, min-p and a draw from the request's own seeded
 * generator [2]. {@link io.kvserve.engine.sample.StopStringMatcher} watches the detokenized deltas
 * for stop strings across token boundaries and holds back text that could still become one.
 *
 * <p>Inside: {@code SampleKernels} holds the O(vocabulary) loops on the Vector API beside their scalar
 * references; {@code TokenCounts} is the penalties' per-request memory, sized by distinct tokens; the
 * vocabulary-sized working arrays belong to the calling thread, so a batch of requests on the
 * engine's step thread shares one set.
 *
 * <p>References:
 * [1] vLLM v1 {@code vllm/v1/sample/sampler.py};
 * [2] vLLM v1 {@code vllm/v1/sample/ops/topk_topp_sampler.py};
 * [3] OpenAI API reference, {@code frequency_penalty} and {@code presence_penalty};
 * [4] Hugging Face transformers {@code RepetitionPenaltyLogitsProcessor}.
 */
package io.kvserve.engine.sample;
