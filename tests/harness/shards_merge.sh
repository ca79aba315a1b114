#!/usr/bin/env bash
# Regressions at scale: shards partition the run list exactly (explicit --shard and the CI /
# Slurm / Kubernetes variables), merged shards equal an unsharded run, every report validates
# against docs/esact-sim-report.schema.json, JUnit parses, and a regression list (corpus subset +
# generator sweep) runs; random-seed mode gives one run per (case, seed).
#   tests/harness/shards_merge.sh <esact-sim> <corpus dir> <schema>
set -u
sim="$1"; corpus=$(cd "$2" && pwd); schema="$3"
chk="$(dirname "$0")/report_check.py"
py=/usr/bin/python3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fails=$((fails+1)); }
run() { "$@" >"$tmp/last.log" 2>&1; }
sel=(--vectors "$corpus" --config tiny --kind spls -q --stall-prob 0.2 --seed 5)

run "$sim" "${sel[@]}" --report "$tmp/full.json" --junit "$tmp/full.xml" && ok "unsharded run" || bad "unsharded run"
for i in 0 1 2; do
  run "$sim" "${sel[@]}" --shard "$i/3" --report "$tmp/s$i.json" --junit "$tmp/s$i.xml" || bad "shard $i/3"
done
$py "$chk" partition "$tmp/full.json" "$tmp/s0.json" "$tmp/s1.json" "$tmp/s2.json" && ok "shards 0..2 of 3 partition the runs" || bad "partition"

# merge, in any order of inputs
run "$sim" merge "$tmp/s2.json" "$tmp/s0.json" "$tmp/s1.json" --report "$tmp/merged.json" --junit "$tmp/merged.xml" \
  --html "$tmp/merged.html" && ok "merge" || { bad "merge"; cat "$tmp/last.log"; }
$py "$chk" same "$tmp/full.json" "$tmp/merged.json" && ok "merged shards == unsharded run" || bad "merged != unsharded"
n=$($py "$chk" get "$tmp/full.json" summary.cases)
$py "$chk" junit "$tmp/merged.xml" "$n" >/dev/null && ok "merged JUnit parses, $n testcases" || bad "merged JUnit"
$py "$chk" junit "$tmp/full.xml" "$n" >/dev/null && ok "JUnit parses, $n testcases" || bad "JUnit"
$py -c "import xml.etree.ElementTree as E,sys; E.parse(sys.argv[1])" "$tmp/merged.html" 2>/dev/null ||
  grep -q '<svg' "$tmp/merged.html" && ok "HTML report written with SVG" || bad "HTML report"

# a missing shard makes the merge incomplete (exit 130), a shard given twice is an error (exit 2)
run "$sim" merge "$tmp/s0.json" "$tmp/s1.json" --report "$tmp/part.json"; rc=$?
[[ $rc -eq 130 && $($py "$chk" get "$tmp/part.json" complete) == false ]] && ok "merge without shard 2: incomplete" ||
  bad "merge without shard 2: rc $rc"
run "$sim" merge "$tmp/s0.json" "$tmp/s0.json" --report "$tmp/dup.json"; rc=$?
[[ $rc -eq 2 ]] && grep -q "shard 0 also given" "$tmp/last.log" && ok "shard given twice rejected" || bad "duplicate shard: rc $rc"
run "$sim" merge "$tmp/full.xml" --report "$tmp/x.json"; rc=$?
[[ $rc -eq 2 ]] && ok "merge of a non-report rejected" || bad "merge of non-report: rc $rc"

# the environment of CI matrices, Slurm arrays and Kubernetes indexed jobs picks the same slices
names() { $py -c "import json,sys; print(' '.join(c['name'] for c in json.load(open(sys.argv[1]))['cases']))" "$1"; }
envrun() { local out="$1"; shift; env -u SLURM_ARRAY_TASK_ID -u JOB_COMPLETION_INDEX -u CI_NODE_INDEX -u ESACT_SHARD \
  -u BUILDKITE_PARALLEL_JOB "$@" "$sim" "${sel[@]}" --shard auto --report "$out" >"$tmp/last.log" 2>&1; }
envrun "$tmp/e1.json" ESACT_SHARD=1/3
[[ "$(names "$tmp/e1.json")" == "$(names "$tmp/s1.json")" ]] && ok "ESACT_SHARD=1/3" || bad "ESACT_SHARD"
envrun "$tmp/e2.json" SLURM_ARRAY_TASK_ID=12 SLURM_ARRAY_TASK_MIN=10 SLURM_ARRAY_TASK_MAX=12
[[ "$(names "$tmp/e2.json")" == "$(names "$tmp/s2.json")" ]] && ok "Slurm array 10-12, task 12 -> 2/3" || bad "Slurm MIN/MAX"
envrun "$tmp/e3.json" SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=3
[[ "$(names "$tmp/e3.json")" == "$(names "$tmp/s1.json")" ]] && ok "Slurm TASK_COUNT" || bad "Slurm COUNT"
envrun "$tmp/e4.json" JOB_COMPLETION_INDEX=0 ESACT_SHARD_COUNT=3
[[ "$(names "$tmp/e4.json")" == "$(names "$tmp/s0.json")" ]] && ok "Kubernetes indexed job 0 of 3" || bad "k8s"
envrun "$tmp/e5.json" CI_NODE_INDEX=3 CI_NODE_TOTAL=3
[[ "$(names "$tmp/e5.json")" == "$(names "$tmp/s2.json")" ]] && ok "GitLab CI_NODE_INDEX 3 of 3 (1-based)" || bad "GitLab"
[[ $($py "$chk" get "$tmp/e4.json" shard.source) == '"JOB_COMPLETION_INDEX"' ]] && ok "report names the shard source" || bad "shard source"
envrun "$tmp/x.json" JOB_COMPLETION_INDEX=0; rc=$?
[[ $rc -eq 2 ]] && grep -q "ESACT_SHARD_COUNT" "$tmp/last.log" && ok "k8s index without count rejected" || bad "k8s without count: rc $rc"
envrun "$tmp/x.json" SLURM_ARRAY_TASK_ID=5 SLURM_ARRAY_TASK_COUNT=3; rc=$?
[[ $rc -eq 2 ]] && ok "Slurm index out of range rejected" || bad "Slurm out of range: rc $rc"
envrun "$tmp/x.json"; rc=$?
[[ $rc -eq 2 ]] && grep -q "no shard variable" "$tmp/last.log" && ok "--shard auto without variables rejected" || bad "auto without env: rc $rc"

# a regression list: a filtered corpus line and a generator sweep of 3 seeds
cat >"$tmp/reg.list" <<LIST
# corpus subset, then a sweep
$corpus config=tiny tag=causal
sweep config=tiny seeds=1..3 kind=duplicates L=12
LIST
run "$sim" --vectors "$tmp/reg.list" --work-dir "$tmp/work" -q --report "$tmp/list.json"; rc=$?
ncausal=$($py -c "import json,sys; m=json.load(open(sys.argv[1]+'/manifest.json')); print(sum(1 for c in m['cases'] if c['config']=='tiny' and 'causal' in c['tags']))" "$corpus")
nlist=$($py "$chk" get "$tmp/list.json" summary.passed)
[[ $rc -eq 0 && $nlist -eq $((ncausal + 3)) && -f "$tmp/work/sweeps/sweep_tiny_duplicates_L12_s2/case.json" ]] &&
  ok "regression list: $ncausal corpus (SPLS and layer) + 3 sweep cases pass" || { bad "regression list: rc $rc, $nlist passed"; tail -5 "$tmp/last.log"; }
printf 'sweep config=tiny seeds=3..1\n' >"$tmp/bad.list"
run "$sim" --vectors "$tmp/bad.list"; rc=$?
[[ $rc -eq 2 ]] && grep -q "bad.list:1: sweep seeds" "$tmp/last.log" && ok "bad list line named" || bad "bad list: rc $rc"

# random-seed mode: N runs per case, each with its own seed, stalls and random reset values
run "$sim" --vectors "$corpus" --filter default_s1 --config tiny --seeds 4 --seed 100 -q --report "$tmp/seeds.json"; rc=$?
seeds=$($py -c "import json,sys; r=json.load(open(sys.argv[1])); print(' '.join(str(c['seed'])+':'+str(c['rand_reset'])+':'+str(c['stall_prob']) for c in r['cases']))" "$tmp/seeds.json")
[[ $rc -eq 0 && "$seeds" == "100:2:0.3 101:2:0.3 102:2:0.3 103:2:0.3" ]] && ok "--seeds 4: seeds 100..103, rand-reset 2, stalls 0.3" ||
  bad "--seeds: rc $rc, $seeds"
run "$sim" --vectors "$corpus/tiny/default_s1" --seeds 3 --seed 7 --plant-mismatch 5 -q; rc=$?
[[ $rc -eq 1 && $(grep -c "repro: .*--seed [789] --stall-prob 0.3 --rand-reset 2 .*--plant-mismatch 5" "$tmp/last.log") -eq 3 ]] &&
  ok "each failing seed prints its one-line repro" || bad "seed repro lines: rc $rc"

# progress display: nothing on a non-terminal stderr unless asked; --progress gives plain lines
# (one per 10 %); on a terminal, one line redrawn in place (\r ESC[K)
err=$("$sim" "${sel[@]}" --report "$tmp/p.json" 2>&1 >/dev/null)
[[ -z "$err" ]] && ok "no progress output on a non-terminal by default" || bad "unexpected stderr: $err"
err=$("$sim" "${sel[@]}" --progress 2>&1 >/dev/null)
[[ $(grep -c '^\[[0-9]*/[0-9]*\] *[0-9]*%' <<<"$err") -ge 10 && "$err" == *"[$n/$n] 100%"* ]] && ok "--progress: plain lines up to 100 %" ||
  bad "--progress lines: $err"
if command -v script >/dev/null; then
  script -qc "$sim ${sel[*]} --filter default_s" "$tmp/tty.log" >/dev/null 2>&1
  grep -q $'\r\e\[K\[[0-9]*/[0-9]*\]' "$tmp/tty.log" && ok "terminal: progress line redrawn in place" || bad "terminal progress"
fi

# encoder-layer cases in the same regression: one entry per layer case (kind "layer") in the main
# report, JUnit and HTML; shards partition a mixed selection and their merge equals the unsharded
# run, layer entries and dense-vs-ESACT pairs included
mix=(--vectors "$corpus" --config tiny --filter _s1 -q --stall-prob 0.1 --seed 3)
run "$sim" "${mix[@]}" --report "$tmp/mix.json" --junit "$tmp/mix.xml" --html "$tmp/mix.html" && ok "mixed SPLS + layer run" ||
  { bad "mixed run"; tail -5 "$tmp/last.log"; }
for i in 0 1; do
  run "$sim" "${mix[@]}" --shard "$i/2" --report "$tmp/mx$i.json" || bad "mixed shard $i/2"
done
$py "$chk" partition "$tmp/mix.json" "$tmp/mx0.json" "$tmp/mx1.json" && ok "mixed shards partition the runs" || bad "mixed partition"
run "$sim" merge "$tmp/mx1.json" "$tmp/mx0.json" --report "$tmp/mixm.json" --junit "$tmp/mixm.xml" --html "$tmp/mixm.html" &&
  ok "merge of shards with layer cases" || { bad "mixed merge"; cat "$tmp/last.log"; }
$py "$chk" same "$tmp/mix.json" "$tmp/mixm.json" && ok "merged mixed shards == unsharded run (layer cases included)" ||
  bad "mixed merged != unsharded"
$py - "$tmp/mix.json" "$tmp/mixm.json" "$corpus" <<'PY' && ok "layer entries: one per layer case, phases, PE utilisation, dense-vs-ESACT pairs" || bad "layer entries"
import json, sys
full, merged = (json.load(open(p)) for p in sys.argv[1:3])
corpus = sys.argv[3]
man = json.load(open(corpus + "/manifest.json"))
want = sorted(c["name"] for c in man["cases"] if c["config"] == "tiny" and "_s1" in c["name"] and c.get("kind") == "layer")
layer = [c for c in full["cases"] if c["kind"] == "layer"]
assert sorted(c["name"] for c in layer) == want, (want, [c["name"] for c in layer])
assert all(c["kind"] == "spls" for c in full["cases"] if c not in layer)
for c in layer:
    assert c["verdict"] == "pass", c["name"]
    l = c["layer"]
    ph = l["phases"]
    assert sum(p["cycles"] for p in ph.values()) > 0
    assert sum(p["executed_macs"] for p in ph.values()) == l["executed_macs"], c["name"]
    # PE utilisation recomputed from the entry's own numbers
    assert abs(l["pe_utilisation"] - l["executed_macs"] / (c["cycles"] * l["pes"])) < 1e-9, c["name"]
    assert abs(l["mac_reduction"] - (1 - l["executed_macs"] / l["dense_macs"])) < 1e-9
    assert (l["mode"] == "dense") == (l["executed_macs"] == l["dense_macs"]), c["name"]
pairs = full["dense_vs_esact"]
dense = {c["name"]: c for c in layer if c["layer"]["mode"] == "dense"}
esact = {c["name"]: c for c in layer if c["layer"]["mode"] == "esact"}
assert len(pairs) == len(esact) >= 1, pairs
for p in pairs:
    d, e = dense[p["dense"]], esact[p["esact"]]
    assert d["layer"]["pair_key"] == e["layer"]["pair_key"]
    assert abs(p["cycle_ratio"] - e["cycles"] / d["cycles"]) < 1e-12 and abs(p["speedup"] * p["cycle_ratio"] - 1) < 1e-12
    assert abs(p["mac_ratio"] - e["layer"]["executed_macs"] / d["layer"]["dense_macs"]) < 1e-12
assert merged["dense_vs_esact"] == pairs
assert full["schema_minor"] == 1
PY
nmix=$($py "$chk" get "$tmp/mix.json" summary.cases)
$py "$chk" junit "$tmp/mixm.xml" "$nmix" >/dev/null && [[ $(grep -c 'classname="layer.tiny"' "$tmp/mixm.xml") -ge 2 ]] &&
  ok "merged JUnit: $nmix testcases, layer cases as layer.tiny" || bad "mixed JUnit"
grep -q "Encoder-layer cases" "$tmp/mixm.html" && grep -q "Layer cycles by phase" "$tmp/mixm.html" &&
  grep -q "Layer PE utilisation" "$tmp/mixm.html" && ok "HTML: layer table, phase and PE utilisation charts" || bad "layer HTML"
[[ ! -e "$tmp/mix.layer.json" ]] && ok "no separate .layer.json" || bad "a .layer.json was written"

$py "$chk" validate "$schema" "$tmp"/mix.json "$tmp"/mx[01].json "$tmp"/mixm.json "$tmp"/full.json "$tmp"/s[012].json "$tmp"/merged.json "$tmp"/part.json "$tmp"/e1.json \
  "$tmp"/list.json "$tmp"/seeds.json && ok "every report validates against the schema" || bad "schema validation"
exit $((fails > 0))
