// gatescope's NIfTI writer, checked by reading its files with nibabel and with gatescope.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "analysis/io/image_file.hpp"
#include "analysis/io/nifti_io.hpp"
#include "tests/support/test_support.hpp"

using namespace gatescope;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

Geometry obliqueGeometry(Index3 dims) {
  Geometry g;
  g.dims = dims;
  g.spacing_mm = {0.78125, 1.25, 2.5};
  g.origin = {-101.5, 33.25, 12.0};
  const double a = 0.4, b = -0.3;  // rotation about z then x: a proper orthonormal matrix
  g.direction = {{{std::cos(a), -std::sin(a) * std::cos(b), std::sin(a) * std::sin(b)},
                  {std::sin(a), std::cos(a) * std::cos(b), -std::cos(a) * std::sin(b)},
                  {0.0, std::sin(b), std::cos(b)}}};
  return g;
}

template <typename T>
Volume<T> randomVolume(const Geometry& g, int64_t channels, uint32_t seed) {
  Volume<T> v(g, channels);
  std::mt19937 rng(seed);
  for (T& x : v.values()) {
    if constexpr (std::is_floating_point_v<T>)
      x = static_cast<T>(std::normal_distribution<double>(0.0, 50.0)(rng));
    else
      x = static_cast<T>(std::uniform_int_distribution<int64_t>(
          std::numeric_limits<T>::min(), std::numeric_limits<T>::max())(rng));
  }
  return v;
}

struct Written {
  std::string file;
  std::string format;
  std::vector<int64_t> shape;
  Image image;
};

// The expected content comes from the image we wrote, not from anything read back.
json describe(const Written& w, const fs::path& folder) {
  const Volume<double> real = toDoubleVolume(w.image);
  const std::string data = w.file + ".f64";
  test::writeFloat64File(folder / data,
                         std::vector<double>(real.values().begin(), real.values().end()));
  json affine = json::array();
  for (const auto& row : w.image.geometry().affine()) affine.push_back(row);
  return {{"file", w.file},
          {"format", w.format},
          {"shape", w.shape},
          {"dtype", dataTypeName(w.image.dataType())},
          {"affine", affine},
          {"slope", w.image.header.scaling.slope},
          {"intercept", w.image.header.scaling.intercept},
          {"data", data}};
}

std::vector<Written> imagesToWrite() {
  std::vector<Written> out;
  const Geometry g = obliqueGeometry({6, 5, 4});
  out.push_back({"uint8.nii.gz", "nifti1", {6, 5, 4}, makeImage(randomVolume<uint8_t>(g, 1, 1))});
  out.push_back({"int8.nii.gz", "nifti1", {6, 5, 4}, makeImage(randomVolume<int8_t>(g, 1, 2))});
  out.push_back({"int16.nii", "nifti1", {6, 5, 4}, makeImage(randomVolume<int16_t>(g, 1, 3))});
  out.push_back({"uint16.nii.gz", "nifti1", {6, 5, 4}, makeImage(randomVolume<uint16_t>(g, 1, 4))});
  out.push_back({"int32.nii.gz", "nifti1", {6, 5, 4}, makeImage(randomVolume<int32_t>(g, 1, 5))});
  out.push_back({"float32.nii.gz", "nifti1", {6, 5, 4}, makeImage(randomVolume<float>(g, 1, 6))});
  out.push_back({"float64.nii", "nifti1", {6, 5, 4}, makeImage(randomVolume<double>(g, 1, 7))});
  out.push_back(
      {"probabilities_4d.nii.gz", "nifti1", {6, 5, 4, 3}, makeImage(randomVolume<float>(g, 3, 8))});
  Written scaled{
      "scaled_int16.nii.gz", "nifti1", {6, 5, 4}, makeImage(randomVolume<int16_t>(g, 1, 9))};
  scaled.image.header.scaling = {0.25, -1024.0};
  out.push_back(std::move(scaled));
  Written two_d{"slice_2d.nii.gz",
                "nifti1",
                {7, 3},
                makeImage(randomVolume<uint8_t>(obliqueGeometry({7, 3, 1}), 1, 10))};
  two_d.image.header.file_dims = {7, 3};
  out.push_back(std::move(two_d));
  Written nifti2{"nifti2.nii.gz",
                 "nifti2",
                 {6, 5, 4},
                 makeImage(randomVolume<int16_t>(g, 1, 11), ImageFormat::Nifti2)};
  out.push_back(std::move(nifti2));
  // NIfTI-1 stores dims as int16: a longer axis needs NIfTI-2.
  out.push_back({"long_axis.nii.gz",
                 "nifti2",
                 {40000, 1, 2},
                 makeImage(randomVolume<uint8_t>(obliqueGeometry({40000, 1, 2}), 1, 12))});
  return out;
}

template <typename T>
bool sameVoxels(const Image& a, const Image& b) {
  const auto& va = std::get<Volume<T>>(a.voxels);
  const auto& vb = std::get<Volume<T>>(b.voxels);
  return std::equal(va.values().begin(), va.values().end(), vb.values().begin(), vb.values().end());
}

}  // namespace

TEST_CASE("written NIfTI files read back in nibabel with the same geometry and values", "[io]") {
  const fs::path folder = test::scratchDir("nifti_write");
  json manifest = json::array();
  const auto images = imagesToWrite();
  for (const Written& w : images) {
    writeImage(folder / w.file, w.image);
    manifest.push_back(describe(w, folder));
  }
  std::ofstream(folder / "written.json") << manifest.dump(1);
  CHECK(test::runReferencePython("fixtures/check_written_nifti.py", {folder.string()}) == 0);

  for (const Written& w : images) {
    INFO(w.file);
    const Image back = readImage(folder / w.file);
    CHECK(back.dataType() == w.image.dataType());
    CHECK(back.header.file_dims == w.shape);
    CHECK(back.geometry().sameGrid(w.image.geometry(), 1e-6));
    CHECK(back.header.scaling.slope == w.image.header.scaling.slope);
    CHECK(back.header.scaling.intercept == w.image.header.scaling.intercept);
    const bool same = std::visit(
        [&](const auto& v) {
          return sameVoxels<typename std::decay_t<decltype(v)>::value_type>(back, w.image);
        },
        back.voxels);
    CHECK(same);
  }
}

TEST_CASE("writing leaves no temporary files and replaces an existing file whole", "[io]") {
  const fs::path folder = test::scratchDir("nifti_atomic");
  const Image image = imagesToWrite().front().image;
  writeImage(folder / "a.nii.gz", image);
  writeImage(folder / "a.nii.gz", image);
  int files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(folder)) ++files;
  CHECK(files == 1);
  CHECK_THROWS_WITH(writeImage(folder / "missing_folder" / "b.nii.gz", image),
                    Catch::Contains("missing_folder") && Catch::Contains("does not exist"));
}
