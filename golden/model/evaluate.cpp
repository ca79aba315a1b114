#include "esact/model/evaluate.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <thread>

#include "esact/model/stats.h"

namespace esact::model {

StsbEvalResult evaluate_stsb(const std::vector<StsPair>& pairs, const WordPieceTokenizer& tokenizer,
                             const SentenceEncoder& encoder, const StsbEvalOptions& options,
                             const ProgressCallback& progress) {
  const auto start = std::chrono::steady_clock::now();
  StsbEvalResult result;
  result.pairs = pairs.size();
  result.cosines.assign(pairs.size(), 0.0);
  result.gold.reserve(pairs.size());
  for (const StsPair& p : pairs) result.gold.push_back(p.score);

  unsigned threads = options.threads != 0 ? options.threads : std::thread::hardware_concurrency();
  if (threads == 0) threads = 1;
  threads = static_cast<unsigned>(std::min<size_t>(threads, std::max<size_t>(pairs.size(), 1)));

  std::atomic<size_t> next{0};
  std::mutex lock;
  size_t done = 0;
  std::exception_ptr error;
  auto worker = [&] {
    size_t tokens = 0, truncated = 0;
    try {
      for (size_t i = next++; i < pairs.size(); i = next++) {
        const Encoding a = tokenizer.encode(pairs[i].sentence1, options.encode);
        const Encoding b = tokenizer.encode(pairs[i].sentence2, options.encode);
        for (const Encoding* e : {&a, &b}) {
          tokens += e->valid_length;
          if (e->valid_length == options.encode.max_length) {
            // At max length the text may have been cut; count it when there were more pieces.
            truncated += tokenizer.tokenize_ids(e == &a ? pairs[i].sentence1 : pairs[i].sentence2).size() + 2 >
                         options.encode.max_length;
          }
        }
        result.cosines[i] = cosine(encoder.embed(a), encoder.embed(b));
        std::lock_guard<std::mutex> guard(lock);
        ++done;
        if (progress) progress(done, pairs.size());
      }
    } catch (...) {
      std::lock_guard<std::mutex> guard(lock);
      if (!error) error = std::current_exception();
      next = pairs.size();
    }
    std::lock_guard<std::mutex> guard(lock);
    result.tokens += tokens;
    result.truncated += truncated;
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  if (error) std::rethrow_exception(error);

  result.spearman = spearman(result.cosines, result.gold);
  result.pearson = pearson(result.cosines, result.gold);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace esact::model
