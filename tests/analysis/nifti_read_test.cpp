// gatescope's NIfTI reader against nibabel: files written by tests/fixtures/make_nifti_fixtures.py,
// expected values as nibabel reads them.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analysis/core/image_statistics.hpp"
#include "analysis/io/nifti_io.hpp"
#include "tests/support/test_support.hpp"

using namespace gatescope;
using nlohmann::json;

namespace {

json loadExpected() {
  std::ifstream in(test::fixtureDir("nifti") / "expected.json");
  REQUIRE(in.good());
  return json::parse(in);
}

double asDouble(const json& value) {
  return value.is_string() ? std::nan("") : value.get<double>();
}

bool sameValue(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::abs(a - b) <= 1e-12 * std::max(1.0, std::abs(b));
}

}  // namespace

TEST_CASE("NIfTI reading matches nibabel for every fixture", "[io]") {
  const json expected = loadExpected();
  REQUIRE(expected.size() >= 20);
  for (const json& e : expected) {
    const std::string name = e["name"];
    DYNAMIC_SECTION(name) {
      const auto path = test::fixtureDir("nifti") / e["file"].get<std::string>();
      const Image image = readNifti(path);
      CHECK(image.header.file_dims == e["shape"].get<std::vector<int64_t>>());
      CHECK(std::string(dataTypeName(image.dataType())) == e["dtype"].get<std::string>());
      CHECK(std::string(imageFormatName(image.header.format)) == e["format"].get<std::string>());
      CHECK(image.header.scaling.slope == e["slope"].get<double>());
      CHECK(image.header.scaling.intercept == e["intercept"].get<double>());

      const Geometry& g = image.geometry();
      for (int c = 0; c < 3; ++c) {
        CHECK(g.spacing_mm[c] == Approx(e["spacing_mm"][c].get<double>()).epsilon(1e-6));
        CHECK(g.origin[c] == Approx(e["origin"][c].get<double>()).margin(1e-5));
        for (int r = 0; r < 3; ++r)
          CHECK(g.direction[r][c] == Approx(e["direction"][r][c].get<double>()).margin(1e-6));
        for (int r = 0; r < 4; ++r)
          CHECK(image.header.affine[r][c] == Approx(e["affine"][r][c].get<double>()).margin(1e-5));
      }

      const auto reference =
          test::readFloat64File(test::fixtureDir("nifti") / e["data"].get<std::string>());
      const Volume<double> values = toDoubleVolume(image);
      REQUIRE(static_cast<size_t>(values.size()) == reference.size());
      size_t mismatches = 0;
      for (size_t n = 0; n < reference.size(); ++n)
        if (!sameValue(values.values()[n], reference[n])) ++mismatches;
      CHECK(mismatches == 0);

      const ImageStatistics stats = computeStatistics(image);
      CHECK(sameValue(stats.min, asDouble(e["min"])));
      CHECK(sameValue(stats.max, asDouble(e["max"])));
      CHECK(stats.mean == Approx(asDouble(e["mean"])).epsilon(1e-12));
      CHECK(stats.n_nan == e["n_nan"].get<int64_t>());
      CHECK(stats.n_inf == e["n_inf"].get<int64_t>());
      CHECK(stats.has_labels == e.contains("labels"));
      if (e.contains("labels")) {
        std::map<std::string, int64_t> labels;
        for (const auto& [value, count] : stats.labels) labels[std::to_string(value)] = count;
        CHECK(labels == e["labels"].get<std::map<std::string, int64_t>>());
      }
    }
  }
}

TEST_CASE("header-only reading agrees with the full read", "[io]") {
  const auto path = test::fixtureDir("nifti") / "oblique.nii.gz";
  const ImageHeader header = readNiftiHeader(path);
  const Image image = readNifti(path);
  CHECK(header.file_dims == image.header.file_dims);
  CHECK(header.affine == image.header.affine);
  CHECK(header.compressed);
}
