// esact-eval: evaluate the all-MiniLM-L6-v2 re-implementation on real data.
//
//   esact-eval stsb [--split dev|train] [--data DIR] [--model DIR] [--limit N] [--mode float]
//                   [--threads N] [--json FILE]
//
// Prints the Spearman correlation of cosine similarities with the gold scores; progress on stderr.
// Exit status: 0 success, 1 run-time failure (files, model), 2 usage error.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "esact/model/bert.h"
#include "esact/model/evaluate.h"
#include "esact/model/float_forward.h"
#include "esact/model/progress.h"
#include "esact/model/stsb.h"
#include "esact/model/tokenizer.h"

#ifndef ESACT_DATA_DIR
#define ESACT_DATA_DIR "../shared/data"
#endif

namespace {

using namespace esact::model;

// Forward modes. Integer modes (int8 dense, esact) are added by the quantised forward.
enum class Mode { kFloat };

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr char kUsage[] =
    "usage: esact-eval <command> [options]\n"
    "\n"
    "commands:\n"
    "  stsb    STS Benchmark: Spearman of cosine similarity vs gold score\n"
    "\n"
    "stsb options:\n"
    "  --split dev|train   data split (default dev)\n"
    "  --data DIR          data folder holding stsb/ (default " ESACT_DATA_DIR ")\n"
    "  --model DIR         model folder from ci/fetch-model\n"
    "                      (default ${ESACT_CACHE:-$HOME/.cache/esact}/models/all-MiniLM-L6-v2)\n"
    "  --limit N           evaluate only the first N pairs\n"
    "  --mode float        forward implementation (float; int8 and esact come later)\n"
    "  --threads N         worker threads (default: all cores)\n"
    "  --max-length N      token limit including [CLS]/[SEP] (default 128)\n"
    "  --json FILE         also write the result as JSON\n"
    "  -h, --help          this help\n";

struct StsbArgs {
  std::string split = "dev";
  std::string data_dir = ESACT_DATA_DIR;
  std::string model_dir;
  std::optional<size_t> limit;
  Mode mode = Mode::kFloat;
  unsigned threads = 0;
  size_t max_length = 128;
  std::string json_path;
};

size_t parse_count(const std::string& option, const std::string& text, size_t min, size_t max) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
    throw UsageError(option + " expects a non-negative integer, got '" + text + "'");
  }
  errno = 0;
  const unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
  if (errno == ERANGE || v < min || v > max) {
    throw UsageError(option + " must be between " + std::to_string(min) + " and " + std::to_string(max) +
                     ", got '" + text + "'");
  }
  return static_cast<size_t>(v);
}

StsbArgs parse_stsb_args(const std::vector<std::string>& args, bool& help) {
  StsbArgs a;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& opt = args[i];
    if (opt == "-h" || opt == "--help") { help = true; return a; }
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw UsageError(opt + " needs a value");
      return args[++i];
    };
    if (opt == "--split") {
      a.split = value();
      if (a.split != "dev" && a.split != "train") {
        throw UsageError("--split must be dev or train, got '" + a.split + "' (the test split is held out)");
      }
    } else if (opt == "--data") {
      a.data_dir = value();
    } else if (opt == "--model") {
      a.model_dir = value();
    } else if (opt == "--limit") {
      a.limit = parse_count(opt, value(), 2, 1000000000);
    } else if (opt == "--mode") {
      const std::string& m = value();
      if (m == "float") {
        a.mode = Mode::kFloat;
      } else if (m == "int8" || m == "esact") {
        throw UsageError("--mode " + m + " is not implemented yet (available: float)");
      } else {
        throw UsageError("--mode must be float, got '" + m + "'");
      }
    } else if (opt == "--threads") {
      a.threads = static_cast<unsigned>(parse_count(opt, value(), 1, 256));
    } else if (opt == "--max-length") {
      a.max_length = parse_count(opt, value(), 2, 512);
    } else if (opt == "--json") {
      a.json_path = value();
    } else {
      throw UsageError("unknown option '" + opt + "' for stsb");
    }
  }
  return a;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

const char* mode_name(Mode mode) {
  switch (mode) {
    case Mode::kFloat: return "float";
  }
  return "?";
}

int run_stsb(const StsbArgs& args) {
  const std::string data_path = stsb_path(args.data_dir, args.split);
  const std::string model_dir = args.model_dir.empty() ? default_model_dir() : args.model_dir;

  std::vector<StsPair> pairs = read_stsb(data_path);
  if (args.limit && *args.limit < pairs.size()) pairs.resize(*args.limit);

  const WordPieceTokenizer tokenizer = WordPieceTokenizer::from_vocab_file(model_dir + "/vocab.txt");
  const BertWeights weights = BertWeights::load(model_dir);

  std::unique_ptr<SentenceEncoder> encoder;
  switch (args.mode) {
    case Mode::kFloat: encoder = std::make_unique<FloatBertEncoder>(weights); break;
  }

  StsbEvalOptions options;
  options.encode.max_length = args.max_length;
  options.threads = args.threads;
  ProgressReporter progress("stsb " + args.split + " " + encoder->name(), pairs.size());
  const StsbEvalResult r = evaluate_stsb(pairs, tokenizer, *encoder, options,
                                         [&](size_t done, size_t) { progress.update(done); });
  progress.finish();

  std::printf("stsb %s, mode %s, %zu pairs: spearman %.4f  pearson %.4f  (%.1f s, %.1f sentences/s, %.1f tokens/sentence, %zu truncated)\n",
              args.split.c_str(), mode_name(args.mode), r.pairs, r.spearman, r.pearson, r.seconds,
              2.0 * static_cast<double>(r.pairs) / r.seconds,
              static_cast<double>(r.tokens) / (2.0 * static_cast<double>(r.pairs)), r.truncated);

  if (!args.json_path.empty()) {
    std::ofstream out(args.json_path);
    if (!out) throw std::runtime_error("cannot write JSON file '" + args.json_path + "'");
    out << "{\n"
        << "  \"task\": \"stsb\",\n"
        << "  \"split\": \"" << args.split << "\",\n"
        << "  \"mode\": \"" << mode_name(args.mode) << "\",\n"
        << "  \"data\": \"" << json_escape(data_path) << "\",\n"
        << "  \"model\": \"" << json_escape(model_dir) << "\",\n"
        << "  \"pairs\": " << r.pairs << ",\n"
        << "  \"max_length\": " << args.max_length << ",\n"
        << "  \"spearman\": " << r.spearman << ",\n"
        << "  \"pearson\": " << r.pearson << ",\n"
        << "  \"seconds\": " << r.seconds << ",\n"
        << "  \"tokens\": " << r.tokens << ",\n"
        << "  \"truncated\": " << r.truncated << "\n"
        << "}\n";
    if (!out) throw std::runtime_error("error writing JSON file '" + args.json_path + "'");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.empty()) throw UsageError("missing command");
    if (args[0] == "-h" || args[0] == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (args[0] == "stsb") {
      bool help = false;
      const StsbArgs a = parse_stsb_args({args.begin() + 1, args.end()}, help);
      if (help) {
        std::fputs(kUsage, stdout);
        return 0;
      }
      return run_stsb(a);
    }
    throw UsageError("unknown command '" + args[0] + "'");
  } catch (const UsageError& e) {
    std::fprintf(stderr, "esact-eval: %s\n(try esact-eval -h)\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "esact-eval: error: %s\n", e.what());
    return 1;
  }
}
