#!/usr/bin/env python3
"""The PyTorch reference of the training benchmark: the same LoRA step as our trainer, eager mode, on the CPU.

Reads a Hugging Face llama-family folder (config.json, model.safetensors in float32) and the bench's token ids (int32
little-endian, rows x seq), builds the model from the config in plain torch (RMSNorm, rotary embeddings with
rotate-half, grouped-query attention, SwiGLU), puts LoRA (rank r, alpha, B = 0) on q/k/v/o/gate/up/down, and runs
forward + backward (autograd) + AdamW over the LoRA parameters. Prints one JSON line.

    python3 lora_step.py MODEL_DIR IDS_FILE ROWS SEQ STEPS THREADS RANK ALPHA
"""
import json
import math
import resource
import struct
import sys
import time

import torch
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_len])
    base = 8 + header_len
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[base + start : base + end]), dtype=DTYPES[info["dtype"]])
        tensors[name] = t.reshape(info["shape"]).float()
    return tensors


class LoraLinear(torch.nn.Module):
    def __init__(self, weight, rank, alpha, generator):
        super().__init__()
        out_dim, in_dim = weight.shape
        self.weight = weight  # frozen: a plain tensor, not a parameter
        self.a = torch.nn.Parameter(torch.empty(rank, in_dim))
        bound = 1 / math.sqrt(in_dim)
        with torch.no_grad():
            self.a.uniform_(-bound, bound, generator=generator)
        self.b = torch.nn.Parameter(torch.zeros(out_dim, rank))
        self.scale = alpha / rank

    def forward(self, x):
        return F.linear(x, self.weight) + F.linear(F.linear(x, self.a), self.b) * self.scale


def rms_norm(x, weight, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Llama(torch.nn.Module):
    def __init__(self, config, w, rank, alpha):
        super().__init__()
        self.c = config
        g = torch.Generator().manual_seed(42)
        self.embed = w["model.embed_tokens.weight"]
        self.norm = w["model.norm.weight"]
        self.head = w["model.embed_tokens.weight"] if config.get("tie_word_embeddings") else w["lm_head.weight"]
        self.layers = torch.nn.ModuleList()
        for i in range(config["num_hidden_layers"]):
            p = f"model.layers.{i}."
            layer = torch.nn.Module()
            for m in ("q_proj", "k_proj", "v_proj", "o_proj"):
                setattr(layer, m, LoraLinear(w[p + f"self_attn.{m}.weight"], rank, alpha, g))
            for m in ("gate_proj", "up_proj", "down_proj"):
                setattr(layer, m, LoraLinear(w[p + f"mlp.{m}.weight"], rank, alpha, g))
            layer.ln1 = w[p + "input_layernorm.weight"]
            layer.ln2 = w[p + "post_attention_layernorm.weight"]
            self.layers.append(layer)

    def forward(self, ids):
        c = self.c
        heads, kv = c["num_attention_heads"], c["num_key_value_heads"]
        hd = c.get("head_dim") or c["hidden_size"] // heads
        eps = c["rms_norm_eps"]
        rows, seq = ids.shape
        inv = 1.0 / (c.get("rope_theta", 10000.0) ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
        freqs = torch.outer(torch.arange(seq, dtype=torch.float32), inv)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        mask = torch.full((seq, seq), float("-inf")).triu(1)
        h = self.embed[ids]
        for layer in self.layers:
            x = rms_norm(h, layer.ln1, eps)
            q = layer.q_proj(x).view(rows, seq, heads, hd).transpose(1, 2)
            k = layer.k_proj(x).view(rows, seq, kv, hd).transpose(1, 2)
            v = layer.v_proj(x).view(rows, seq, kv, hd).transpose(1, 2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            k = k.repeat_interleave(heads // kv, dim=1)
            v = v.repeat_interleave(heads // kv, dim=1)
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + mask, dim=-1)
            o = (att @ v).transpose(1, 2).reshape(rows, seq, heads * hd)
            h = h + layer.o_proj(o)
            x = rms_norm(h, layer.ln2, eps)
            h = h + layer.down_proj(F.silu(layer.gate_proj(x)) * layer.up_proj(x))
        return F.linear(rms_norm(h, self.norm, eps), self.head)


def main():
    model_dir, ids_file, rows, seq, steps, threads, rank, alpha = sys.argv[1:9]
    rows, seq, steps, threads, rank, alpha = int(rows), int(seq), int(steps), int(threads), int(rank), float(alpha)
    torch.set_num_threads(threads)
    with open(f"{model_dir}/config.json") as f:
        config = json.load(f)
    weights = read_safetensors(f"{model_dir}/model.safetensors")
    model = Llama(config, weights, rank, alpha)
    with open(ids_file, "rb") as f:
        ids = torch.frombuffer(bytearray(f.read()), dtype=torch.int32).long().view(rows, seq)
    inputs, targets = ids[:, :-1], ids[:, 1:]
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01)
    times, losses = [], []
    for _ in range(steps + 1):
        started = time.perf_counter()
        logits = model(ids)[:, :-1]
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - started)
        losses.append(loss.item())
    steady = times[1:]
    tokens = rows * (seq - 1)
    print(json.dumps({
        "variant": "pytorch",
        "torch": torch.__version__,
        "firstLoss": losses[0],
        "tokensPerStep": tokens,
        "seconds": sum(steady),
        "tokensPerSec": tokens * len(steady) / sum(steady),
        "maxRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
