#!/usr/bin/env python3
"""Independent pure-Python BERT uncased WordPiece tokenizer (the algorithm of BERT's tokenization.py,
written against Python's unicodedata), used to check the C++ tokenizer.

  ref_tokenize.py --probe MODEL_PROBE [--model DIR] [--stsb-dir DIR]
      tokenises every STS-B dev/train sentence plus a list of hard cases with both implementations
      and fails on the first differences.
  ref_tokenize.py --vocab VOCAB TEXT...
      prints the ids of each TEXT.
"""
import argparse
import os
import subprocess
import sys
import unicodedata


def default_model_dir():
    cache = os.environ.get("ESACT_CACHE") or os.path.join(os.environ["HOME"], ".cache", "esact")
    return os.path.join(cache, "models", "all-MiniLM-L6-v2")


def load_vocab(path):
    vocab = {}
    with open(path, encoding="utf-8") as f:
        for index, line in enumerate(f):
            vocab[line.rstrip("\n")] = index
    return vocab


def is_whitespace(ch):
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def is_control(ch):
    return ch not in "\t\n\r" and unicodedata.category(ch).startswith("C")


def is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def basic_tokens(text):
    kept = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or is_control(ch):
            continue
        kept.append(" " if is_whitespace(ch) else ch)
    spaced = "".join(f" {ch} " if is_cjk(ord(ch)) else ch for ch in kept)
    out = []
    for word in spaced.split():
        word = unicodedata.normalize("NFD", word.lower())
        word = "".join(ch for ch in word if unicodedata.category(ch) != "Mn")
        current = ""
        for ch in word:
            if is_punctuation(ch):
                if current:
                    out.append(current)
                out.append(ch)
                current = ""
            else:
                current += ch
        if current:
            out.append(current)
    return " ".join(out).split()


def wordpiece(word, vocab, unk="[UNK]", max_chars=100):
    if len(word) > max_chars:
        return [vocab[unk]]
    ids, start = [], 0
    while start < len(word):
        end, found = len(word), None
        while start < end:
            piece = ("##" if start else "") + word[start:end]
            if piece in vocab:
                found = vocab[piece]
                break
            end -= 1
        if found is None:
            return [vocab[unk]]
        ids.append(found)
        start = end
    return ids


def encode(text, vocab):
    ids = [vocab["[CLS]"]]
    for word in basic_tokens(text):
        ids.extend(wordpiece(word, vocab))
    ids.append(vocab["[SEP]"])
    return ids


HARD_CASES = [
    "Hello, world!",
    "Naïve café owners' résumés — “quoted” text… and ¿qué? ¡Sí!",
    "NAI\u0308VE Å Ångström \u212B ﬁnance ß ẞ İstanbul ǅemal Œuvre Ø ø Ł ł Đ đ",
    "Ελληνικά: εισιτηριον, ΑΘΗΝΑ; русский текст; עברית; العربية",
    "中文字符和日本語のテキスト, 한국어 텍스트",
    "tabs\tand\nnew\rlines\u00a0nbsp\u2003em-space\u2028line-sep\u3000ideographic",
    "control\x01chars\x7f\u200bzero\u200dwidth\ufeffbom\ufffdreplacement",
    "emoji 😀👍🏽 and symbols ©®™ $100 50% #tag @user a+b=c x<y>z ~tilde^ `tick` |pipe|",
    "a" * 99 + " " + "b" * 100 + " " + "c" * 101,
    "supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopic",
    "http://arxiv.culturomics.org e-mail: some.one@example.com (C++17) [brackets] {braces}",
    "don't won't it's I'm y'all ’tis “smart quotes” «guillemets» ‹single›",
    "",
    "   ",
    "Ｆｕｌｌｗｉｄｔｈ　ｔｅｘｔ！",
    "combining: e\u0301 a\u0300 o\u0302 n\u0303 c\u0327 u\u0308\u0301",
    "Hangul 가각 and Devanagari हिन्दी and Thai ภาษาไทย",
]


def read_stsb_sentences(stsb_dir):
    sentences = []
    for split in ("dev", "train"):
        with open(os.path.join(stsb_dir, f"sts-{split}.csv"), encoding="utf-8", newline="\n") as f:
            for line in f:
                fields = line.rstrip("\n").rstrip("\r").split("\t")
                sentences.extend(fields[5:7])
    return sentences


def check(probe, model_dir, stsb_dir):
    vocab_path = os.path.join(model_dir, "vocab.txt")
    if not os.path.isfile(vocab_path):
        sys.exit(f"FAIL: {vocab_path} not found; run ci/fetch-model (or set ESACT_CACHE)")
    vocab = load_vocab(vocab_path)
    sentences = HARD_CASES + (read_stsb_sentences(stsb_dir) if stsb_dir else [])
    # One sentence per line for the probe: line breaks inside hard cases become spaces on both sides.
    sentences = [s.replace("\n", " ").replace("\r", " ") for s in sentences]
    proc = subprocess.run([probe, "tokenize", vocab_path], input="\n".join(sentences) + "\n",
                          capture_output=True, text=True, encoding="utf-8")
    if proc.returncode != 0:
        sys.exit(f"FAIL: probe exited with {proc.returncode}: {proc.stderr}")
    got = proc.stdout.splitlines()
    if len(got) != len(sentences):
        sys.exit(f"FAIL: probe returned {len(got)} lines for {len(sentences)} sentences")
    errors = 0
    for sentence, line in zip(sentences, got):
        want = encode(sentence, vocab)
        have = [int(x) for x in line.split()]
        if have != want:
            errors += 1
            if errors <= 10:
                print(f"MISMATCH for {sentence!r}:\n  C++    {have}\n  Python {want}")
    print(f"{len(sentences)} sentences ({len(HARD_CASES)} hard cases), {errors} mismatches")
    return 1 if errors else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--probe")
    ap.add_argument("--model", default=None)
    ap.add_argument("--stsb-dir")
    ap.add_argument("--vocab")
    ap.add_argument("text", nargs="*")
    args = ap.parse_args()
    if args.probe:
        sys.exit(check(args.probe, args.model or default_model_dir(), args.stsb_dir))
    if not args.vocab:
        ap.error("give --probe or --vocab")
    vocab = load_vocab(args.vocab)
    for t in args.text:
        print(" ".join(str(i) for i in encode(t, vocab)))


if __name__ == "__main__":
    main()
