#!/usr/bin/env bash
# The coverage pipeline end to end (coverage builds; CTest label "coverage", run by ci/coverage):
# per-run .dat files, their merge (counts add up point by point, checked against an independent
# parse here), the report's summary (line / toggle / user covers and the unhit covers by name,
# recomputed here from the merged file), the merge of two reports' coverage, back-to-back runs
# (cov_cfg_busy), a layer case's coverage (esact_layer_top), verilator_coverage --write-info and
# genhtml.
#   tests/harness/coverage_pipeline.sh <esact-sim (coverage build)> <corpus dir> <schema>
set -u
sim="$1"; corpus="$2"; schema="$3"
chk="$(dirname "$0")/report_check.py"
py=/usr/bin/python3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fails=$((fails+1)); }

"$sim" --vectors "$corpus" --config tiny --kind spls --filter default_s -q --seeds 1 --coverage "$tmp/a" --report "$tmp/a.json" \
  >"$tmp/a.log" 2>&1 && ok "coverage run A" || { bad "coverage run A"; cat "$tmp/a.log"; }
"$sim" --vectors "$corpus/tiny/default_s1" --stall-prob 0.95 --seeds 2 -q --coverage "$tmp/b" --report "$tmp/b.json" \
  >"$tmp/b.log" 2>&1 && ok "coverage run B (heavy stalls)" || bad "coverage run B"
na=$($py "$chk" get "$tmp/a.json" summary.cases)
[[ $(ls "$tmp/a"/*_default_s*.dat | wc -l) -eq $na && -s "$tmp/a/merged.dat" ]] && ok "one .dat per run ($na) + merged.dat" ||
  bad "per-run .dat files"
ls "$tmp/a"/*.tmp* >/dev/null 2>&1 && bad "temporary coverage files left" || ok "no temporary coverage files"
grep -q "^coverage: $tmp/a/merged.dat: line [0-9.]*% .*covers [0-9]*/[0-9]* hit" "$tmp/a.log" && ok "summary line printed" ||
  bad "summary line"

# independent parse: merged = point-wise sum; summary = counts of hit points per page
$py - "$tmp" <<'PY' && ok "merged.dat = sum of the per-run files; report summary recomputed" || bad "merge / summary mismatch"
import glob, json, re, sys
tmp = sys.argv[1]
def read(path):
    pts = {}
    with open(path, encoding="latin-1") as f:
        first = f.readline()
        assert "SystemC::Coverage" in first, path
        for line in f:
            m = re.match(r"C '(.*)' (\d+)$", line.rstrip("\n"))
            assert m, (path, line)
            pts[m.group(1)] = pts.get(m.group(1), 0) + int(m.group(2))
    return pts
def field(key, name):
    for part in key.split("\x01")[1:]:
        k, _, v = part.partition("\x02")
        if k == name:
            return v
    return ""
runs = [p for p in glob.glob(tmp + "/a/*.dat") if not p.endswith("merged.dat")]
total = {}
for p in runs:
    for k, v in read(p).items():
        total[k] = total.get(k, 0) + v
merged = read(tmp + "/a/merged.dat")
assert merged == total, "merged.dat differs from the sum of the runs"
cov = json.load(open(tmp + "/a.json"))["coverage"]
def count(prefixes):
    keys = [k for k in merged if any(field(k, "page").startswith(p) for p in prefixes)]
    return sum(1 for k in keys if merged[k] > 0), len(keys)
assert (cov["line"]["hit"], cov["line"]["total"]) == count(["v_line", "v_branch"]), cov["line"]
assert (cov["toggle"]["hit"], cov["toggle"]["total"]) == count(["v_toggle"]), cov["toggle"]
assert (cov["user"]["hit"], cov["user"]["total"]) == count(["v_user"]), cov["user"]
unhit = sorted(field(k, "h")[4:] for k in merged if field(k, "page").startswith("v_user") and merged[k] == 0)
assert sorted(cov["user"]["unhit"]) == unhit, (cov["user"]["unhit"], unhit)
assert cov["user"]["total"] >= 60, "expected the named covers of every SPLS unit"
assert all(".cov_" in n for n in unhit), unhit
PY

# merging two reports merges their coverage too; heavy stalls reach covers the plain run cannot
"$sim" merge "$tmp/a.json" "$tmp/b.json" --report "$tmp/m.json" --coverage-out "$tmp/m.dat" >"$tmp/m.log" 2>&1 &&
  ok "merge of two coverage reports" || { bad "merge"; cat "$tmp/m.log"; }
$py - "$tmp" <<'PY' && ok "merged report coverage: sum of both, more covers hit than either" || bad "merged coverage"
import json, sys
tmp = sys.argv[1]
a, b, m = (json.load(open(f"{tmp}/{n}.json"))["coverage"] for n in "abm")
assert m["merged_dat"].endswith("m.dat")
assert m["user"]["total"] == a["user"]["total"] == b["user"]["total"]
assert m["user"]["hit"] >= max(a["user"]["hit"], b["user"]["hit"])
assert m["user"]["hit"] > a["user"]["hit"], "heavy stalls must add covers (stall covers)"
assert "esact_spls_top.cov_out_stall" in a["user"]["unhit"] and "esact_spls_top.cov_out_stall" not in m["user"]["unhit"]
PY
# --back-to-back: sequences on one model instance, each configuration offered while the unit is
# still busy: reaches esact_spls_top.cov_cfg_busy, which one sequence per instance never hits
"$sim" --vectors "$corpus" --config tiny --kind spls --filter default_s -q --back-to-back 3 --coverage "$tmp/c" \
  --report "$tmp/c.json" >"$tmp/c.log" 2>&1 && ok "coverage run C (back to back, chains of 3)" || { bad "coverage run C"; cat "$tmp/c.log"; }
# encoder-layer cases: esact_layer_top's lines, toggles and covers in the same summary
"$sim" --vectors "$corpus" --config tiny --kind layer --filter layer_esact_s1 -q --coverage "$tmp/l" --report "$tmp/l.json" \
  >"$tmp/l.log" 2>&1 && ok "coverage run L (layer case)" || { bad "coverage run L"; cat "$tmp/l.log"; }
$py - "$tmp" <<'PY' && ok "back to back hits cov_cfg_busy; layer coverage summarised from esact_layer_top" || bad "b2b / layer coverage"
import json, re, sys
tmp = sys.argv[1]
def read(path):
    pts = {}
    with open(path, encoding="latin-1") as f:
        f.readline()
        for line in f:
            m = re.match(r"C '(.*)' (\d+)$", line.rstrip("\n"))
            pts[m.group(1)] = pts.get(m.group(1), 0) + int(m.group(2))
    return pts
def field(key, name):
    for part in key.split("\x01")[1:]:
        k, _, v = part.partition("\x02")
        if k == name:
            return v
    return ""
a, c, l = (json.load(open(f"{tmp}/{n}.json")) for n in "acl")
assert "esact_spls_top.cov_cfg_busy" in a["coverage"]["user"]["unhit"]
assert "esact_spls_top.cov_cfg_busy" not in c["coverage"]["user"]["unhit"], c["coverage"]["user"]["unhit"]
runs = c["cases"]
assert runs and all(len(r.get("back_to_back", [])) == 2 for r in runs[:-1]) and runs[0]["verdict"] == "pass"
assert all(r["kind"] == "layer" for r in l["cases"]) and len(l["cases"]) == 1
merged = read(f"{tmp}/l/merged.dat")
user = [k for k in merged if field(k, "page").startswith("v_user")]
assert user and all(field(k, "h").startswith("TOP.esact_layer_top") for k in user), user[:3]
assert any(field(k, "f").endswith("esact_layer_top.sv") for k in merged if field(k, "page").startswith("v_line"))
assert any(field(k, "page").startswith("v_toggle") for k in merged)
cov = l["coverage"]
hit = sum(1 for k in user if merged[k] > 0)
assert (cov["user"]["hit"], cov["user"]["total"]) == (hit, len(user)), cov["user"]
names = sorted(field(k, "h")[4:] for k in user if merged[k] == 0)
assert sorted(cov["user"]["unhit"]) == names and all(".cov_" in n for n in names), names
assert any(n.startswith("esact_layer_top.cov_ph_") for n in (field(k, "h")[4:] for k in user)), "named layer covers"
PY
$py "$chk" validate "$schema" "$tmp/a.json" "$tmp/b.json" "$tmp/m.json" "$tmp/c.json" "$tmp/l.json" >/dev/null &&
  ok "reports with coverage validate" || bad "schema"

# lcov info and HTML from the merged data
verilator_coverage --write-info "$tmp/c.info" "$tmp/m.dat" >/dev/null 2>&1 && ok "verilator_coverage --write-info" ||
  bad "write-info"
grep -q "^SF:.*rtl/esact_spls_top.sv" "$tmp/c.info" && grep -q "^DA:" "$tmp/c.info" && ok "lcov info names the RTL sources" ||
  bad "lcov info content"
genhtml --quiet --output-directory "$tmp/html" "$tmp/c.info" >/dev/null 2>&1 && [[ -s "$tmp/html/index.html" ]] &&
  ok "genhtml HTML" || bad "genhtml"
"$sim" html "$tmp/m.json" -o "$tmp/m.html" >/dev/null && grep -q "Unhit covers\|Every user cover was hit" "$tmp/m.html" &&
  ok "HTML report carries the coverage summary" || bad "HTML coverage section"
exit $((fails > 0))
