# ref_hf.py HF_DIR ID,ID,... OUT.f64 [noscale] [wrongrope]
# An independent float64 NumPy forward pass over a Hugging Face safetensors directory (config.json +
# model.safetensors, F32/F16/BF16), computed as transformers' LlamaForCausalLM / Qwen2ForCausalLM do:
# rotate-half RoPE, llama3 frequency scaling, QKV bias for qwen2, tied or separate lm_head.
# Writes one row of float64 logits per id (no BOS added). Sensitivity options, to show the comparison
# would notice a mistake: 'noscale' drops llama3 RoPE scaling, 'wrongrope' uses interleaved-pair RoPE.
import sys, json, struct, math, numpy as np
d = sys.argv[1]; ids = [int(x) for x in sys.argv[2].split(',')]; out = sys.argv[3]
opts = sys.argv[4:]
cfg = json.load(open(d + '/config.json'))
raw = np.memmap(d + '/model.safetensors', dtype=np.uint8, mode='r')
hl = struct.unpack('<Q', bytes(raw[:8]))[0]
hdr = json.loads(bytes(raw[8:8+hl]).decode())
base = 8 + hl
def T(name):
    m = hdr[name]; a, b = m['data_offsets']; buf = raw[base+a:base+b]; sh = m['shape']
    if m['dtype'] == 'F32': x = buf.view('<f4')
    elif m['dtype'] == 'F16': x = buf.view('<f2')
    elif m['dtype'] == 'BF16': x = (buf.view('<u2').astype(np.uint32) << 16).view(np.float32)
    else: raise SystemExit('dtype ' + m['dtype'])
    return x.reshape(sh)
def F(name): return np.asarray(T(name), dtype=np.float64)
H = cfg['hidden_size']; nh = cfg['num_attention_heads']; nkv = cfg['num_key_value_heads']
hd = cfg.get('head_dim') or H // nh; eps = cfg['rms_norm_eps']; theta = cfg.get('rope_theta', 10000.0)
L = cfg['num_hidden_layers']; bias = cfg.get('attention_bias', cfg['model_type'] == 'qwen2')
n = len(ids)
inv = 1.0 / (theta ** (np.arange(0, hd, 2, dtype=np.int64).astype(np.float32) / hd))  # HF computes inv_freq in float32
inv = inv.astype(np.float32)
rs = cfg.get('rope_scaling')
if rs and rs.get('rope_type', rs.get('type')) == 'llama3' and 'noscale' not in opts:
    factor = rs['factor']; lff = rs['low_freq_factor']; hff = rs['high_freq_factor']; old = rs['original_max_position_embeddings']
    lw = old / lff; hw = old / hff
    wl = 2 * math.pi / inv
    il = np.where(wl > lw, inv / factor, inv)
    sm = (old / wl - lff) / (hff - lff)
    smoothed = (1 - sm) * il / factor + sm * il
    med = ~(wl < hw) & ~(wl > lw)
    inv = np.where(med, smoothed, il).astype(np.float32)
    print('llama3 scaling: inv_freq ratio', np.round((1.0/(theta ** (np.arange(0, hd, 2)/hd))) / inv, 4).tolist(), file=sys.stderr)
inv = inv.astype(np.float64)
pos = np.arange(n, dtype=np.float64)
fr = np.outer(pos, inv); emb = np.concatenate([fr, fr], -1); cos = np.cos(emb); sin = np.sin(emb)
def rot_half(x): h = x.shape[-1] // 2; return np.concatenate([-x[..., h:], x[..., :h]], -1)
def rope(x):
    if 'wrongrope' in opts:  # sensitivity check only: interleaved-pair rope on HF-ordered weights (= unpermuted Q/K in llama.cpp)
        c = np.cos(fr)[:, None, :]; s_ = np.sin(fr)[:, None, :]; x0 = x[..., 0::2]; x1 = x[..., 1::2]; y = np.empty_like(x)
        y[..., 0::2] = x0 * c - x1 * s_; y[..., 1::2] = x0 * s_ + x1 * c; return y
    return x * cos[:, None, :] + rot_half(x) * sin[:, None, :]   # x: [n, heads, hd]
def rms(x, w): return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w
E = T('model.embed_tokens.weight')
x = np.asarray(E[ids], dtype=np.float64)
mask = np.triu(np.full((n, n), -np.inf), 1)
for l in range(L):
    p = f'model.layers.{l}.'
    h = rms(x, F(p + 'input_layernorm.weight'))
    q = h @ F(p + 'self_attn.q_proj.weight').T; k = h @ F(p + 'self_attn.k_proj.weight').T; v = h @ F(p + 'self_attn.v_proj.weight').T
    if bias:
        q += F(p + 'self_attn.q_proj.bias'); k += F(p + 'self_attn.k_proj.bias'); v += F(p + 'self_attn.v_proj.bias')
    q = rope(q.reshape(n, nh, hd)); k = rope(k.reshape(n, nkv, hd)); v = v.reshape(n, nkv, hd)
    rep = nh // nkv
    k = np.repeat(k, rep, axis=1); v = np.repeat(v, rep, axis=1)
    s = np.einsum('qhd,khd->hqk', q, k) / math.sqrt(hd) + mask
    s = np.exp(s - s.max(-1, keepdims=True)); s /= s.sum(-1, keepdims=True)
    a = np.einsum('hqk,khd->qhd', s, v).reshape(n, nh * hd)
    x = x + a @ F(p + 'self_attn.o_proj.weight').T
    h = rms(x, F(p + 'post_attention_layernorm.weight'))
    g = h @ F(p + 'mlp.gate_proj.weight').T; u = h @ F(p + 'mlp.up_proj.weight').T
    x = x + ((g / (1 + np.exp(-g))) * u) @ F(p + 'mlp.down_proj.weight').T
x = rms(x, F('model.norm.weight'))
W = T('model.embed_tokens.weight') if cfg.get('tie_word_embeddings') or 'lm_head.weight' not in hdr else T('lm_head.weight')
if 'lm_head.weight' in hdr and cfg.get('tie_word_embeddings'): print('WARNING: tied but lm_head present', file=sys.stderr)
V = W.shape[0]; logits = np.empty((n, V))
for i in range(0, V, 8192): logits[:, i:i+8192] = x @ np.asarray(W[i:i+8192], dtype=np.float64).T
logits.astype('<f8').tofile(out)
print('rows', n, 'vocab', V, file=sys.stderr)
