#pragma once

#include <string>

namespace gatescope::cli {

// The command line as typed, for the reports commands write (main() records it once).
void recordCommandLine(int argc, const char* const* argv);
[[nodiscard]] std::string commandLine();

// `text` as one word for a POSIX shell (quoted only when it needs to be).
[[nodiscard]] std::string shellQuote(const std::string& text);

}  // namespace gatescope::cli
