# Writes hf-reference.safetensors with the Hugging Face safetensors library (0.8.0), so
# SafetensorsReferenceFileTest checks the Java reader against the reference writer.
#   PYTHONPATH=<safetensors> python3 make_hf_reference.py
import numpy as np
from safetensors.numpy import save_file

x = np.arange(-6, 6, dtype=np.float32).reshape(3, 4) / 4
save_file({
    "model.embed_tokens.weight": x,
    "model.norm.weight": x[0].astype(np.float16),
    "ids": np.array([1, -2], dtype=np.int64),
    "scalar": np.array(2.5, dtype=np.float32),
}, "hf-reference.safetensors", metadata={"format": "pt"})
