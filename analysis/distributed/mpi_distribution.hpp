#pragma once

// Evaluation shared among MPI ranks (docs/scaling.md): `mpirun -np N gatescope evaluate ...` or
// `srun gatescope evaluate ...`. Rank 0 hands out cases one at a time as ranks ask for them, so a
// slow case does not hold up the others; every rank journals its own results in the shared output
// folder (journal-rank-R.jsonl); rank 0 gathers the journals and writes the one report. Nothing of
// MPI crosses this header.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "analysis/evaluation/case_distribution.hpp"

namespace gatescope {

// The number of processes the launcher started when this process was started by mpirun, mpiexec
// or srun with more than one, else nothing. GATESCOPE_MPI=0 in the environment turns it off.
[[nodiscard]] std::optional<int> mpiLaunchSize();

class MpiDistribution : public CaseDistribution {
 public:
  // Initialises MPI (Error when the library gives fewer processes than the launcher started: a
  // gatescope built against another MPI than the launcher's).
  explicit MpiDistribution(int launched);
  ~MpiDistribution() override;
  MpiDistribution(const MpiDistribution&) = delete;
  MpiDistribution& operator=(const MpiDistribution&) = delete;

  [[nodiscard]] int rank() const { return rank_; }
  // This rank's place among the ranks on its node, and their number (devices and threads).
  [[nodiscard]] int localRank() const { return local_rank_; }
  [[nodiscard]] int localSize() const { return local_size_; }

  [[nodiscard]] std::string journalName() const override;
  [[nodiscard]] bool decides() const override { return rank_ == 0; }
  [[nodiscard]] bool writesReport() const override { return rank_ == 0; }
  [[nodiscard]] std::string role() const override;
  [[nodiscard]] int processes() const override { return size_; }
  void setupSucceeded() override;
  [[nodiscard]] bool setupFailed() override;
  void begin(size_t cases, const std::vector<bool>& finished,
             std::function<void(size_t, const std::string&, double)> remote) override;
  [[nodiscard]] std::optional<size_t> next() override;
  void finished(size_t index, const std::string& status, double seconds) override;
  void end(bool stopped) override;

  // Whether every rank got through set-up (a failure after that ends the whole job: abort()).
  [[nodiscard]] bool started() const { return started_; }
  // Ends every rank of the job with this exit code.
  [[noreturn]] void abort(int code);

 private:
  [[nodiscard]] bool everyRankOk(bool ok);
  void dispatch();  // rank 0: answers the other ranks until all are through

  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
  bool started_ = false, finalize_ = true;
  // Rank 0's cases left, shared by its own evaluation and the dispatcher thread.
  std::mutex mutex_;
  std::deque<size_t> todo_;
  std::atomic<bool> stop_{false};
  std::function<void(size_t, const std::string&, double)> remote_;
  std::thread dispatcher_;
};

}  // namespace gatescope
