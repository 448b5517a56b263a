#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace gatescope {

// DIR/journal.jsonl of an evaluation (journal-shard-K-of-N.jsonl of a shard, journal-rank-R.jsonl
// of an MPI rank): the first line holds the run's identity (models and their hashes, dataset,
// split, metric and attention settings) and its context (what the report says besides its cases,
// and the case ids in order: all a merge needs), then one line per finished case, each on disk
// (fsync) before the next case starts, with the SHA-256 of its record. A run killed at any moment
// loses at most the case in progress. When the journal is reopened, every line that is torn or
// whose checksum does not match (anywhere in the file) is dropped and its case runs again.
class EvaluationJournal {
 public:
  // resume = false: the journal must not exist yet (UsageError saying to use --resume or another
  // folder). resume = true: an existing journal must carry the same identity (UsageError naming
  // what differs); a missing one is started.
  // The stored context is replaced by `context` when it differs.
  EvaluationJournal(const std::filesystem::path& path, const nlohmann::ordered_json& identity,
                    bool resume, const nlohmann::ordered_json& context = nlohmann::ordered_json());
  ~EvaluationJournal();
  EvaluationJournal(const EvaluationJournal&) = delete;
  EvaluationJournal& operator=(const EvaluationJournal&) = delete;

  // Whether the journal holds the case's record.
  [[nodiscard]] bool finished(const std::string& case_id) const {
    return finished_.contains(case_id);
  }
  [[nodiscard]] size_t finishedCount() const { return finished_.size(); }
  // Every case record in the journal, by case id, read back from the file: records are not kept in
  // memory while a run goes on, so a long evaluation's memory does not grow with its cases.
  [[nodiscard]] std::map<std::string, nlohmann::ordered_json> records() const;
  void append(const nlohmann::ordered_json& record);
  // Case lines dropped when the journal was reopened (torn, damaged or edited).
  [[nodiscard]] size_t rejected() const { return rejected_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  size_t rejected_ = 0;
  std::set<std::string> finished_;
};

// A journal read without changing it (another process may still be appending to it).
struct JournalContents {
  std::filesystem::path path;
  nlohmann::ordered_json identity, context;  // context: null in journals written before it existed
  std::map<std::string, nlohmann::ordered_json> records;  // case id -> record, verified lines only
  size_t rejected = 0;  // torn or damaged case lines (a torn last line of a running process too)
};
// FormatError naming the file when its first line is damaged or not a journal's.
[[nodiscard]] JournalContents readJournal(const std::filesystem::path& path);

// The journals of an evaluation in DIR: journal.jsonl, then journal-*.jsonl in name order.
[[nodiscard]] std::vector<std::filesystem::path> journalFiles(const std::filesystem::path& dir);

// UsageError naming the journal, the first top-level identity key that differs and `hint`, when
// `found` (read from `path`) is not the identity `wanted`.
void checkSameRun(
    const std::filesystem::path& path, const nlohmann::ordered_json& found,
    const nlohmann::ordered_json& wanted,
    const std::string& hint = "--resume continues only the same models, dataset and settings");

}  // namespace gatescope
