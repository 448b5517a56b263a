// How the cases of an evaluation are shared: shards (which cases each runs, worked out by hand),
// the journals of several processes in one folder (which a run may read, which it refuses), and
// reading a journal another process is still writing.
#include "analysis/evaluation/case_distribution.hpp"

#include <catch2/catch.hpp>
#include <fstream>

#include "analysis/core/error.hpp"
#include "analysis/evaluation/evaluation_journal.hpp"
#include "analysis/evaluation/evaluation_run.hpp"
#include "tests/support/test_support.hpp"

using namespace gatescope;
using Json = nlohmann::ordered_json;
namespace fs = std::filesystem;

namespace {

std::vector<size_t> handedOut(CaseDistribution& d, size_t cases,
                              const std::vector<bool>& finished) {
  d.begin(cases, finished, {});
  std::vector<size_t> out;
  while (const auto next = d.next()) out.push_back(*next);
  return out;
}

EvaluationRun::Plan plan(const fs::path& out, bool resume, CaseDistribution* distribution) {
  return {out,
          resume,
          Json{{"dataset", "d"}, {"split", "test"}},
          Json{{"task", "segmentation"},
               {"cases", {"c0", "c1", "c2", "c3", "c4"}},
               {"report", Json::object()}},
          distribution,
          {}};
}

Json record(const std::string& id) {
  return {{"id", id}, {"status", "ok"}, {"models", Json::object()}};
}

}  // namespace

TEST_CASE("a shard K of N runs the cases at positions K, K+N, ... and skips finished ones",
          "[stats]") {
  ShardRun first = parseShard("0/3"), second = parseShard("1/3"), third = parseShard("2/3");
  const std::vector<bool> none(8, false);
  CHECK(handedOut(first, 8, none) == std::vector<size_t>{0, 3, 6});
  CHECK(handedOut(second, 8, none) == std::vector<size_t>{1, 4, 7});
  CHECK(handedOut(third, 8, none) == std::vector<size_t>{2, 5});
  std::vector<bool> finished(8, false);
  finished[3] = finished[4] = true;
  CHECK(handedOut(first, 8, finished) == std::vector<size_t>{0, 6});
  CHECK(first.journalName() == "journal-shard-0-of-3.jsonl");
  CHECK(first.counts(3));
  CHECK_FALSE(first.counts(4));
  CHECK_FALSE(first.writesReport());
  WholeRun whole;
  CHECK(handedOut(whole, 4, {false, true, false, false}) == std::vector<size_t>{0, 2, 3});
  for (const char* bad : {"3/3", "1", "-1/2", "a/b", "1/0", "1/2/3", "", "0/ 2"})
    CHECK_THROWS_AS(parseShard(bad), UsageError);
}

TEST_CASE("processes of one evaluation share a folder, and another run's journal is refused",
          "[stats]") {
  const fs::path out = test::scratchDir("case_distribution");
  {
    ShardRun shard0 = parseShard("0/2");
    EvaluationRun run(plan(out, false, &shard0));
    CHECK(run.journalPath() == out / "journal-shard-0-of-2.jsonl");
    while (const auto next = run.next()) run.append(*next, record("c" + std::to_string(*next)), 0);
    EvaluationResult result;
    CHECK_FALSE(run.finish(false, result));  // a shard writes no report
    CHECK(result.ran == 3);
  }
  // The other shard starts beside it; the same shard again without --resume is refused.
  ShardRun shard1 = parseShard("1/2"), again = parseShard("0/2");
  CHECK_NOTHROW(EvaluationRun(plan(out, false, &shard1)));
  CHECK_THROWS_AS(EvaluationRun(plan(out, false, &again)), UsageError);
  // A single process without --resume refuses a folder that holds journals.
  CHECK_THROWS_AS(EvaluationRun(plan(out, false, nullptr)), UsageError);
  // Another run's journal in the folder is refused even with --resume.
  EvaluationRun::Plan other = plan(out, true, nullptr);
  other.identity["split"] = "training";
  CHECK_THROWS_WITH(EvaluationRun(other), Catch::Contains("split differs"));
  // With --resume, one process runs only what no journal holds (c1 and c3 of shard 1).
  WholeRun whole;
  EvaluationRun resumed(plan(out, true, &whole));
  std::vector<size_t> left;
  while (const auto next = resumed.next()) left.push_back(*next);
  CHECK(left == std::vector<size_t>{1, 3});
}

TEST_CASE("a journal being written is read without its torn last line", "[stats]") {
  const fs::path out = test::scratchDir("journal_torn");
  {
    EvaluationJournal journal(out / "journal-rank-1.jsonl", Json{{"dataset", "d"}}, false,
                              Json{{"cases", {"a", "b"}}});
    journal.append(record("a"));
  }
  std::ofstream(out / "journal-rank-1.jsonl", std::ios::app) << R"({"case":{"id":"b","sta)";
  std::ofstream(out / "journal.jsonl") << R"({"journal":"gatescope.evaluation/2","identity":{}})"
                                       << "\n";
  std::ofstream(out / "notes.jsonl") << "not a journal\n";
  const std::vector<fs::path> files = journalFiles(out);
  REQUIRE(files.size() == 2);
  CHECK(files[0].filename() == "journal.jsonl");
  const JournalContents contents = readJournal(files[1]);
  CHECK(contents.records.size() == 1);
  CHECK(contents.records.contains("a"));
  CHECK(contents.rejected == 1);
  CHECK(contents.context["cases"] == Json{"a", "b"});
  CHECK(readJournal(files[0]).context.is_null());
}
