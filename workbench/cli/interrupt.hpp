#pragma once

#include <atomic>
#include <csignal>

namespace gatescope::cli {

// While it lives, the first Ctrl-C (or SIGTERM) only raises a flag that long work polls between
// steps, so it can stop cleanly; the handler then resets itself, so a second Ctrl-C stops at once.
class InterruptScope {
 public:
  InterruptScope();
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

  [[nodiscard]] const std::atomic<bool>* flag() const;
  [[nodiscard]] bool interrupted() const { return flag()->load(); }

 private:
  struct sigaction previous_int_ {};
  struct sigaction previous_term_ {};
};

}  // namespace gatescope::cli
