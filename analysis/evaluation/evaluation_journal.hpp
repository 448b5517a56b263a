#pragma once

#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace gatescope {

// DIR/journal.jsonl of an evaluation: the first line holds the run's identity (models and their
// hashes, dataset, split, metric and attention settings), then one line per finished case, each
// on disk (fsync) before the next case starts, with the SHA-256 of its record. A run killed at any
// moment loses at most the case in progress. When the journal is reopened, every line that is torn
// or whose checksum does not match (anywhere in the file) is dropped and its case runs again.
class EvaluationJournal {
 public:
  // resume = false: the journal must not exist yet (UsageError saying to use --resume or another
  // folder). resume = true: an existing journal must carry the same identity (UsageError naming
  // what differs); a missing one is started.
  EvaluationJournal(const std::filesystem::path& path, const nlohmann::ordered_json& identity, bool resume);
  ~EvaluationJournal();
  EvaluationJournal(const EvaluationJournal&) = delete;
  EvaluationJournal& operator=(const EvaluationJournal&) = delete;

  // Case records already in the journal, by case id.
  [[nodiscard]] const std::map<std::string, nlohmann::ordered_json>& finished() const { return finished_; }
  void append(const nlohmann::ordered_json& record);
  // Case lines dropped when the journal was reopened (torn, damaged or edited).
  [[nodiscard]] size_t rejected() const { return rejected_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  size_t rejected_ = 0;
  std::map<std::string, nlohmann::ordered_json> finished_;
};

}  // namespace gatescope
