#pragma once

#include <chrono>
#include <string>

namespace gatescope::cli {

// Progress of long work on stderr: a redrawn bar with ETA on a terminal; when stderr is
// redirected, plain lines - the first step, then at most one every kLineSeconds, and the last -
// so that logs stay short; nothing with --quiet.
class Progress {
 public:
  Progress(std::string what, size_t total, bool quiet);
  void step(size_t done, const std::string& detail);
  void finish();

 private:
  std::string what_;
  size_t total_;
  bool quiet_;
  bool terminal_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_line_;
  size_t lines_ = 0;
  static constexpr double kLineSeconds = 5.0;
};

}  // namespace gatescope::cli
