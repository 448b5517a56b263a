#include "workbench/cli/interrupt.hpp"

namespace gatescope::cli {

namespace {

std::atomic<bool> raised{false};

extern "C" void onInterrupt(int) {
  raised = true;
}

}  // namespace

InterruptScope::InterruptScope() {
  raised = false;
  struct sigaction action {};
  action.sa_handler = onInterrupt;
  action.sa_flags = SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &previous_int_);
  sigaction(SIGTERM, &action, &previous_term_);
}

InterruptScope::~InterruptScope() {
  sigaction(SIGINT, &previous_int_, nullptr);
  sigaction(SIGTERM, &previous_term_, nullptr);
}

const std::atomic<bool>* InterruptScope::flag() const {
  return &raised;
}

}  // namespace gatescope::cli
