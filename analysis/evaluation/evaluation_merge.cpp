#include "analysis/evaluation/evaluation_merge.hpp"

#include <fmt/format.h>

#include <chrono>
#include <regex>
#include <set>

#include "analysis/core/error.hpp"
#include "analysis/evaluation/evaluation_journal.hpp"
#include "analysis/evaluation/evaluation_run.hpp"
#include "analysis/evaluation/nnunet_results.hpp"

namespace gatescope {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

// "shards 1/4, 3/4 have not finished" for the missing cases at these positions, when the folders
// hold journals of shards out of N.
std::string shardHint(const std::vector<JournalContents>& journals,
                      const std::vector<size_t>& missing) {
  static const std::regex kShardName(R"(journal-shard-(\d+)-of-(\d+)\.jsonl)");
  std::set<size_t> counts;
  for (const auto& journal : journals) {
    std::smatch match;
    const std::string name = journal.path.filename().string();
    if (std::regex_match(name, match, kShardName)) counts.insert(std::stoul(match[2].str()));
  }
  if (counts.size() != 1) return "";
  const size_t n = *counts.begin();
  std::set<size_t> owners;
  for (size_t index : missing) owners.insert(index % n);
  std::vector<std::string> names;
  for (size_t k : owners) names.push_back(fmt::format("{}/{}", k, n));
  return fmt::format("; shard{} {} ha{} not finished: run {} again with --resume",
                     names.size() > 1 ? "s" : "", fmt::join(names, ", "),
                     names.size() > 1 ? "ve" : "s", names.size() > 1 ? "them" : "it");
}

// Makes every file under `from` visible at the same place under `to`: a hard link, or a copy on
// another file system. Files already there are left as they are.
size_t linkTree(const fs::path& from, const fs::path& to) {
  size_t linked = 0;
  for (const auto& entry : fs::recursive_directory_iterator(from)) {
    if (!entry.is_regular_file()) continue;
    const fs::path target = to / fs::relative(entry.path(), from);
    if (fs::exists(target)) continue;
    fs::create_directories(target.parent_path());
    std::error_code ec;
    fs::create_hard_link(entry.path(), target, ec);
    if (ec) fs::copy_file(entry.path(), target);
    ++linked;
  }
  return linked;
}

}  // namespace

MergeResult mergeEvaluations(const std::vector<fs::path>& dirs, const fs::path& out) {
  const auto start = std::chrono::steady_clock::now();
  if (dirs.empty()) throw UsageError("merge needs at least one evaluation folder");
  std::vector<JournalContents> journals;
  for (const fs::path& dir : dirs) {
    if (!fs::is_directory(dir)) throw UsageError(dir.string() + ": no such folder");
    const std::vector<fs::path> files = journalFiles(dir);
    if (files.empty())
      throw UsageError(dir.string() +
                       ": holds no evaluation journal (journal.jsonl or journal-*.jsonl)");
    for (const fs::path& file : files) journals.push_back(readJournal(file));
  }
  const JournalContents& first = journals.front();
  for (const auto& journal : journals) {
    if (journal.context.is_null() || !journal.context.contains("cases"))
      throw FormatError(journal.path.string() +
                        ": written by an older gatescope without the run's context; run the same "
                        "evaluate with --resume in its folder once, then merge");
    checkSameRun(journal.path, journal.identity, first.identity,
                 "merge joins only runs of the same models, dataset and settings");
    if (journal.context["cases"] != first.context["cases"])
      throw UsageError(fmt::format(
          "{}: ran over another list of cases than {} (a different dataset, split or --limit)",
          journal.path.string(), first.path.string()));
  }
  std::vector<std::string> ids;
  for (const auto& id : first.context["cases"]) ids.push_back(id.get<std::string>());
  std::vector<size_t> missing;
  for (size_t i = 0; i < ids.size(); ++i) {
    bool found = false;
    for (const auto& journal : journals) found = found || journal.records.contains(ids[i]);
    if (!found) missing.push_back(i);
  }
  if (!missing.empty()) {
    std::vector<std::string> shown;
    for (size_t n = 0; n < missing.size() && n < 5; ++n) shown.push_back(ids[missing[n]]);
    throw IoError(fmt::format("{}: {} of {} case(s) are in no journal ({}{}){}",
                              dirs.front().string(), missing.size(), ids.size(),
                              fmt::join(shown, ", "), missing.size() > shown.size() ? ", ..." : "",
                              shardHint(journals, missing)));
  }

  MergeResult result;
  result.journals = journals.size();
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec || !fs::is_directory(out))
    throw IoError(out.string() + ": cannot create the output folder" +
                  (ec ? ": " + ec.message() : ""));
  for (const fs::path& dir : dirs)
    if (fs::exists(dir / "predictions") && !fs::equivalent(dir, out))
      result.linked_files += linkTree(dir / "predictions", out / "predictions");
  result.report = assembleReport(first.context, gatherRecords(journals, ids, dirs.front()));
  result.report["timings_s"] = {
      {"total", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()},
      {"merged_journals", journals.size()}};
  addNnunetChecks(result.report);
  writeReportFiles(out, result.report);
  return result;
}

}  // namespace gatescope
