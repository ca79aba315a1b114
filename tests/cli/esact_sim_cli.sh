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
echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
