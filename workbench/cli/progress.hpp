#pragma once

#include <chrono>
#include <string>

namespace gatescope::cli {

// Progress of long work on stderr: a redrawn bar with ETA on a terminal, one plain line per step
// when stderr is redirected, nothing with --quiet.
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
  std::chrono::steady_clock::time_point start_;
};

}  // namespace gatescope::cli
