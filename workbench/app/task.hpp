#pragma once

// Work the workbench runs off the UI thread (reading a case, an evaluation): progress, a message,
// cancellation and the error, read by the UI each frame. The UI never waits on a task.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace gatescope::workbench {

class Task {
 public:
  // What the work reports through: fraction done (0..1, or < 0 when unknown) and a line of text.
  struct Reporter {
    Task* task;
    void progress(double fraction, const std::string& message) const;
    [[nodiscard]] bool cancelled() const { return task->cancel_.load(); }
    [[nodiscard]] const std::atomic<bool>* cancelFlag() const { return &task->cancel_; }
  };
  using Work = std::function<void(const Reporter&)>;

  Task(std::string title, Work work);
  ~Task();  // asks the work to stop and waits for it
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  [[nodiscard]] const std::string& title() const { return title_; }
  [[nodiscard]] bool done() const { return done_.load(); }
  [[nodiscard]] double fraction() const { return fraction_.load(); }
  [[nodiscard]] double seconds() const;
  [[nodiscard]] std::string message() const;
  [[nodiscard]] std::string error() const;  // empty when the work succeeded (or is running)
  void cancel() { cancel_ = true; }
  [[nodiscard]] bool cancelRequested() const { return cancel_.load(); }

 private:
  std::string title_;
  std::atomic<bool> done_{false}, cancel_{false};
  std::atomic<double> fraction_{-1.0};
  mutable std::mutex mutex_;
  std::string message_, error_;
  double start_ = 0.0, end_ = 0.0;
  std::thread thread_;
};

}  // namespace gatescope::workbench
