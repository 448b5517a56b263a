// TorchScript models that follow the export contract (tests/fixtures/torchscript_reference.py).
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analysis/core/error.hpp"
#include "plugins/torchscript/torchscript_adapter.hpp"
#include "tests/support/test_support.hpp"

using namespace gatescope;
namespace fs = std::filesystem;

namespace {
TensorData load(const fs::path& dir, const nlohmann::json& spec) {
  TensorData t{spec["shape"].get<std::vector<int64_t>>(), {}};
  t.values.resize(fs::file_size(dir / spec["file"].get<std::string>()) / sizeof(float));
  std::ifstream(dir / spec["file"].get<std::string>(), std::ios::binary)
      .read(reinterpret_cast<char*>(t.values.data()),
            static_cast<std::streamsize>(t.values.size() * sizeof(float)));
  return t;
}
bool same(const TensorData& a, const TensorData& b) {
  if (a.shape != b.shape) return false;
  for (size_t n = 0; n < a.values.size(); ++n)
    if (std::abs(a.values[n] - b.values[n]) > 1e-5f * std::max(1.0f, std::abs(b.values[n])))
      return false;
  return true;
}
}  // namespace

TEST_CASE("TorchScript exports run with their gates and metadata", "[models]") {
  const fs::path dir = test::fixtureDir("torchscript");
  std::ifstream in(dir / "torchscript.json");
  REQUIRE(in.good());
  for (const auto& m : nlohmann::json::parse(in)) {
    DYNAMIC_SECTION(m["model"].get<std::string>()) {
      auto model = loadTorchScriptModel(dir / m["model"].get<std::string>(), {"cpu"});
      CHECK(model->info().name == m["name"].get<std::string>());
      CHECK(model->info().labels.size() == m["labels"].get<size_t>());
      const ForwardResult r = model->forward(load(dir, m["input"]), true);
      CHECK(same(r.logits, load(dir, m["logits"])));
      REQUIRE(r.gates.size() == m["gates"].size());
      REQUIRE(model->info().gates.size() ==
              m["gates"].size());  // declared in gatescope.json, as objects or names
      for (const auto& [name, alpha] : r.gates) {
        INFO(name);
        CHECK(same(alpha, load(dir, m["gates"][name])));
      }
    }
  }
}

TEST_CASE("files that are not TorchScript are refused clearly", "[models]") {
  const fs::path checkpoint = test::fixtureDir("checkpoints") / "ordered_zip.pth";
  CHECK_THROWS_WITH(
      loadTorchScriptModel(checkpoint, {"cpu"}),
      Catch::Contains("ordered_zip.pth") && Catch::Contains("not a loadable TorchScript model"));
}
