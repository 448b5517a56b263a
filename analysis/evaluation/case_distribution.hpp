#pragma once

// How the cases of one evaluation are shared among processes (docs/scaling.md): one process runs
// them all; `--shard K/N` runs a fixed share; MPI ranks take cases one at a time from rank 0
// (analysis/distributed). Every process writes its own journal in the output folder; the process
// that writes the report reads them all.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "analysis/core/error.hpp"

namespace gatescope {

// Another process of a shared evaluation failed and reports why; this one stops without a message.
class PeerFailure : public Error {
 public:
  using Error::Error;
};

class CaseDistribution {
 public:
  virtual ~CaseDistribution() = default;

  // This process's journal file name in the output folder.
  [[nodiscard]] virtual std::string journalName() const = 0;
  // Whether this process works out which cases are left (from every journal in the folder).
  [[nodiscard]] virtual bool decides() const { return true; }
  // Whether this process gathers every journal in the folder and writes the report at the end.
  [[nodiscard]] virtual bool writesReport() const = 0;
  // "shard 1/4", "rank 2 of 8": for messages; empty for a single process.
  [[nodiscard]] virtual std::string role() const { return ""; }
  // The processes taking part (1 for a single process or a shard).
  [[nodiscard]] virtual int processes() const { return 1; }

  // Called once by every process when its set-up went through (models loaded, dataset read,
  // existing journals checked). Returns normally when every process's did; otherwise throws
  // PeerFailure (another process failed and says why).
  virtual void setupSucceeded() {}
  // Called instead of setupSucceeded by a process whose set-up failed: whether this process should
  // report its error (false: the leading process reports the same failure).
  [[nodiscard]] virtual bool setupFailed() { return true; }

  // Called once after set-up: the number of cases and which are finished already (known to a
  // process that decides; the others get an empty list). `remote` is called (from another thread)
  // when another process finished a case: its index, status and seconds.
  virtual void begin(size_t cases, const std::vector<bool>& finished,
                     std::function<void(size_t, const std::string&, double)> remote) = 0;
  // The next case this process runs, or nothing when none is left for it.
  [[nodiscard]] virtual std::optional<size_t> next() = 0;
  // This process finished a case (index, "ok"/"error", seconds).
  virtual void finished(size_t /*index*/, const std::string& /*status*/, double /*seconds*/) {}
  // After this process's last case (or when it stops early): returns once every process is
  // through, so that the process writing the report can gather their journals.
  virtual void end(bool /*stopped*/) {}
  // Whether the case at `index` counts in this process's progress: every case for a single process
  // and MPI's rank 0, its share for a shard.
  [[nodiscard]] virtual bool counts(size_t /*index*/) const { return true; }
};

// One process runs every case that is not finished, in order.
class WholeRun : public CaseDistribution {
 public:
  [[nodiscard]] std::string journalName() const override { return "journal.jsonl"; }
  [[nodiscard]] bool writesReport() const override { return true; }
  void begin(size_t cases, const std::vector<bool>& finished,
             std::function<void(size_t, const std::string&, double)>) override;
  [[nodiscard]] std::optional<size_t> next() override;

 protected:
  std::vector<size_t> todo_;
  size_t handed_ = 0;
};

// `--shard K/N`: the cases whose position in the split (after --limit) is K modulo N, into
// journal-shard-K-of-N.jsonl; `gatescope merge` writes the report.
class ShardRun : public WholeRun {
 public:
  ShardRun(int index, int count) : index_(index), count_(count) {}
  [[nodiscard]] std::string journalName() const override;
  [[nodiscard]] bool writesReport() const override { return false; }
  [[nodiscard]] std::string role() const override;
  void begin(size_t cases, const std::vector<bool>& finished,
             std::function<void(size_t, const std::string&, double)>) override;
  [[nodiscard]] bool counts(size_t index) const override {
    return static_cast<int>(index % static_cast<size_t>(count_)) == index_;
  }

 private:
  int index_, count_;
};

// "K/N" with 0 <= K < N; UsageError naming the flag otherwise.
[[nodiscard]] ShardRun parseShard(const std::string& text);

}  // namespace gatescope
