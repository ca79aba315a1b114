#!/usr/bin/env python3
"""Independent NumPy forward of all-MiniLM-L6-v2 (BERT encoder + mean pooling + L2 normalisation),
reading model.safetensors with its own parser and tokenising with ref_tokenize.py. Used to check the
C++ float forward:

  ref_forward.py --probe MODEL_PROBE [--model DIR] [--tol 1e-4]

embeds a few sentences with both implementations and fails when any embedding element differs by
more than --tol. Computation is in float64 (an exact reference); the C++ side is float32.
"""
import argparse
import json
import math
import os
import struct
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref_tokenize  # noqa: E402

SENTENCES = [
    "A man is playing a guitar.",
    "The quick brown fox jumps over the lazy dog!",
    "Naïve café owners' résumés — “quoted” text.",
    "Stock markets fell sharply on Monday after the central bank raised interest rates again, "
    "surprising analysts who had expected a pause; the index closed 3.2% lower.",
    "x",
]


def load_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        if info["dtype"] != "F32":
            continue
        arr = np.frombuffer(blob, dtype="<f4", count=(end - begin) // 4, offset=base + begin)
        tensors[name] = arr.reshape(info["shape"]).astype(np.float64)
    return tensors


def layer_norm(x, gamma, beta, eps):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


_erf = np.vectorize(math.erf)


def gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def embed(ids, w, cfg):
    p = "bert." if "bert.embeddings.word_embeddings.weight" in w else ""
    d, heads = cfg["hidden_size"], cfg["num_attention_heads"]
    dh, eps, t = d // heads, cfg["layer_norm_eps"], len(ids)

    def lin(x, name):
        return x @ w[p + name + ".weight"].T + w[p + name + ".bias"]

    def ln(x, name):
        return layer_norm(x, w[p + name + ".weight"], w[p + name + ".bias"], eps)

    h = (w[p + "embeddings.word_embeddings.weight"][ids]
         + w[p + "embeddings.position_embeddings.weight"][:t]
         + w[p + "embeddings.token_type_embeddings.weight"][0])
    h = ln(h, "embeddings.LayerNorm")
    for layer in range(cfg["num_hidden_layers"]):
        q_ = f"encoder.layer.{layer}."
        q = lin(h, q_ + "attention.self.query").reshape(t, heads, dh).transpose(1, 0, 2)
        k = lin(h, q_ + "attention.self.key").reshape(t, heads, dh).transpose(1, 0, 2)
        v = lin(h, q_ + "attention.self.value").reshape(t, heads, dh).transpose(1, 0, 2)
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(dh)
        scores -= scores.max(axis=-1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(axis=-1, keepdims=True)
        ctx = (probs @ v).transpose(1, 0, 2).reshape(t, d)
        a = ln(lin(ctx, q_ + "attention.output.dense") + h, q_ + "attention.output.LayerNorm")
        f = lin(gelu(lin(a, q_ + "intermediate.dense")), q_ + "output.dense")
        h = ln(f + a, q_ + "output.LayerNorm")
    pooled = h.mean(axis=0)
    return pooled / max(np.linalg.norm(pooled), 1e-12)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--probe", required=True)
    ap.add_argument("--model", default=None)
    ap.add_argument("--tol", type=float, default=1e-4)
    args = ap.parse_args()
    model_dir = args.model or ref_tokenize.default_model_dir()
    for f in ("model.safetensors", "vocab.txt", "config.json"):
        if not os.path.isfile(os.path.join(model_dir, f)):
            sys.exit(f"FAIL: {os.path.join(model_dir, f)} not found; run ci/fetch-model (or set ESACT_CACHE)")

    proc = subprocess.run([args.probe, "embed", model_dir], input="\n".join(SENTENCES) + "\n",
                          capture_output=True, text=True, encoding="utf-8")
    if proc.returncode != 0:
        sys.exit(f"FAIL: probe exited with {proc.returncode}: {proc.stderr}")
    cpp = [np.array([float(x) for x in line.split()]) for line in proc.stdout.splitlines()]
    if len(cpp) != len(SENTENCES):
        sys.exit(f"FAIL: probe returned {len(cpp)} embeddings for {len(SENTENCES)} sentences")

    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    weights = load_safetensors(os.path.join(model_dir, "model.safetensors"))
    vocab = ref_tokenize.load_vocab(os.path.join(model_dir, "vocab.txt"))
    worst = 0.0
    failed = False
    for sentence, got in zip(SENTENCES, cpp):
        ids = ref_tokenize.encode(sentence, vocab)[:128]
        want = embed(ids, weights, cfg)
        if got.shape != want.shape:
            print(f"FAIL: {sentence!r}: C++ dimension {got.shape}, NumPy {want.shape}")
            failed = True
            continue
        diff = float(np.max(np.abs(got - want)))
        worst = max(worst, diff)
        print(f"{len(ids):3d} tokens  max |C++ - NumPy| = {diff:.2e}  {sentence[:50]!r}")
        if diff > args.tol:
            failed = True
    print(f"worst difference {worst:.2e} (tolerance {args.tol:g})")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
