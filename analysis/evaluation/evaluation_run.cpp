#include "analysis/evaluation/evaluation_run.hpp"

#include <fmt/format.h>

#include <map>

#include "analysis/core/error.hpp"
#include "analysis/evaluation/classification_evaluation.hpp"
#include "analysis/evaluation/evaluation_report.hpp"
#include "analysis/evaluation/evaluator.hpp"
#include "analysis/io/file_util.hpp"

namespace gatescope {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

EvaluationRun::EvaluationRun(const Plan& plan) : plan_(plan) {
  for (const auto& id : plan.context.at("cases")) ids_.push_back(id.get<std::string>());
  if (!plan.distribution) own_distribution_ = std::make_unique<WholeRun>();
  distribution_ = plan.distribution ? plan.distribution : own_distribution_.get();

  std::error_code ec;
  fs::create_directories(plan.out, ec);
  if (ec || !fs::is_directory(plan.out))
    throw IoError(plan.out.string() + ": cannot create the output folder" +
                  (ec ? ": " + ec.message() : ""));
  const fs::path own = journalPath();
  std::vector<bool> finished(ids_.size(), false);
  if (distribution_->decides()) {
    // Every journal here must be this run's; without --resume, a process's own journal must not
    // exist yet, and a process writing the report starts only in a folder without journals (shards
    // share a folder, so a shard leaves the others' journals alone).
    std::map<std::string, bool> done;
    for (const fs::path& path : journalFiles(plan.out)) {
      if (!plan.resume && (path == own || distribution_->writesReport()))
        throw UsageError(plan.out.string() + " already holds an evaluation (" +
                         path.filename().string() +
                         "): add --resume to continue or re-summarise it, or choose another --out");
      const JournalContents journal = readJournal(path);
      checkSameRun(path, journal.identity, plan.identity);
      if (plan.resume)
        for (const auto& [id, record] : journal.records) done[id] = true;
    }
    for (size_t i = 0; i < ids_.size(); ++i) finished[i] = done.contains(ids_[i]);
  }
  distribution_->setupSucceeded();
  journal_ = std::make_unique<EvaluationJournal>(own, plan.identity, plan.resume, plan.context);
  for (size_t i = 0; i < ids_.size(); ++i) progress_total_ += distribution_->counts(i) ? 1 : 0;
  for (size_t i = 0; i < ids_.size(); ++i)
    if (finished[i] && distribution_->counts(i)) {
      ++resumed_;
      tell(i, "resumed", "", 0.0);
    }
  distribution_->begin(ids_.size(), finished,
                       [this](size_t index, const std::string& status, double seconds) {
                         if (distribution_->counts(index)) tell(index, status, "", seconds);
                       });
}

void EvaluationRun::tell(size_t index, const std::string& status, const std::string& error,
                         double seconds) {
  if (!plan_.progress) return;
  std::lock_guard lock(progress_mutex_);
  plan_.progress({++progress_done_, progress_total_, ids_[index], status, error, seconds});
}

fs::path EvaluationRun::journalPath() const {
  return plan_.out / distribution_->journalName();
}

void EvaluationRun::append(size_t index, const Json& record, double seconds) {
  journal_->append(record);
  const std::string status = record.value("status", "error");
  ++ran_;
  failed_ += status == "ok" ? 0 : 1;
  distribution_->finished(index, status, seconds);
  tell(index, status, record.value("error", ""), seconds);
}

std::optional<Json> EvaluationRun::finish(bool stopped, EvaluationResult& result) {
  distribution_->end(stopped);
  result.cases = ids_.size();
  result.resumed = resumed_;
  result.journal_rejected = journal_->rejected();
  result.journal = journalPath();
  result.ran = ran_;
  result.ran_failed = failed_;
  result.cancelled = stopped;
  if (stopped || !distribution_->writesReport()) return std::nullopt;
  std::vector<JournalContents> journals;
  for (const fs::path& path : journalFiles(plan_.out)) journals.push_back(readJournal(path));
  Json report = assembleReport(plan_.context, gatherRecords(journals, ids_, plan_.out));
  for (const auto& record : report["cases"]) result.failed += record["status"] == "ok" ? 0 : 1;
  return report;
}

Json pairedSettings(const PairedOptions& paired) {
  return {
      {"resamples", paired.resamples}, {"seed", paired.seed}, {"confidence", paired.confidence}};
}

Json gatherRecords(const std::vector<JournalContents>& journals,
                   const std::vector<std::string>& ids, const fs::path& dir) {
  Json records = Json::array();
  std::vector<std::string> missing;
  for (const auto& id : ids) {
    const Json* found = nullptr;
    for (const auto& journal : journals) {
      const auto it = journal.records.find(id);
      if (it != journal.records.end()) {
        found = &it->second;
        break;
      }
    }
    if (found)
      records.push_back(*found);
    else
      missing.push_back(id);
  }
  if (!missing.empty()) {
    const size_t shown = std::min<size_t>(missing.size(), 5);
    throw IoError(fmt::format("{}: {} of {} case(s) are in no journal ({}{})", dir.string(),
                              missing.size(), ids.size(),
                              fmt::join(missing.begin(), missing.begin() + shown, ", "),
                              missing.size() > shown ? ", ..." : ""));
  }
  return records;
}

Json assembleReport(const Json& context, Json records) {
  Json report = reportPreamble();
  for (const auto& [key, value] : context.at("report").items()) report[key] = value;
  report["cases"] = std::move(records);
  PairedOptions paired;
  const Json& stored = context.at("paired");
  paired.resamples = stored.value("resamples", paired.resamples);
  paired.seed = stored.value("seed", paired.seed);
  paired.confidence = stored.value("confidence", paired.confidence);
  if (context.value("task", "segmentation") == "classification")
    summarizeClassificationReport(report, paired);
  else
    summarizeReport(report, paired);
  return report;
}

void writeReportFiles(const fs::path& dir, const Json& report) {
  const bool classification = report.value("task", "") == "classification";
  writeFileAtomically(dir / "report.json", report.dump(2) + "\n");
  writeFileAtomically(dir / "cases.csv",
                      classification ? classificationCsv(report) : reportCsv(report));
}

}  // namespace gatescope
