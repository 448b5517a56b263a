#include "tests/support/test_support.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace gatescope::test {
namespace fs = std::filesystem;

fs::path fixtureDir(const std::string& kind) {
  return fs::path(GATESCOPE_TEST_FIXTURES) / kind;
}

fs::path scratchDir(const std::string& name) {
  const fs::path dir = fs::path(GATESCOPE_TEST_OUTPUT) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::vector<double> readFloat64File(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  std::vector<double> values(fs::file_size(path) / sizeof(double));
  in.read(reinterpret_cast<char*>(values.data()),
          static_cast<std::streamsize>(values.size() * sizeof(double)));
  return values;
}

void writeFloat64File(const fs::path& path, const std::vector<double>& values) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(values.data()),
            static_cast<std::streamsize>(values.size() * sizeof(double)));
}

int runReferencePython(const std::string& script, const std::vector<std::string>& args) {
  std::string command = std::string(GATESCOPE_REFERENCE_PYTHON) + " '" + GATESCOPE_SOURCE_DIR +
                        "/tests/" + script + "'";
  for (const auto& a : args) command += " '" + a + "'";
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace gatescope::test
