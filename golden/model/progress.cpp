#include "esact/model/progress.h"

#include <unistd.h>

#include <cmath>

namespace esact::model {

ProgressReporter::ProgressReporter(std::string label, size_t total, std::string unit, std::FILE* out)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      out_(out),
      tty_(::isatty(::fileno(out)) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

void ProgressReporter::update(size_t done) {
  if (finished_ || total_ == 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (tty_) {
    if (now - last_draw_ < std::chrono::milliseconds(100) && done < total_) return;
    last_draw_ = now;
    print(done, false);
  } else {
    const int decile = static_cast<int>(done * 10 / total_);
    if (decile > last_decile_ && done < total_) {
      last_decile_ = decile;
      print(done, false);
    }
  }
}

void ProgressReporter::finish() {
  if (finished_) return;
  print(total_, true);
  finished_ = true;
}

void ProgressReporter::print(size_t done, bool final_line) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  const double pct = total_ ? 100.0 * static_cast<double>(done) / static_cast<double>(total_) : 100.0;
  char tail[96];
  if (final_line) {
    std::snprintf(tail, sizeof tail, "done in %.1f s", elapsed);
  } else if (rate > 0) {
    std::snprintf(tail, sizeof tail, "ETA %.0f s", static_cast<double>(total_ - done) / rate);
  } else {
    std::snprintf(tail, sizeof tail, "ETA ?");
  }
  std::fprintf(out_, "%s%s: %zu/%zu %s (%3.0f%%), %.1f %s/s, %s%s", tty_ ? "\r\033[K" : "", label_.c_str(), done,
               total_, unit_.c_str(), pct, rate, unit_.c_str(), tail, (tty_ && !final_line) ? "" : "\n");
  std::fflush(out_);
}

}  // namespace esact::model
