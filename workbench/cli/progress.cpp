#include "workbench/cli/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace gatescope::cli {

Progress::Progress(std::string what, size_t total, bool quiet)
    : what_(std::move(what)),
      total_(total),
      quiet_(quiet),
      terminal_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()) {}

void Progress::step(size_t done, const std::string& detail) {
  if (quiet_ || total_ == 0) return;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double eta =
      done > 0 ? elapsed / static_cast<double>(done) * static_cast<double>(total_ - done) : 0.0;
  if (terminal_) {
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(kWidth * done / total_);
    std::fputs(fmt::format("\r{} [{}{}] {}/{}  {:.1f}s elapsed, ETA {:.1f}s  {:<30.30}", what_,
                           std::string(static_cast<size_t>(filled), '#'),
                           std::string(static_cast<size_t>(kWidth - filled), '.'), done, total_,
                           elapsed, eta, detail)
                   .c_str(),
               stderr);
    drawn_ = true;
  } else {
    // A log, not a screen: the first step, then a line every kLineSeconds, and the last step.
    const auto now = std::chrono::steady_clock::now();
    if (lines_ > 0 && done < total_ &&
        std::chrono::duration<double>(now - last_line_).count() < kLineSeconds)
      return;
    last_line_ = now;
    ++lines_;
    std::fputs(fmt::format("{} {}/{} {} ({:.1f}s elapsed, ETA {:.1f}s)\n", what_, done, total_,
                           detail, elapsed, eta)
                   .c_str(),
               stderr);
  }
  std::fflush(stderr);
}

void Progress::finish() {
  if (drawn_) std::fputs("\n", stderr);
  drawn_ = false;
}

}  // namespace gatescope::cli
