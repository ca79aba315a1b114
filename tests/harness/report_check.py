#!/usr/bin/env python3
"""Checks on esact-sim reports, used by the harness tests (tests/harness/*.sh).

  report_check.py validate SCHEMA.json REPORT.json...   JSON Schema (draft 7) validation
  report_check.py junit FILE.xml N                      well-formed JUnit with N testcases
  report_check.py partition FULL.json SHARD.json...     shards hold every run of FULL exactly once,
                                                        run i in shard i mod N
  report_check.py same A.json B.json                    equal apart from timing and provenance
  report_check.py get REPORT.json a.b.0.c               print one field (JSON)
"""
import json
import sys
import xml.etree.ElementTree as ET


def load(path):
    with open(path) as f:
        return json.load(f)


def fail(msg):
    print("report_check: " + msg, file=sys.stderr)
    sys.exit(1)


def validate(schema_path, reports):
    import jsonschema  # Debian python3-jsonschema (ci/setup)
    schema = load(schema_path)
    jsonschema.Draft7Validator.check_schema(schema)
    v = jsonschema.Draft7Validator(schema)
    bad = 0
    for r in reports:
        errs = sorted(v.iter_errors(load(r)), key=lambda e: list(e.absolute_path))
        for e in errs[:10]:
            print(f"{r}: {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:200]}", file=sys.stderr)
        bad += len(errs)
    if bad:
        fail(f"{bad} schema violations")
    print(f"valid: {len(reports)} report(s)")


def junit(path, n):
    root = ET.parse(path).getroot()
    cases = root.findall(".//testcase")
    if len(cases) != int(n):
        fail(f"{path}: {len(cases)} testcases, want {n}")
    suite = root.find("testsuite")
    if suite is None or int(suite.get("tests")) != len(cases):
        fail(f"{path}: testsuite tests= disagrees with the testcases")
    failures = sum(1 for c in cases if c.find("failure") is not None)
    if int(suite.get("failures")) != failures:
        fail(f"{path}: failures= {suite.get('failures')} but {failures} <failure> elements")
    print(f"junit ok: {len(cases)} testcases, {failures} failures")


def partition(full_path, shard_paths):
    full = load(full_path)
    want = [(c["index"], c["name"]) for c in full["cases"]]
    if [i for i, _ in want] != list(range(len(want))):
        fail(f"{full_path}: indices are not 0..{len(want) - 1}")
    n = len(shard_paths)
    seen = {}
    for p in shard_paths:
        r = load(p)
        sh = r["shard"]
        if sh["count"] != n:
            fail(f"{p}: shard count {sh['count']}, want {n}")
        if sh["selection_sha256"] != full["shard"]["selection_sha256"]:
            fail(f"{p}: selection differs from the unsharded run")
        for c in r["cases"]:
            if c["index"] % n != sh["index"]:
                fail(f"{p}: run {c['index']} ({c['name']}) is in shard {sh['index']}, want {c['index'] % n}")
            if c["index"] in seen:
                fail(f"{p}: run {c['index']} also in {seen[c['index']]}")
            seen[c["index"]] = p
            if want[c["index"]][1] != c["name"]:
                fail(f"{p}: run {c['index']} is {c['name']}, the unsharded run has {want[c['index']][1]}")
        if len(r["cases"]) != sh["cases_in_shard"]:
            fail(f"{p}: cases_in_shard disagrees with the case list")
    if sorted(seen) != list(range(len(want))):
        missing = sorted(set(range(len(want))) - set(seen))
        fail(f"runs missing from every shard: {missing}")
    print(f"partition ok: {len(want)} runs in {n} shards")


VOLATILE = {"wall_seconds", "sim_cycles_per_second", "command", "started_at", "shard", "repro", "coverage",
            "coverage_file", "merged_dat"}


def strip(x):
    if isinstance(x, dict):
        return {k: strip(v) for k, v in x.items() if k not in VOLATILE}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x


def same(a_path, b_path):
    a, b = strip(load(a_path)), strip(load(b_path))
    if a != b:
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                if k == "cases":
                    for i, (ca, cb) in enumerate(zip(a[k], b[k])):
                        if ca != cb:
                            diff = [f for f in sorted(set(ca) | set(cb)) if ca.get(f) != cb.get(f)]
                            fail(f"case {i} ({ca.get('name')}) differs in {diff}")
                    fail(f"case lists differ in length: {len(a[k])} vs {len(b[k])}")
                fail(f"field '{k}' differs: {json.dumps(a.get(k))[:200]} vs {json.dumps(b.get(k))[:200]}")
    print(f"same: {a_path} == {b_path} ({len(a['cases'])} runs)")


def get(path, dotted):
    x = load(path)
    for part in dotted.split("."):
        x = x[int(part)] if isinstance(x, list) else x[part]
    print(json.dumps(x))


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        sys.exit(2)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "validate":
        validate(args[0], args[1:])
    elif cmd == "junit":
        junit(args[0], args[1])
    elif cmd == "partition":
        partition(args[0], args[1:])
    elif cmd == "same":
        same(args[0], args[1])
    elif cmd == "get":
        get(args[0], args[1])
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
