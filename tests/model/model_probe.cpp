// Command-line probe used by the Python reference scripts (ref_tokenize.py, ref_forward.py,
// check_unicode.py) to drive the C++ implementation:
//   model_probe unicode FIRST LAST     one line per code point: cp flags mapped-code-points
//   model_probe tokenize VOCAB         stdin: one sentence per line; stdout: ids per line
//   model_probe embed MODEL_DIR        stdin: one sentence per line; stdout: embedding per line
//   model_probe model-dir              prints the default model folder
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "esact/model/float_forward.h"
#include "esact/model/tokenizer.h"
#include "esact/model/unicode.h"

using namespace esact::model;

int main(int argc, char** argv) {
  try {
    const std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "unicode" && argc == 4) {
      namespace uc = unicode;
      const auto first = static_cast<char32_t>(std::strtoul(argv[2], nullptr, 0));
      const auto last = static_cast<char32_t>(std::strtoul(argv[3], nullptr, 0));
      for (char32_t cp = first; cp <= last; ++cp) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        std::u32string lowered, stripped;
        uc::append_lower(lowered, cp);
        for (char32_t c : lowered) uc::append_accent_stripped(stripped, c);
        std::printf("%X %d%d%d%d%d", static_cast<unsigned>(cp), uc::is_control(cp), uc::is_whitespace(cp),
                    uc::is_punctuation(cp), uc::is_nonspacing_mark(cp), uc::is_cjk_ideograph(cp));
        for (char32_t c : stripped) std::printf(" %X", static_cast<unsigned>(c));
        std::printf("\n");
      }
      return 0;
    }
    if (cmd == "tokenize" && argc == 3) {
      const auto tok = WordPieceTokenizer::from_vocab_file(argv[2]);
      std::string line;
      while (std::getline(std::cin, line)) {
        const auto ids = tok.encode(line, {512, false}).input_ids;
        for (size_t i = 0; i < ids.size(); ++i) std::printf(i ? " %d" : "%d", ids[i]);
        std::printf("\n");
      }
      return 0;
    }
    if (cmd == "embed" && argc == 3) {
      const std::string dir = argv[2];
      const auto tok = WordPieceTokenizer::from_vocab_file(dir + "/vocab.txt");
      const BertWeights weights = BertWeights::load(dir);
      const FloatBertEncoder encoder(weights);
      std::string line;
      while (std::getline(std::cin, line)) {
        const auto e = encoder.embed(tok.encode(line));
        for (size_t i = 0; i < e.size(); ++i) std::printf(i ? " %.9g" : "%.9g", e[i]);
        std::printf("\n");
      }
      return 0;
    }
    if (cmd == "model-dir" && argc == 2) {
      std::printf("%s\n", default_model_dir().c_str());
      return 0;
    }
    std::fprintf(stderr, "usage: model_probe unicode FIRST LAST | tokenize VOCAB | embed MODEL_DIR | model-dir\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "model_probe: %s\n", e.what());
    return 1;
  }
}
