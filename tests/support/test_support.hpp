#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace gatescope::test {

// Files written by tests/fixtures/*.py (reference libraries) before the tests run.
[[nodiscard]] std::filesystem::path fixtureDir(const std::string& kind);
// An empty folder for this test's outputs under the build tree.
[[nodiscard]] std::filesystem::path scratchDir(const std::string& name);
// Raw little-endian float64 values, as the fixture scripts write them.
[[nodiscard]] std::vector<double> readFloat64File(const std::filesystem::path& path);
void writeFloat64File(const std::filesystem::path& path, const std::vector<double>& values);
// Runs a script from tests/ with the reference Python; returns its exit status.
int runReferencePython(const std::string& script, const std::vector<std::string>& args);

}  // namespace gatescope::test
