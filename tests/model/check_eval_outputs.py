#!/usr/bin/env python3
"""Runs esact-eval stsb --mode all and a tiny sweep, then checks that the JSON files parse and hold
consistent figures and that the SVG is well-formed XML with one point per configuration.

usage: check_eval_outputs.py ESACT_EVAL WORKDIR
"""
import json
import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def run(cmd):
    print("+", " ".join(cmd), flush=True)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        fail(f"exit {r.returncode}: {r.stderr[-2000:]}")
    return r.stdout


def check_counters(run_obj, where):
    tot = run_obj["total"]
    d, x = tot["dense_macs"], tot["executed_macs"]
    parts = ["Q", "K", "V", "QK^T", "xV", "out-proj", "FFN-up", "FFN-down"]
    if sum(d[p] for p in parts) != d["total"] or sum(x[p] for p in parts) != x["total"]:
        fail(f"{where}: component MACs do not add up to the total")
    red = 1 - x["total"] / d["total"]
    if not math.isclose(red, tot["reduction_macs_only"], rel_tol=1e-9, abs_tol=1e-12):
        fail(f"{where}: reduction_macs_only {tot['reduction_macs_only']} != {red}")
    red_p = 1 - (x["total"] + tot["prediction_additions"]) / d["total"]
    if not math.isclose(red_p, tot["reduction_with_prediction"], rel_tol=1e-9, abs_tol=1e-12):
        fail(f"{where}: reduction_with_prediction mismatch")
    layer_sum = sum(l["executed_macs"]["total"] for l in run_obj["layers"])
    if layer_sum != x["total"]:
        fail(f"{where}: per-layer executed MACs sum to {layer_sum}, total says {x['total']}")


def main():
    exe, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    common = ["--limit", "12", "--calib-sentences", "48", "--threads", "2"]

    stsb_json = os.path.join(work, "stsb.json")
    out = run([exe, "stsb", "--mode", "all", "--json", stsb_json] + common)
    if "mode esact" not in out or "prediction additions" not in out:
        fail("stsb --mode all did not print the ESACT MAC table")
    doc = json.load(open(stsb_json))
    modes = [r["mode"] for r in doc["runs"]]
    if modes != ["float", "int8", "esact"]:
        fail(f"runs {modes}")
    for r in doc["runs"]:
        if r["pairs"] != 12 or not -1 <= r["spearman"] <= 1:
            fail(f"bad run {r['mode']}")
    int8, esact = doc["runs"][1], doc["runs"][2]
    check_counters(int8, "int8")
    check_counters(esact, "esact")
    if int8["total"]["executed_macs"] != int8["total"]["dense_macs"]:
        fail("int8 dense executed != dense MACs")
    if esact["total"]["dense_macs"] != int8["total"]["dense_macs"]:
        fail("esact and int8 disagree on the dense MAC count of the same sentences")
    if esact["spls"]["vote"] != 12 or esact["spls"]["rho_milli"] != 250:
        fail("esact run does not record the configuration defaults")

    sweep_json = os.path.join(work, "sweep.json")
    svg = os.path.join(work, "sweep.svg")
    run([exe, "sweep", "--rho", "250", "--tau", "750", "--window", "4", "--vote", "12,3", "--json", sweep_json,
         "--svg", svg] + common)
    doc = json.load(open(sweep_json))
    if len(doc["sweep"]) != 2:
        fail(f"sweep has {len(doc['sweep'])} points, expected 2")
    for p in doc["sweep"]:
        check_counters(p, "sweep")
        delta = 100 * (p["spearman"] - doc["int8"]["spearman"])
        if not math.isclose(delta, p["delta_vs_int8_points"], abs_tol=1e-9):
            fail("delta_vs_int8_points inconsistent")
    votes = [p["spls"]["vote"] for p in doc["sweep"]]
    if votes != [12, 3]:
        fail(f"sweep votes {votes}")

    root = ET.parse(svg).getroot()  # raises on malformed XML
    ns = "{http://www.w3.org/2000/svg}"
    if root.tag != ns + "svg":
        fail(f"root element {root.tag}")
    circles = [c for c in root.iter(ns + "circle") if c.find(ns + "title") is not None]
    if len(circles) != 2 * len(doc["sweep"]):
        fail(f"{len(circles)} point markers for {len(doc['sweep'])} configurations (expected 2 each)")
    texts = "".join(t.text or "" for t in root.iter(ns + "text"))
    for needed in ("INT8 dense", "float", "target"):
        if needed not in texts:
            fail(f"SVG lacks the '{needed}' label")
    print("OK: stsb JSON, sweep JSON and SVG consistent")


if __name__ == "__main__":
    main()
