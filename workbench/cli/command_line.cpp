#include "workbench/cli/command_line.hpp"

namespace gatescope::cli {

namespace {
std::string recorded;
}  // namespace

void recordCommandLine(int argc, const char* const* argv) {
  recorded.clear();
  for (int n = 0; n < argc; ++n) recorded += (n ? " " : "") + shellQuote(argv[n]);
}

std::string commandLine() {
  return recorded;
}

std::string shellQuote(const std::string& text) {
  if (!text.empty() && text.find_first_of(" '\"\\$`!*?&;|<>(){}[]#~\t\n") == std::string::npos)
    return text;
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace gatescope::cli
