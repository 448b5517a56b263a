#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace gatescope::cli {

// A sub-command registers its options on the root app and, when it is the one chosen on the
// command line, stores the action main() runs after parsing. The action returns the exit code.
using CommandAction = std::function<int()>;

void registerInfoCommand(CLI::App& root, CommandAction& chosen);
void registerMetricsCommand(CLI::App& root, CommandAction& chosen);
void registerInferCommand(CLI::App& root, CommandAction& chosen);
void registerAttributeCommand(CLI::App& root, CommandAction& chosen);
void registerEvaluateCommand(CLI::App& root, CommandAction& chosen);
void registerCompareCommand(CLI::App& root, CommandAction& chosen);
void registerMergeCommand(CLI::App& root, CommandAction& chosen);
void registerTrainCommand(CLI::App& root, CommandAction& chosen);
void registerDemoCommand(CLI::App& root, CommandAction& chosen);
void registerRenderCommand(CLI::App& root, CommandAction& chosen);
void registerConvertCommand(CLI::App& root, CommandAction& chosen);

}  // namespace gatescope::cli
