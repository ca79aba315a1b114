#!/usr/bin/env bash
# Robustness: SIGINT in the middle of a long case, SIGTERM, and the --max-wall watchdog all end
# the run with exit 130 and a valid report marked incomplete (reason given, the interrupted run
# marked so); no temporary report file is left behind.
#   tests/harness/interrupt.sh <esact-sim> <corpus dir> <schema>
set -u
sim="$1"; corpus="$2"; schema="$3"
chk="$(dirname "$0")/report_check.py"
py=/usr/bin/python3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fails=$((fails+1)); }

# a long run: many seeds of one case, and a signal while a case is in flight
for sig in INT TERM; do
  "$sim" --vectors "$corpus/tiny/default_s1" --seeds 100000 --stall-prob 0.9 -q --report "$tmp/$sig.json" \
    --junit "$tmp/$sig.xml" >"$tmp/$sig.log" 2>&1 &
  pid=$!
  sleep 1.5
  kill -s "$sig" "$pid"
  wait "$pid"; rc=$?
  [[ $rc -eq 130 ]] && ok "SIG$sig: exit 130" || bad "SIG$sig: exit $rc"
  [[ $($py "$chk" get "$tmp/$sig.json" complete) == false ]] && ok "SIG$sig: report marked incomplete" || bad "SIG$sig: complete?"
  $py "$chk" get "$tmp/$sig.json" incomplete_reason | grep -q "SIG$sig received after" &&
    ok "SIG$sig: reason recorded" || bad "SIG$sig: reason"
  [[ $($py "$chk" get "$tmp/$sig.json" summary.interrupted) -ge 0 ]] || bad "SIG$sig: summary"
  $py "$chk" validate "$schema" "$tmp/$sig.json" >/dev/null && ok "SIG$sig: report valid" || bad "SIG$sig: schema"
  $py -c "import xml.etree.ElementTree as E,sys; E.parse(sys.argv[1])" "$tmp/$sig.xml" && ok "SIG$sig: JUnit parses" || bad "SIG$sig: JUnit"
done
# inside one case: a minilm case takes seconds of simulation; --max-wall 1 must stop that case
# (verdict interrupted) rather than wait for it
if "$sim" --help | grep -q "built: .*minilm"; then
  "$sim" --vectors "$corpus/minilm/default_s1" --stall-prob 0.5 --max-wall 1 -q --report "$tmp/one.json" \
    >"$tmp/one.log" 2>&1
  rc=$?
  v=$($py "$chk" get "$tmp/one.json" cases.0.verdict 2>/dev/null)
  [[ $rc -eq 130 && $v == '"interrupted"' ]] && ok "a case in flight is interrupted inside the case" ||
    bad "in-case interrupt: rc $rc verdict $v"
  $py "$chk" validate "$schema" "$tmp/one.json" >/dev/null && ok "in-case interrupt: report valid" || bad "one: schema"
  # the same inside an encoder-layer case (a minilm layer simulates for seconds)
  "$sim" --vectors "$corpus/minilm/layer_real_l5_line1225_esact" --max-wall 2 -q --report "$tmp/lay.json" >"$tmp/lay.log" 2>&1
  rc=$?
  v=$($py "$chk" get "$tmp/lay.json" cases.0.verdict 2>/dev/null)
  k=$($py "$chk" get "$tmp/lay.json" cases.0.kind 2>/dev/null)
  [[ $rc -eq 130 && $v == '"interrupted"' && $k == '"layer"' ]] && ok "a layer case in flight is interrupted inside the case" ||
    bad "in-layer-case interrupt: rc $rc verdict $v kind $k"
  $py "$chk" validate "$schema" "$tmp/lay.json" >/dev/null && ok "in-layer-case interrupt: report valid" || bad "lay: schema"
else
  echo "skip in-case interrupt: no minilm model in this build"
fi
ls "$tmp"/*.tmp.* >/dev/null 2>&1 && bad "temporary files left behind" || ok "no temporary files left"
exit $((fails > 0))
