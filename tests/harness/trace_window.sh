#!/usr/bin/env bash
# A trace window holds exactly that window: cycle c is dumped at times 2c and 2c+1, so a window
# [S, E] must give timestamps 2S .. 2E+1, every one of them, and nothing else. Also: the default
# window runs to the end of the case, --trace-on-fail writes a window around the first error, and
# Verilator's reset randomisation shows in the dumped initial state. Then the same for a layer case.
#   tests/harness/trace_window.sh <esact-sim> <corpus dir> <fst|vcd>
set -u
sim="$1"; corpus="$2"; fmt="$3"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1 ($2)"; fails=$((fails+1)); fi; }
case_dir="$corpus/tiny/default_s1"

# timestamps of a waveform, one per line
stamps() {
  local f="$1" vcd="$1"
  if [[ "$fmt" == fst ]]; then vcd="$tmp/conv.vcd"; fst2vcd -f "$f" -o "$vcd" >/dev/null 2>&1 || return 1; fi
  grep -E '^#[0-9]+' "$vcd" | cut -c2-
}

out=$("$sim" --vectors "$case_dir" --trace="$tmp/w.$fmt" --trace-start 40 --trace-end 90 --report "$tmp/r.json" 2>&1)
rc=$?
check "windowed run passes" "[[ $rc -eq 0 ]]"
check "end-of-run line names the file, window and size" "grep -Eq 'trace: $tmp/w.$fmt \(cycles 40\.\.90, [0-9.]+ (B|KiB|MiB)\)' <<<\"\$out\""
mapfile -t ts < <(stamps "$tmp/w.$fmt")
check "window: first timestamp 80" "[[ \${ts[0]:-x} == 80 ]]"
check "window: last timestamp 181" "[[ \${ts[-1]:-x} == 181 ]]"
check "window: 102 timestamps, consecutive" "[[ \${#ts[@]} -eq 102 && \$(( \${ts[-1]} - \${ts[0]} + 1 )) -eq 102 ]]"
check "report records the window" "[[ \$(python3 $(dirname "$0")/report_check.py get $tmp/r.json cases.0.trace_window) == '{\"first_cycle\": 40, \"last_cycle\": 90}' ]]"

# open-ended window: to the last simulated cycle
"$sim" --vectors "$case_dir" --trace="$tmp/e.$fmt" --trace-start 100 --report "$tmp/e.json" >/dev/null 2>&1
total=$(python3 "$(dirname "$0")/report_check.py" get "$tmp/e.json" cases.0.total_cycles)
mapfile -t ts < <(stamps "$tmp/e.$fmt")
check "open window: 200 .. 2*(total-1)+1" "[[ \${ts[0]:-x} == 200 && \${ts[-1]:-x} == $((2 * (total - 1) + 1)) ]]"

# a window past the end of the run gives an empty waveform, not a crash
out=$("$sim" --vectors "$case_dir" --trace="$tmp/p.$fmt" --trace-start 999999 2>&1)
check "window past the end: says so" "grep -q 'trace: $tmp/p.$fmt (empty: the run ended at cycle' <<<\"\$out\""
check "window past the end: no cycle dumped" "[[ -f $tmp/p.$fmt && \$(stamps $tmp/p.$fmt | grep -cv '^0\$') -eq 0 ]]"

# --trace-on-fail: a planted mismatch; the re-run's waveform covers the first bad cycle
out=$("$sim" --vectors "$case_dir" --plant-mismatch 20 --trace-on-fail="$tmp" --report "$tmp/f.json" 2>&1)
rc=$?
check "planted mismatch fails with exit 1" "[[ $rc -eq 1 ]]"
check "mismatch line and repro printed" "grep -q 'mismatch: ' <<<\"\$out\" && grep -q 'repro: .*--plant-mismatch 20 --trace=default_s1.fail.$fmt --trace-start' <<<\"\$out\""
bad=$(python3 "$(dirname "$0")/report_check.py" get "$tmp/f.json" cases.0.first_error_cycle)
wave="$tmp/default_s1.fail.$fmt"
check "trace-on-fail file written" "[[ -s $wave ]]"
mapfile -t ts < <(stamps "$wave")
lo=$(( bad > 200 ? 2 * (bad - 200) : 0 ))
check "trace-on-fail window starts 200 cycles before the first error" "[[ \${ts[0]:-x} == $lo ]]"
check "trace-on-fail window holds the first bad cycle" "[[ \${ts[-1]:-0} -ge $((2 * bad + 1)) && \${ts[-1]} -le $((2 * (bad + 16) + 1)) ]]"
# Verilator reset randomisation (--rand-reset, --verilator-seed; random-seed mode uses them): the
# values dumped at cycle 0 (state before reset takes effect) are zeros whatever the seed with
# --rand-reset 0, differ between seeds with --rand-reset 2, and repeat for the same seed
values_at_0() {
  local f="$tmp/rr.$fmt"
  "$sim" --vectors "$case_dir" "$@" --trace="$f" --trace-start 0 --trace-end 0 -q >/dev/null 2>&1 || return 1
  if [[ "$fmt" == fst ]]; then fst2vcd -f "$f" -o "$tmp/rr.vcd" >/dev/null 2>&1; f="$tmp/rr.vcd"; fi
  sed -n '/enddefinitions/,$p' "$f" | md5sum | cut -c1-32
}
z1=$(values_at_0 --rand-reset 0 --verilator-seed 1); z2=$(values_at_0 --rand-reset 0 --verilator-seed 2)
r1=$(values_at_0 --rand-reset 2 --verilator-seed 1); r2=$(values_at_0 --rand-reset 2 --verilator-seed 2)
r1b=$(values_at_0 --rand-reset 2 --verilator-seed 1)
check "rand-reset 0: initial state independent of the seed" "[[ -n '$z1' && '$z1' == '$z2' ]]"
check "rand-reset 2: initial state differs between seeds" "[[ -n '$r1' && '$r1' != '$r2' && '$r1' != '$z1' ]]"
check "rand-reset 2: the same seed gives the same initial state" "[[ '$r1' == '$r1b' ]]"

# The same for an encoder-layer case (esact_layer_top, its own traced model and untraced twin):
# a window holds exactly its cycles, the report records it, the signals of docs/layer.gtkw exist
# in the waveform, and --trace-on-fail writes a window around the first error (a watchdog stop).
layer_dir="$corpus/tiny/layer_esact_s1"
gtkw="$(dirname "$0")/../../docs/layer.gtkw"
out=$("$sim" --vectors "$layer_dir" --trace="$tmp/l.$fmt" --trace-start 300 --trace-end 700 --report "$tmp/l.json" 2>&1)
rc=$?
check "layer case: windowed run passes" "[[ $rc -eq 0 ]]"
check "layer case: end-of-run line names the file and window" "grep -Eq 'trace: $tmp/l.$fmt \(cycles 300\.\.700, [0-9.]+ (B|KiB|MiB)\)' <<<\"\$out\""
mapfile -t ts < <(stamps "$tmp/l.$fmt")
check "layer window: timestamps 600 .. 1401, 802 of them, consecutive" \
  "[[ \${ts[0]:-x} == 600 && \${ts[-1]:-x} == 1401 && \${#ts[@]} -eq 802 && \$(( \${ts[-1]} - \${ts[0]} + 1 )) -eq 802 ]]"
check "layer report: kind layer, window recorded" "[[ \$(python3 $(dirname "$0")/report_check.py get $tmp/l.json cases.0.kind) == '\"layer\"' && \$(python3 $(dirname "$0")/report_check.py get $tmp/l.json cases.0.trace_window) == '{\"first_cycle\": 300, \"last_cycle\": 700}' ]]"
# every signal of the GTKWave save file is in the layer waveform (tiny widths)
if [[ "$fmt" == fst ]]; then fst2vcd -f "$tmp/l.$fmt" -o "$tmp/l.vcd" >/dev/null 2>&1; else cp "$tmp/l.$fmt" "$tmp/l.vcd"; fi
missing=$(python3 - "$tmp/l.vcd" "$gtkw" <<'PY'
import re, sys
scope, names = [], set()
for line in open(sys.argv[1], errors="replace"):
    if line.startswith("$enddefinitions"):
        break
    t = line.split()
    if t[:1] == ["$scope"]:
        scope.append(t[2])
    elif t[:1] == ["$upscope"]:
        scope.pop()
    elif t[:1] == ["$var"]:
        ref = t[4] + ("" if t[5] == "$end" else t[5])
        names.add(".".join(scope + [ref]))
want = [l.strip() for l in open(sys.argv[2]) if l.startswith("TOP.")]
print(" ".join(w for w in want if w not in names) if want else "no-signals")
PY
)
check "docs/layer.gtkw: every signal is in the layer waveform" "[[ -z '$missing' ]]"
[[ -n "$missing" ]] && echo "  missing: $missing"
out=$("$sim" --vectors "$layer_dir" --max-cycles 1000 --trace-on-fail="$tmp" --report "$tmp/lf.json" 2>&1)
rc=$?
check "layer watchdog stop fails with exit 1" "[[ $rc -eq 1 ]]"
bad=$(python3 "$(dirname "$0")/report_check.py" get "$tmp/lf.json" cases.0.first_error_cycle)
wave="$tmp/layer_esact_s1.fail.$fmt"
check "layer trace-on-fail file written and reported" "[[ -s $wave ]] && grep -q 'trace-on-fail: $wave' <<<\"\$out\""
mapfile -t ts < <(stamps "$wave")
lo=$(( bad > 200 ? 2 * (bad - 200) : 0 ))
check "layer trace-on-fail window: from 200 cycles before the watchdog stop to the stop" \
  "[[ \${ts[0]:-x} == $lo && \${ts[-1]:-0} -ge $((2 * bad - 1)) && \${ts[-1]} -le $((2 * (bad + 16) + 1)) ]]"
exit $((fails > 0))
