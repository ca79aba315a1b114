// Progress display for long runs on stderr: "label: done/total unit (pct), rate, ETA".
// On a terminal the line is redrawn in place (at most ~10 times a second); otherwise one line is
// printed at each 10 % step so logs stay short.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace esact::model {

class ProgressReporter {
 public:
  ProgressReporter(std::string label, size_t total, std::string unit = "pairs", std::FILE* out = stderr);
  // Thread-compatible, not thread-safe: callers serialise.
  void update(size_t done);
  // Prints the final line (100 % and elapsed time).
  void finish();

 private:
  void print(size_t done, bool final_line);

  std::string label_;
  size_t total_;
  std::string unit_;
  std::FILE* out_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  int last_decile_ = 0;
  bool finished_ = false;
};

}  // namespace esact::model
