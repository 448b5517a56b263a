#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/evaluation/case_distribution.hpp"
#include "analysis/evaluation/evaluation_journal.hpp"
#include "analysis/evaluation/evaluator.hpp"

namespace gatescope {

// One process's part of an evaluation, shared by the segmentation and classification evaluations:
// its journal in the output folder, the cases it runs (all, a shard, or those MPI's rank 0 hands
// out: `distribution`), and once every process is through, the report gathered from every journal
// in the folder.
class EvaluationRun {
 public:
  struct Plan {
    std::filesystem::path out;
    bool resume = false;
    nlohmann::ordered_json identity;  // what must match to resume or merge
    // What the report says besides its cases (docs/scaling.md): {"task", "cases": [ids in order],
    // "paired": {...}, "report": {fields between the preamble and "cases"}}.
    nlohmann::ordered_json context;
    CaseDistribution* distribution = nullptr;  // null: this process runs every case
    // Told of every case counted in this process's progress: those finished before ("resumed"),
    // then each as this process or another one finishes it (from another thread under MPI).
    EvaluationCallback progress;
  };
  // Creates the output folder, checks the journals already there (UsageError for another run's, or
  // for any journal without `resume`), agrees with the other processes that set-up went through,
  // and opens this process's journal.
  explicit EvaluationRun(const Plan& plan);

  [[nodiscard]] std::filesystem::path journalPath() const;
  [[nodiscard]] CaseDistribution& distribution() { return *distribution_; }

  // The next case this process runs (an index into the context's "cases"), or nothing.
  [[nodiscard]] std::optional<size_t> next() { return distribution_->next(); }
  // Journals a finished case's record (its "status" says ok or error; "error" why).
  void append(size_t index, const nlohmann::ordered_json& record, double seconds);
  // Cases this process ran.
  [[nodiscard]] size_t ran() const { return ran_; }

  // After this process's last case: waits for the other processes and, when this one writes the
  // report, gathers every journal in the folder into it (cases in order). Nothing for the others,
  // and nothing when `stopped`. `result` gets the counts (cases, resumed, ran, failed, ...).
  [[nodiscard]] std::optional<nlohmann::ordered_json> finish(bool stopped,
                                                             EvaluationResult& result);

 private:
  Plan plan_;
  std::vector<std::string> ids_;
  std::unique_ptr<CaseDistribution> own_distribution_;
  CaseDistribution* distribution_;
  std::unique_ptr<EvaluationJournal> journal_;
  void tell(size_t index, const std::string& status, const std::string& error, double seconds);

  size_t progress_total_ = 0, resumed_ = 0, ran_ = 0, failed_ = 0;
  std::mutex progress_mutex_;
  size_t progress_done_ = 0;
};

// The context's "paired": the settings of the paired comparison a report is summarised with.
[[nodiscard]] nlohmann::ordered_json pairedSettings(const PairedOptions& paired);

// The report of an evaluation from its context (see EvaluationRun::Plan) and its case records in
// order: provenance, the context's fields, "cases", and the summary and comparison derived from
// them. Without "timings_s" (the caller's to add).
[[nodiscard]] nlohmann::ordered_json assembleReport(const nlohmann::ordered_json& context,
                                                    nlohmann::ordered_json records);
// DIR/report.json and DIR/cases.csv, each written atomically.
void writeReportFiles(const std::filesystem::path& dir, const nlohmann::ordered_json& report);

// The case records of `ids` from `journals` (the first journal holding a case wins); IoError
// naming `dir` and the cases no journal holds.
[[nodiscard]] nlohmann::ordered_json gatherRecords(const std::vector<JournalContents>& journals,
                                                   const std::vector<std::string>& ids,
                                                   const std::filesystem::path& dir);

}  // namespace gatescope
