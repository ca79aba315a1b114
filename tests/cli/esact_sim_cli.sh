#!/usr/bin/env bash
# esact-sim on bad input: corrupted, truncated and inconsistent vector files and bad options must
# give a non-zero exit and a message naming the file and the field (or the option).
#   tests/cli/esact_sim_cli.sh <esact-sim> <corpus dir>
set -u
sim="$1"; corpus="$2"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0; passes=0
expect() {  # expect <name> <want exit> <regex> -- command...
  local name="$1" want="$2" re="$3"; shift 4
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [[ $rc -ne $want ]]; then echo "FAIL $name: exit $rc, want $want"; echo "$out" | tail -5; fails=$((fails+1)); return; fi
  if ! grep -Eq -- "$re" <<<"$out"; then echo "FAIL $name: output lacks /$re/"; echo "$out" | tail -5; fails=$((fails+1)); return; fi
  echo "ok   $name"; passes=$((passes+1))
}
src=$(ls -d "$corpus"/tiny/*/ | head -1); src=${src%/}
fresh() { rm -rf "$tmp/c"; cp -r "$src" "$tmp/c"; chmod -R u+w "$tmp/c"; }

fresh
expect "good case passes" 0 "1 passed, 0 failed" -- "$sim" --vectors "$tmp/c"

fresh; truncate -s -7 "$tmp/c/pam.npy"
expect "truncated npy" 2 "c/pam.npy.*(truncat|size|bytes)" -- "$sim" --vectors "$tmp/c"

fresh; printf 'X' | dd of="$tmp/c/topk_mask.npy" bs=1 seek=200 conv=notrunc status=none
expect "flipped byte -> checksum" 2 "topk_mask.*sha256" -- "$sim" --vectors "$tmp/c"

fresh; printf 'BAD!' | dd of="$tmp/c/x.npy" bs=1 seek=0 conv=notrunc status=none
expect "bad npy magic" 2 "c/x.npy" -- "$sim" --vectors "$tmp/c"

fresh; sed -i 's/"L": [0-9]*/"L": 999/' "$tmp/c/case.json"
expect "L out of range" 2 "case.json.*'(params.)?L'" -- "$sim" --vectors "$tmp/c"

fresh; sed -i 's/"name": "tiny"/"name": "galaxy"/' "$tmp/c/case.json"
expect "unknown config" 2 "case.json.*config" -- "$sim" --vectors "$tmp/c"

fresh; head -c 100 "$tmp/c/case.json" > "$tmp/c/x" && mv "$tmp/c/x" "$tmp/c/case.json"
expect "truncated case.json" 2 "case.json" -- "$sim" --vectors "$tmp/c"

fresh; rm "$tmp/c/rep.npy"
expect "missing tensor" 2 "rep.npy" -- "$sim" --vectors "$tmp/c"

expect "no such path" 2 "nowhere.*not a case directory" -- "$sim" --vectors "$tmp/nowhere"
expect "bad probability" 2 "--stall-prob.*probability" -- "$sim" --vectors "$src" --stall-prob 1.5
expect "bad integer" 2 "--max-cycles.*integer" -- "$sim" --vectors "$src" --max-cycles 12x
expect "zero watchdog" 2 "--max-cycles" -- "$sim" --vectors "$src" --max-cycles 0
expect "bad shard" 2 "--shard" -- "$sim" --vectors "$src" --shard 3/3
expect "unknown option" 2 "unknown option '--bogus'" -- "$sim" --bogus
expect "watchdog fires" 1 "watchdog: no completion after 40 cycles" -- "$sim" --vectors "$src" --max-cycles 40
expect "bad shard form" 2 "--shard: '2' is not I/N" -- "$sim" --vectors "$src" --shard 2
expect "bad shard count" 2 "--shard: need 0 <= I < N" -- "$sim" --vectors "$src" --shard 0/0
expect "shard auto, no env" 2 "no shard variable" -- env -u ESACT_SHARD -u SLURM_ARRAY_TASK_ID -u JOB_COMPLETION_INDEX \
  -u CI_NODE_INDEX -u BUILDKITE_PARALLEL_JOB "$sim" --vectors "$src" --shard auto
expect "bad ESACT_SHARD" 2 "ESACT_SHARD: '1-2' is not I/N" -- env ESACT_SHARD=1-2 "$sim" --vectors "$src" --shard auto
expect "empty shard" 2 "no case selected .* in shard 5/8" -- "$sim" --vectors "$src" --shard 5/8
expect "bad kind" 2 "--kind: .model. is not spls or layer" -- "$sim" --vectors "$src" --kind model
expect "bad seeds" 2 "--seeds: 0 is not in 1..1000000" -- "$sim" --vectors "$src" --seeds 0
expect "bad rand-reset" 2 "--rand-reset: 3 is not in 0..2" -- "$sim" --vectors "$src" --rand-reset 3
expect "bad plusarg" 2 "\\+verilator\\+rand\\+reset\\+: 'x' is not a non-negative integer" -- "$sim" --vectors "$src" +verilator+rand+reset+x
expect "bad verilator seed" 2 "--verilator-seed: 0 is not in 1..2147483647" -- "$sim" --vectors "$src" --verilator-seed 0
expect "bad max-wall" 2 "--max-wall" -- "$sim" --vectors "$src" --max-wall 0
expect "window reversed" 2 "--trace-end: must be >= --trace-start" -- "$sim" --vectors "$src" -t --trace-start 9 --trace-end 3
expect "window without trace" 2 "needs -t/--trace" -- "$sim" --vectors "$src" --trace-start 9
expect "trace needs one run" 2 "--trace: select exactly one run" -- "$sim" --vectors "$corpus" --config tiny -t
expect "empty trace name" 2 "--trace=: empty file name" -- "$sim" --vectors "$src" --trace=
expect "trace-on-fail dir" 2 "--trace-on-fail: '$tmp/none' is not a directory" -- "$sim" --vectors "$src" --trace-on-fail="$tmp/none"
expect "report is a directory" 2 "output file '$tmp' is a directory" -- "$sim" --vectors "$src" --report "$tmp"
expect "flag with value" 2 "option --no-check takes no value" -- "$sim" --vectors "$src" --no-check=1
expect "unwritable report" 2 "cannot open for writing" -- "$sim" --vectors "$src" --report "$tmp/no/such/dir/r.json"
expect "merge needs inputs" 2 "merge: give the shard reports" -- "$sim" merge --report "$tmp/m.json"
expect "merge needs output" 2 "merge: give --report" -- "$sim" merge "$tmp/x.json"
expect "merge unreadable" 2 "nothing.json: cannot open the report" -- "$sim" merge "$tmp/nothing.json" --report "$tmp/m.json"
printf '{"schema": "other"}' > "$tmp/other.json"
expect "merge foreign json" 2 "other.json: field 'schema': not an esact-sim-report" -- "$sim" merge "$tmp/other.json" --report "$tmp/m.json"
expect "html needs -o" 2 "html: need REPORT.json and -o" -- "$sim" html "$tmp/other.json"
printf 'sweep config=tiny\n' > "$tmp/l.list"
expect "list: sweep without seeds" 2 "l.list:1: sweep needs config=NAME and seeds" -- "$sim" --vectors "$tmp/l.list"
printf '%s pick=1\n' "$src" > "$tmp/l.list"
expect "list: unknown selector" 2 "l.list:1: unknown selector 'pick=1'" -- "$sim" --vectors "$tmp/l.list"
printf 'nowhere/at/all\n' > "$tmp/l.list"
expect "list: missing path" 2 "l.list:1: .*nowhere/at/all: not a case directory" -- "$sim" --vectors "$tmp/l.list"
# options of the back-to-back and layer paths
layer_src="$corpus/tiny/layer_esact_s1"
expect "back-to-back zero" 2 "--back-to-back: 0 is not in 1..1000" -- "$sim" --vectors "$src" --back-to-back 0
expect "back-to-back too many" 2 "--back-to-back: 1001 is not in 1..1000" -- "$sim" --vectors "$src" --back-to-back 1001
expect "back-to-back not a number" 2 "--back-to-back: 'two' is not a non-negative integer" -- "$sim" --vectors "$src" --back-to-back two
expect "back-to-back without value" 2 "option --back-to-back needs a value" -- "$sim" --vectors "$src" --back-to-back
expect "back-to-back with layer kind" 2 "--back-to-back: layer cases never run back to back" -- \
  "$sim" --vectors "$corpus" --kind layer --back-to-back 2
expect "back-to-back with seeds" 2 "--back-to-back: not with --seeds" -- "$sim" --vectors "$corpus" --back-to-back 2 --seeds 3
expect "plant-mismatch with layer kind" 2 "--plant-mismatch: applies to SPLS cases only" -- \
  "$sim" --vectors "$layer_src" --kind layer --plant-mismatch 3
expect "layer trace needs one run" 2 "--trace: select exactly one run" -- "$sim" --vectors "$corpus" --config tiny --kind layer -t
expect "layer window reversed" 2 "--trace-end: must be >= --trace-start" -- "$sim" --vectors "$layer_src" -t --trace-start 9 --trace-end 3
expect "layer trace-on-fail dir" 2 "--trace-on-fail: '$tmp/none' is not a directory" -- "$sim" --vectors "$layer_src" --trace-on-fail="$tmp/none"
expect "layer case passes in the main regression" 0 "layer_esact_s1 .*PASS .*layer esact" -- "$sim" --vectors "$layer_src"
expect "back to back: one chain run passes" 0 "back to back on one instance, then: default_s2" -- \
  "$sim" --vectors "$corpus" --config tiny --kind spls --filter default_s --back-to-back 2 --shard 0/100
echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
