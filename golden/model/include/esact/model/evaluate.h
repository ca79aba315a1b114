// Evaluation drivers shared by every forward mode: they tokenise, run a SentenceEncoder over the
// sentences (in parallel worker threads) and score the result.
#pragma once

#include <functional>
#include <vector>

#include "esact/model/encoder.h"
#include "esact/model/stsb.h"
#include "esact/model/tokenizer.h"

namespace esact::model {

struct StsbEvalOptions {
  EncodeOptions encode;   // max length 128, no padding by default
  unsigned threads = 0;   // 0: std::thread::hardware_concurrency()
};

struct StsbEvalResult {
  size_t pairs = 0;
  double spearman = 0.0;        // cosine similarity vs gold score, rank correlation
  double pearson = 0.0;
  double seconds = 0.0;         // tokenise + embed + score
  size_t tokens = 0;            // valid tokens over all sentences (with [CLS]/[SEP])
  size_t truncated = 0;         // sentences cut to max_length
  std::vector<double> cosines;  // per pair, input order
  std::vector<double> gold;
};

// done pairs, total pairs; called under the driver's lock (never concurrently).
using ProgressCallback = std::function<void(size_t done, size_t total)>;

StsbEvalResult evaluate_stsb(const std::vector<StsPair>& pairs, const WordPieceTokenizer& tokenizer,
                             const SentenceEncoder& encoder, const StsbEvalOptions& options = {},
                             const ProgressCallback& progress = {});

}  // namespace esact::model
