// gatescope: the command line. Exit codes: 0 success, 2 bad usage, 1 any other failure.
#include <cstdio>
#include <iostream>
#include <new>

#include "analysis/core/error.hpp"
#include "analysis/plugin/plugin_loader.hpp"
#include "analysis/version.hpp"
#include "workbench/cli/command.hpp"
#include "workbench/cli/command_line.hpp"

namespace {

std::string versionText() {
  std::string text = std::string("gatescope ") + gatescope::kVersion;
  try {
    for (const auto& runtime : gatescope::pluginRegistry().runtimes()) {
      text += "\n" + runtime.name + " " + runtime.version + ", devices:";
      for (const auto& device : runtime.devices) text += " " + device;
      text += ", " + std::to_string(runtime.threads) + " threads";
    }
  } catch (const gatescope::Error& e) {
    text += std::string("\nmodel plugin unavailable: ") + e.what();
  }
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "gatescope: see where attention gates look, measure segmentations exactly, and compare "
      "gated against ungated networks.",
      "gatescope"};
  app.set_version_flag("--version", versionText);
  app.require_subcommand(1);
  app.footer("Run 'gatescope COMMAND --help' for a command's options. Reference: docs/cli.md");

  gatescope::cli::CommandAction chosen;
  gatescope::cli::registerInfoCommand(app, chosen);
  gatescope::cli::registerMetricsCommand(app, chosen);
  gatescope::cli::registerInferCommand(app, chosen);
  gatescope::cli::registerAttributeCommand(app, chosen);
  gatescope::cli::registerEvaluateCommand(app, chosen);
  gatescope::cli::registerCompareCommand(app, chosen);
  gatescope::cli::registerMergeCommand(app, chosen);
  gatescope::cli::registerTrainCommand(app, chosen);
  gatescope::cli::registerDemoCommand(app, chosen);
  gatescope::cli::registerRenderCommand(app, chosen);
  gatescope::cli::registerConvertCommand(app, chosen);

  gatescope::cli::recordCommandLine(argc, argv);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "gatescope: " << e.what() << " (see --help)\n";
    return 2;
  }

  try {
    return chosen ? chosen() : 2;
  } catch (const gatescope::UsageError& e) {
    std::cerr << "gatescope: " << e.what() << "\n";
    return 2;
  } catch (const gatescope::Error& e) {
    std::cerr << "gatescope: " << e.what() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "gatescope: out of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "gatescope: internal error: " << e.what() << "\n";
    return 1;
  }
}
