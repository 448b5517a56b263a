// gatescope merge: one report from the journals of `evaluate --shard K/N` runs (docs/scaling.md).
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "analysis/evaluation/evaluation_merge.hpp"
#include "workbench/cli/command.hpp"
#include "workbench/cli/evaluate_command.hpp"

namespace gatescope::cli {

namespace {

struct MergeOptions {
  std::vector<std::string> dirs;
  std::string out;
  bool quiet = false;
};

}  // namespace

void registerMergeCommand(CLI::App& root, CommandAction& chosen) {
  auto o = std::make_shared<MergeOptions>();
  CLI::App* cmd = root.add_subcommand(
      "merge",
      "One report from the journals of 'evaluate --shard K/N' runs: equal to a single run's report "
      "but for its timings (docs/scaling.md)");
  cmd->add_option("DIR", o->dirs,
                  "Output folders of the shards (each holds journal-shard-K-of-N.jsonl; shards "
                  "may share one folder)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--out", o->out,
                  "Folder for report.json and cases.csv (may be a shard's folder); saved "
                  "predictions of the shards are linked into its predictions/")
      ->required();
  cmd->add_flag("--quiet", o->quiet, "No summary output");
  cmd->callback([o, &chosen] {
    chosen = [o] {
      std::vector<std::filesystem::path> dirs(o->dirs.begin(), o->dirs.end());
      const MergeResult merged = mergeEvaluations(dirs, o->out);
      if (!o->quiet) {
        std::cout << fmt::format("merged {} journal(s) of {} case(s)", merged.journals,
                                 merged.report["cases"].size());
        if (merged.linked_files)
          std::cout << fmt::format("; {} saved prediction file(s) linked into {}",
                                   merged.linked_files,
                                   (std::filesystem::path(o->out) / "predictions").string());
        std::cout << "\n";
      }
      return reportOutcome(merged.report, o->out, o->quiet);
    };
  });
}

}  // namespace gatescope::cli
