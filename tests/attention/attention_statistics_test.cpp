// Attention statistics against numpy/scipy (tests/fixtures/attention_reference.py).
#include "analysis/attention/attention_statistics.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/test_support.hpp"

using namespace gatescope;

namespace {
template <typename T>
std::vector<T> readRaw(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<T> values(std::filesystem::file_size(path) / sizeof(T));
  in.read(reinterpret_cast<char*>(values.data()),
          static_cast<std::streamsize>(values.size() * sizeof(T)));
  return values;
}
}  // namespace

TEST_CASE("attention statistics match numpy and scipy", "[attention]") {
  const auto dir = test::fixtureDir("attention");
  std::ifstream in(dir / "attention.json");
  REQUIRE(in.good());
  const auto cases = nlohmann::json::parse(in);
  for (const auto& c : cases) {
    const std::string name = c["name"];
    DYNAMIC_SECTION(name) {
      Geometry g;
      g.dims = {c["shape"][0], c["shape"][1], c["shape"][2]};
      g.spacing_mm = {c["spacing"][0], c["spacing"][1], c["spacing"][2]};
      const Volume<float> alpha(g, c["channels"].get<int64_t>(),
                                readRaw<float>(dir / (name + "_alpha.f32")));
      const Volume<uint8_t> mask(g, 1, readRaw<uint8_t>(dir / (name + "_mask.u8")));
      AttentionOptions options{c["dilation_mm"], c["tolerance_mm"], c["threshold"]};
      const auto stats = attentionStatistics(alpha, mask, options);
      REQUIRE(stats.size() == c["expected"].size());
      for (size_t ch = 0; ch < stats.size(); ++ch) {
        const auto got = toJson(stats[ch]);
        for (const auto& [key, want] : c["expected"][ch].items()) {
          INFO("channel " << ch << " " << key);
          if (want.is_string())
            CHECK(got[key].dump() == want.dump());
          else
            CHECK(got[key].get<double>() == Approx(want.get<double>()).epsilon(1e-6));
        }
      }
    }
  }
}

TEST_CASE("attention statistics with an empty reference are NaN, flagged", "[attention]") {
  Geometry g;
  g.dims = {4, 4, 2};
  const Volume<float> alpha(g, 1, 0.5f);
  const Volume<uint8_t> empty(g);
  const auto s = attentionStatistics(alpha, empty).front();
  CHECK(s.status == "reference_empty");
  CHECK(std::isnan(s.mass_in_reference));
  Volume<float> bad = alpha;
  bad(1, 1, 1) = -0.1f;
  CHECK_THROWS_WITH(attentionStatistics(bad, empty), Catch::Contains("non-negative"));
}
