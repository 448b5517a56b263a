// The synthetic abdomen dataset: determinism, layout, and an independent nibabel/scipy check of
// its content (tests/demo/check_synthetic_abdomen.py).
#include "analysis/demo/synthetic_abdomen.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "analysis/core/error.hpp"
#include "analysis/io/file_util.hpp"
#include "analysis/io/nifti_io.hpp"
#include "tests/support/test_support.hpp"

using namespace gatescope;
namespace fs = std::filesystem;

namespace {

SyntheticAbdomenOptions fewCases(int training, int test) {
  SyntheticAbdomenOptions options;
  options.training_cases = training;
  options.test_cases = test;
  return options;
}

// Every file below `root`, as paths relative to it.
std::set<fs::path> filesUnder(const fs::path& root) {
  std::set<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (entry.is_regular_file()) files.insert(fs::relative(entry.path(), root));
  return files;
}

nlohmann::json readJson(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

template <typename T>
bool sameVoxels(const Volume<T>& a, const Volume<T>& b) {
  return a.geometry().sameGrid(b.geometry()) &&
         std::equal(a.values().begin(), a.values().end(), b.values().begin(), b.values().end());
}

// FNV-1a over the values, little-endian whatever the machine.
uint64_t contentHash(const SyntheticCase& c) {
  uint64_t hash = 0xcbf29ce484222325ull;
  const auto add = [&](uint8_t byte) { hash = (hash ^ byte) * 0x100000001b3ull; };
  for (int16_t v : c.image.values()) {
    add(static_cast<uint8_t>(static_cast<uint16_t>(v) & 0xff));
    add(static_cast<uint8_t>(static_cast<uint16_t>(v) >> 8));
  }
  for (uint8_t v : c.labels.values()) add(v);
  for (uint8_t v : c.distractor_mask.values()) add(v);
  return hash;
}

}  // namespace

TEST_CASE("the same options write byte-identical datasets", "[demo]") {
  const auto first = test::scratchDir("synthetic_abdomen_first") / "data";
  const auto second = test::scratchDir("synthetic_abdomen_second") / "data";
  const auto options = fewCases(3, 2);
  writeSyntheticAbdomen(first, options);
  writeSyntheticAbdomen(second, options);
  const auto files = filesUnder(first);
  REQUIRE(files == filesUnder(second));
  CHECK(files.size() == 1 + 5 * 4);  // dataset.json; image, label, parameters, mask per case
  for (const auto& file : files) {
    INFO(file);
    CHECK(readWholeFile(first / file) == readWholeFile(second / file));
  }
}

TEST_CASE("a case depends on its index and the seed, not on the case counts", "[demo]") {
  const SyntheticCase a = makeSyntheticCase(fewCases(40, 20), 7);
  const SyntheticCase b = makeSyntheticCase(fewCases(2, 0), 7);
  CHECK(a.id == "abdomen_007");
  CHECK(sameVoxels(a.image, b.image));
  CHECK(sameVoxels(a.labels, b.labels));
  CHECK(sameVoxels(a.distractor_mask, b.distractor_mask));
  CHECK(a.target.centre_mm == b.target.centre_mm);
  CHECK(a.distractors.size() == b.distractors.size());

  CHECK_FALSE(sameVoxels(a.image, makeSyntheticCase(fewCases(40, 20), 8).image));
  auto reseeded = fewCases(40, 20);
  reseeded.seed = 7;
  CHECK_FALSE(sameVoxels(a.image, makeSyntheticCase(reseeded, 7).image));
}

// The recorded hash is what every machine and compiler must produce. A deliberate change of the
// generator's output bumps the generator version and this hash together.
TEST_CASE("the first default case has the recorded content", "[demo]") {
  const SyntheticCase c = makeSyntheticCase(SyntheticAbdomenOptions{}, 0);
  CHECK(contentHash(c) == 0xad676aa15e26a28aull);
}

TEST_CASE("a case in memory matches its files and carries its drawn parameters", "[demo]") {
  const auto root = test::scratchDir("synthetic_abdomen_files") / "data";
  const auto options = fewCases(2, 1);
  writeSyntheticAbdomen(root, options);
  const SyntheticCase c = makeSyntheticCase(options, 2);  // the test case
  const Image image = readNifti(root / "imagesTs" / "abdomen_002.nii.gz");
  const Image labels = readNifti(root / "labelsTs" / "abdomen_002.nii.gz");
  const Image mask = readNifti(root / "generator" / "abdomen_002_distractors.nii.gz");
  CHECK(sameVoxels(std::get<Volume<int16_t>>(image.voxels), c.image));
  CHECK(sameVoxels(std::get<Volume<uint8_t>>(labels.voxels), c.labels));
  CHECK(sameVoxels(std::get<Volume<uint8_t>>(mask.voxels), c.distractor_mask));
  CHECK(image.header.description == "gatescope synthetic abdomen v2");

  const Geometry& g = c.image.geometry();
  CHECK(g.dims == Index3{96, 96, 48});
  CHECK(g.spacing_mm == Vec3{1.6, 1.6, 3.2});
  const Vec3 centre = g.indexToWorld({47.5, 47.5, 23.5});
  for (double v : centre) CHECK(v == Approx(0.0).margin(1e-9));

  const auto parameters = readJson(root / "generator" / "abdomen_002.json");
  CHECK(parameters["id"] == "abdomen_002");
  CHECK(parameters["split"] == "test");
  CHECK(parameters["target"]["centre_mm"].get<Vec3>() == c.target.centre_mm);
  REQUIRE(parameters["distractors"].size() == c.distractors.size());
  CHECK(parameters["distractors"][0]["placement"] == c.distractors[0].placement);
  CHECK(c.intensities.target_hu > c.intensities.landmark_hu + 40.0);
  CHECK(c.noise_sigma_hu >= 15.0);
  CHECK(c.noise_sigma_hu <= 20.0);
}

TEST_CASE("dataset.json lists every case in the Decathlon layout", "[demo]") {
  const auto root = test::scratchDir("synthetic_abdomen_layout") / "data";
  writeSyntheticAbdomen(root, fewCases(3, 2));
  const auto dataset = readJson(root / "dataset.json");
  CHECK(dataset["name"] == "gatescope synthetic abdomen");
  CHECK(dataset["tensorImageSize"] == "3D");
  CHECK(dataset["modality"]["0"] == "CT");
  CHECK(dataset["labels"]["1"] == "liver");
  CHECK(dataset["labels"]["2"] == "right kidney");
  CHECK(dataset["numTraining"] == 3);
  CHECK(dataset["numTest"] == 2);
  CHECK(dataset["generator"]["seed"] == 2026);
  CHECK(dataset["generator"]["version"] == 2);
  REQUIRE(dataset["training"].size() == 3);
  REQUIRE(dataset["test"].size() == 2);
  CHECK(dataset["training"][0]["image"] == "./imagesTr/abdomen_000.nii.gz");
  CHECK(dataset["test"][0] == "./imagesTs/abdomen_003.nii.gz");
  for (const auto& entry : dataset["training"]) {
    CHECK(fs::is_regular_file(root / entry["image"].get<std::string>()));
    CHECK(fs::is_regular_file(root / entry["label"].get<std::string>()));
  }
  for (const auto& image : dataset["test"])
    CHECK(fs::is_regular_file(root / image.get<std::string>()));
  CHECK(fs::is_regular_file(root / "labelsTs" / "abdomen_004.nii.gz"));
  // Nothing is left beside the dataset.
  CHECK(std::distance(fs::directory_iterator(root.parent_path()), fs::directory_iterator()) == 1);
}

TEST_CASE("the default dataset passes the independent nibabel check", "[demo]") {
  const auto root = test::scratchDir("synthetic_abdomen_default") / "data";
  int calls = 0, last = 0;
  const auto start = std::chrono::steady_clock::now();
  writeSyntheticAbdomen(root, SyntheticAbdomenOptions{}, [&](int done, int total) {
    ++calls;
    last = done;
    CHECK(total == 60);
  });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WARN("60 default cases written in " << seconds << " s");
  CHECK(calls == 60);
  CHECK(last == 60);
  CHECK(test::runReferencePython("demo/check_synthetic_abdomen.py", {root.string()}) == 0);
}

TEST_CASE("the 2D variant writes one-slice images that pass the same check", "[demo]") {
  const auto root = test::scratchDir("synthetic_abdomen_2d") / "data";
  auto options = fewCases(12, 6);
  options.dims = {128, 128, 1};
  writeSyntheticAbdomen(root, options);
  CHECK(readJson(root / "dataset.json")["tensorImageSize"] == "2D");
  const Image image = readNifti(root / "imagesTr" / "abdomen_000.nii.gz");
  CHECK(image.geometry().dims == Index3{128, 128, 1});
  CHECK(image.header.file_dims == std::vector<int64_t>{128, 128, 1});
  CHECK(test::runReferencePython("demo/check_synthetic_abdomen.py", {root.string()}) == 0);
}

TEST_CASE("unusable options and occupied folders are refused, and a failed run leaves nothing",
          "[demo]") {
  const auto scratch = test::scratchDir("synthetic_abdomen_refused");
  auto small = fewCases(1, 0);
  small.dims = {48, 48, 48};
  CHECK_THROWS_AS(makeSyntheticCase(small, 0), UsageError);
  CHECK_THROWS_AS(writeSyntheticAbdomen(scratch / "small", small), UsageError);
  auto short_volume = fewCases(1, 0);
  short_volume.dims = {96, 96, 12};
  CHECK_THROWS_AS(makeSyntheticCase(short_volume, 0), UsageError);
  CHECK_THROWS_AS(makeSyntheticCase(fewCases(1, 0), -1), UsageError);
  CHECK_THROWS_AS(writeSyntheticAbdomen(scratch / "none", fewCases(0, 0)), UsageError);

  fs::create_directories(scratch / "occupied");
  std::ofstream(scratch / "occupied" / "keep.txt") << "mine\n";
  CHECK_THROWS_AS(writeSyntheticAbdomen(scratch / "occupied", fewCases(1, 0)), UsageError);
  CHECK(filesUnder(scratch / "occupied") == std::set<fs::path>{"keep.txt"});

  // Interrupted half-way (here by the progress callback): neither the dataset nor its staging
  // folder remains.
  CHECK_THROWS_WITH(writeSyntheticAbdomen(scratch / "interrupted", fewCases(3, 1),
                                          [](int done, int) {
                                            if (done == 2) throw Error("stop");
                                          }),
                    "stop");
  CHECK_FALSE(fs::exists(scratch / "interrupted"));
  CHECK_FALSE(fs::exists(scratch / ".interrupted.partial"));

  // An empty folder is taken over.
  fs::create_directories(scratch / "empty");
  writeSyntheticAbdomen(scratch / "empty", fewCases(1, 0));
  CHECK(fs::is_regular_file(scratch / "empty" / "dataset.json"));
}
