#pragma once

#include <string>

#include "analysis/evaluation/evaluator.hpp"

namespace gatescope::cli {

// Runs an evaluation with progress on stderr, Ctrl-C handling (finish the case, keep the journal,
// print `resume_hint`) and the summary on stdout. Exit code: 0, 1 when a case failed, 130 when
// interrupted.
int runEvaluation(EvaluationOptions options, bool quiet, const std::string& resume_hint);

// The summary of a written report on stdout (unless quiet), "wrote ..." and every failed case on
// stderr. Exit code: 0, or 1 when a case failed.
int reportOutcome(const nlohmann::ordered_json& report, const std::filesystem::path& out,
                  bool quiet);

}  // namespace gatescope::cli
