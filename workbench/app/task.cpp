#include "workbench/app/task.hpp"

#include <chrono>
#include <exception>

namespace gatescope::workbench {

namespace {
double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

void Task::Reporter::progress(double fraction, const std::string& message) const {
  task->fraction_ = fraction;
  std::lock_guard lock(task->mutex_);
  task->message_ = message;
}

Task::Task(std::string title, Work work) : title_(std::move(title)), start_(now()) {
  thread_ = std::thread([this, work = std::move(work)] {
    try {
      work(Reporter{this});
    } catch (const std::exception& e) {
      std::lock_guard lock(mutex_);
      error_ = e.what();
    } catch (...) {
      std::lock_guard lock(mutex_);
      error_ = "unknown error";
    }
    {
      std::lock_guard lock(mutex_);
      end_ = now();
    }
    done_ = true;
  });
}

Task::~Task() {
  cancel_ = true;
  if (thread_.joinable()) thread_.join();
}

double Task::seconds() const {
  std::lock_guard lock(mutex_);
  return (done_.load() ? end_ : now()) - start_;
}

std::string Task::message() const {
  std::lock_guard lock(mutex_);
  return message_;
}

std::string Task::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

}  // namespace gatescope::workbench
