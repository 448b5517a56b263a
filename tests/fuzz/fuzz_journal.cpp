// journal.jsonl of an interrupted evaluation, reopened by --resume.
#include "analysis/core/error.hpp"
#include "analysis/evaluation/evaluation_journal.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = gatescope::fuzz::scratchFolder() / "journal.jsonl";
  gatescope::fuzz::writeFile(path, data, size);
  try {
    const nlohmann::ordered_json identity = {{"dataset", "fuzz"}};
    const gatescope::EvaluationJournal journal(path, identity, true);
    (void)journal.finishedCount();
    (void)journal.records();
  } catch (const gatescope::Error&) {
  }
  return 0;
}
