#!/usr/bin/env python3
"""Checks the C++ Unicode classification and normalisation used by the tokenizer against Python's
unicodedata over the whole code space (surrogates excluded), code point by code point:
control / whitespace / punctuation / non-spacing mark / CJK flags (BERT definitions) and
NFD(lower(c)) with Mn marks removed.

Usage: check_unicode.py MODEL_PROBE
"""
import subprocess
import sys
import unicodedata


def bert_flags(cp):
    ch = chr(cp)
    cat = unicodedata.category(ch)
    control = cat.startswith("C") and ch not in "\t\n\r"
    whitespace = ch in " \t\n\r" or cat == "Zs"
    punct = (33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126
             or cat.startswith("P"))
    mark = cat == "Mn"
    cjk = (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
           or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
           or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)
    return "".join("1" if f else "0" for f in (control, whitespace, punct, mark, cjk))


def stripped(cp):
    nfd = unicodedata.normalize("NFD", chr(cp).lower())
    return [ord(c) for c in nfd if unicodedata.category(c) != "Mn"]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = subprocess.run([sys.argv[1], "unicode", "0", "0x10FFFF"], check=True, capture_output=True,
                         text=True).stdout.splitlines()
    expected_cps = [cp for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF]
    if len(out) != len(expected_cps):
        sys.exit(f"FAIL: probe printed {len(out)} lines, expected {len(expected_cps)}")
    errors = 0
    for cp, line in zip(expected_cps, out):
        parts = line.split()
        got_cp, got_flags, got_map = int(parts[0], 16), parts[1], [int(p, 16) for p in parts[2:]]
        want_flags, want_map = bert_flags(cp), stripped(cp)
        if got_cp != cp or got_flags != want_flags or got_map != want_map:
            errors += 1
            if errors <= 20:
                print(f"U+{cp:04X}: C++ {got_flags} {[hex(c) for c in got_map]}, "
                      f"Python {want_flags} {[hex(c) for c in want_map]}")
    print(f"checked {len(expected_cps)} code points (Python Unicode {unicodedata.unidata_version}), "
          f"{errors} mismatches")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
