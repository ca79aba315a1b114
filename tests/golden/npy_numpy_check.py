#!/usr/bin/python3
"""NumPy reads the ESACT vector corpus without our code.

usage: npy_numpy_check.py MANIFEST_OR_CASE_DIR...

For every case (all cases of a manifest.json, or the given case directories): np.load opens each
tensor listed in case.json, and its dtype and shape are the ones case.json states; the SHA-256 of
each file and of case.json (against the manifest) are checked with hashlib; a few spec invariants
are checked with numpy (padding rows of rep are -1, each valid top-k row keeps k_eff columns).
Exit status 0 when everything agrees, 1 otherwise (with the file and field named).
"""
import hashlib
import json
import os
import sys

import numpy as np


def fail(path, field, msg):
    print(f"{path}: field '{field}': {msg}", file=sys.stderr)
    sys.exit(1)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def check_case(case_dir):
    cj = os.path.join(case_dir, "case.json")
    with open(cj, "rb") as f:
        case = json.load(f)
    if case.get("format") != "esact-vectors" or case.get("format_version") != 1:
        fail(cj, "format", "not an esact-vectors v1 case")
    arrays = {}
    for name, t in case["tensors"].items():
        path = os.path.join(case_dir, t["file"])
        a = np.load(path, allow_pickle=False)
        if np.dtype(t["dtype"]) != a.dtype:
            fail(path, "dtype", f"case.json says {t['dtype']}, numpy read {a.dtype.str}")
        if list(a.shape) != t["shape"]:
            fail(path, "shape", f"case.json says {t['shape']}, numpy read {list(a.shape)}")
        if not a.flags["C_CONTIGUOUS"]:
            fail(path, "fortran_order", "not C order")
        if sha256(path) != t["sha256"]:
            fail(path, "sha256", "checksum mismatch")
        arrays[name] = a
    if case.get("kind") == "layer":
        return len(arrays) + check_layer(case_dir, case, arrays)
    p = case["params"]
    L, k, causal = p["L"], p["k"], p["causal"]
    rep, mask = arrays["rep"], arrays["topk_mask"]
    if not (rep[:, L:] == -1).all():
        fail(os.path.join(case_dir, "rep.npy"), "data", "padding rows are not -1")
    kept = mask[:, :L, :].sum(axis=2)
    k_eff = np.minimum(k, np.arange(1, L + 1)) if causal else np.full(L, min(k, L))
    if not (kept == k_eff[None, :]).all():
        fail(os.path.join(case_dir, "topk_mask.npy"), "data", "a row does not keep k_eff columns")
    followers = int(sum((rep[h, :L] != np.arange(L)).sum() for h in range(rep.shape[0])))
    if followers != case["summary"]["head_followers"]:
        fail(cj, "summary.head_followers", f"numpy counts {followers}")
    return len(arrays)


def check_layer(case_dir, case, arrays):
    """Layer case: the shared weights directory (checksum, tensors), padding rows of every
    [N, *] tensor zero, and with SPLS tensors their padding entries -1."""
    cj = os.path.join(case_dir, "case.json")
    wdir = os.path.normpath(os.path.join(case_dir, case["weights"]["path"]))
    wj = os.path.join(wdir, "weights.json")
    if sha256(wj) != case["weights"]["sha256"]:
        fail(cj, "weights.sha256", "checksum mismatch for " + wj)
    with open(wj, "rb") as f:
        weights = json.load(f)
    for name, t in weights["tensors"].items():
        path = os.path.join(wdir, t["file"])
        a = np.load(path, allow_pickle=False)
        if np.dtype(t["dtype"]) != a.dtype or list(a.shape) != t["shape"] or sha256(path) != t["sha256"]:
            fail(path, "tensors." + name, "dtype, shape or checksum differs from weights.json")
    L = case["params"]["L"]
    for name in ("x", "q", "k", "v", "attn", "oproj", "ln1", "ffn_hidden", "ffn_out", "out"):
        if (arrays[name][L:] != 0).any():
            fail(os.path.join(case_dir, name + ".npy"), "data", "padding rows are not zero")
    if "rep" in arrays and not ((arrays["rep"][:, L:] == -1).all() and (arrays["token_rep"][L:] == -1).all()):
        fail(os.path.join(case_dir, "rep.npy"), "data", "padding entries are not -1")
    return len(weights["tensors"])


def main(paths):
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    cases = tensors = 0
    for path in paths:
        if path.endswith(".json") or os.path.isfile(os.path.join(path, "manifest.json")):
            mpath = path if path.endswith(".json") else os.path.join(path, "manifest.json")
            with open(mpath, "rb") as f:
                manifest = json.load(f)
            base = os.path.dirname(os.path.abspath(mpath))
            for i, entry in enumerate(manifest["cases"]):
                case_dir = os.path.join(base, entry["path"])
                if sha256(os.path.join(case_dir, "case.json")) != entry["case_json_sha256"]:
                    fail(mpath, f"cases[{i}].case_json_sha256", "checksum mismatch")
                tensors += check_case(case_dir)
                cases += 1
        else:
            tensors += check_case(path)
            cases += 1
    print(f"numpy {np.__version__}: {cases} cases, {tensors} tensors read and consistent with case.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
