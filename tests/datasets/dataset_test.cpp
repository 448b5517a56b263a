// Dataset layouts against what tests/fixtures/make_dataset_fixtures.py wrote with nibabel/Pillow.
#include "analysis/datasets/dataset.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analysis/core/error.hpp"
#include "analysis/io/image_file.hpp"
#include "tests/support/test_support.hpp"

using namespace gatescope;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const fs::path& fixtures() {
  static const fs::path dir = test::fixtureDir("datasets");
  return dir;
}

const json& expected() {
  static const json j = [] {
    std::ifstream in(fixtures() / "expected.json");
    if (!in) throw std::runtime_error("missing " + (fixtures() / "expected.json").string());
    return json::parse(in);
  }();
  return j;
}

fs::path fixture(const json& relative) {
  return (fixtures() / relative.get<std::string>()).lexically_normal();
}

const DatasetCase& findCase(const Dataset& dataset, const std::string& id) {
  for (const DatasetCase& c : dataset.cases)
    if (c.id == id) return c;
  throw std::runtime_error("no case " + id);
}

// The error type and message `call` raises ("none" when it returns).
template <typename Call>
std::pair<std::string, std::string> errorOf(Call&& call) {
  try {
    (void)call();
  } catch (const UsageError& e) {
    return {"UsageError", e.what()};
  } catch (const FormatError& e) {
    return {"FormatError", e.what()};
  } catch (const GeometryError& e) {
    return {"GeometryError", e.what()};
  } catch (const IoError& e) {
    return {"IoError", e.what()};
  } catch (const Error& e) {
    return {"Error", e.what()};
  }
  return {"none", ""};
}

void checkValues(std::span<const float> actual, const json& reference) {
  const std::vector<double> values = test::readFloat64File(fixture(reference["values"]));
  REQUIRE(actual.size() == values.size());
  size_t mismatches = 0;
  for (size_t n = 0; n < values.size(); ++n)
    if (std::abs(actual[n] - values[n]) > 1e-5 * std::max(1.0, std::abs(values[n]))) ++mismatches;
  CHECK(mismatches == 0);
}

void checkShape(const Geometry& geometry, int64_t channels, const json& reference) {
  const auto shape = reference["shape"].get<std::vector<int64_t>>();
  CHECK(geometry.dims == Index3{shape[0], shape[1], shape[2]});
  CHECK(channels == shape[3]);
}

}  // namespace

TEST_CASE("openDataset finds the cases, splits, channels and labels the fixture script wrote",
          "[datasets]") {
  for (const json& want : expected()["datasets"]) {
    DYNAMIC_SECTION(want["open"].get<std::string>()) {
      const Dataset dataset = openDataset(fixture(want["open"]));
      CHECK(dataset.layout == want["layout"].get<std::string>());
      CHECK(dataset.name == want["name"].get<std::string>());
      CHECK(dataset.channels == want["channels"].get<int>());
      std::map<int, std::string> labels;
      for (const auto& [value, name] : want["labels"].items())
        labels[std::stoi(value)] = name.get<std::string>();
      CHECK(dataset.labels == labels);
      CHECK(resolveSplit(dataset, "auto") == want["auto_split"].get<std::string>());

      REQUIRE(dataset.cases.size() == want["cases"].size());
      for (size_t n = 0; n < dataset.cases.size(); ++n) {
        const DatasetCase& c = dataset.cases[n];
        const json& w = want["cases"][n];
        INFO("case " << n << ": " << c.id << ", problem: " << c.problem);
        CHECK(c.id == w["id"].get<std::string>());
        CHECK(c.split == w["split"].get<std::string>());
        std::vector<fs::path> images;
        for (const json& image : w["images"]) images.push_back(fixture(image));
        CHECK(c.images == images);
        CHECK(c.reference.has_value() == !w["reference"].is_null());
        if (c.reference && !w["reference"].is_null())
          CHECK(*c.reference == fixture(w["reference"]));
        CHECK(c.problem.empty() == w["problem"].is_null());
        if (!w["problem"].is_null())
          CHECK_THAT(c.problem, Catch::Contains(fixture(w["problem"]).string()));
      }
    }
  }
}

TEST_CASE("readCaseImage and readCaseReference give the voxels nibabel and Pillow read",
          "[datasets]") {
  int checked = 0;
  for (const json& want : expected()["datasets"]) {
    const Dataset dataset = openDataset(fixture(want["open"]));
    for (const json& w : want["cases"]) {
      if (w["image"].is_null()) continue;
      DYNAMIC_SECTION(want["open"].get<std::string>() << "/" << w["id"].get<std::string>()) {
        const DatasetCase& c = findCase(dataset, w["id"]);
        const Image image = readCaseImage(c);
        checkShape(image.geometry(), image.channels(), w["image"]);
        checkValues(toFloatVolume(image).values(), w["image"]);
        if (!w["labels"].is_null()) {
          const Volume<int32_t> labels = readCaseReference(c, image.geometry());
          checkShape(labels.geometry(), labels.channels(), w["labels"]);
          std::vector<float> values(labels.values().begin(), labels.values().end());
          checkValues(values, w["labels"]);
        }
      }
      ++checked;
    }
  }
  CHECK(checked >= 12);
}

TEST_CASE("channel files of one case combine into one float image in channel order", "[datasets]") {
  const Dataset dataset = openDataset(fixtures() / "Dataset042_Toy");
  const DatasetCase& c = findCase(dataset, "liver_a");
  REQUIRE(c.images.size() == 2);
  const Image image = readCaseImage(c);
  CHECK(image.dataType() == DataType::Float32);
  CHECK(image.channels() == 2);
  CHECK(image.header.scaling.isIdentity());
  CHECK(image.geometry().sameGrid(readImage(c.images[1]).geometry()));
  CHECK(image.header.file_dims == std::vector<int64_t>{8, 6, 4, 2});
}

TEST_CASE("a single-file case is the file as read, in its stored datatype", "[datasets]") {
  const Dataset dataset = openDataset(fixtures() / "msd");
  const DatasetCase& c = findCase(dataset, "prostate_00");
  const Image image = readCaseImage(c);
  CHECK(image.dataType() == DataType::Int16);
  CHECK_FALSE(image.header.scaling.isIdentity());
  CHECK(image.channels() == 2);
}

TEST_CASE("reading a broken case raises an error naming the offending files", "[datasets]") {
  for (const json& want : expected()["datasets"]) {
    const Dataset dataset = openDataset(fixture(want["open"]));
    for (const json& w : want["cases"]) {
      for (const char* key : {"image_error", "reference_error"}) {
        if (w[key].is_null()) continue;
        DYNAMIC_SECTION(w["id"].get<std::string>() << " " << key) {
          const DatasetCase& c = findCase(dataset, w["id"]);
          const auto [type, message] =
              std::string(key) == "image_error"
                  ? errorOf([&] { return readCaseImage(c); })
                  : errorOf([&] { return readCaseReference(c, readCaseImage(c).geometry()); });
          CHECK(type == w[key]["type"].get<std::string>());
          for (const json& file : w[key]["mentions"])
            CHECK_THAT(message, Catch::Contains(fixture(file).string()));
        }
      }
    }
  }
}

TEST_CASE("a case with a missing file fails on reading with an error naming that file",
          "[datasets]") {
  const Dataset v1 = openDataset(fixtures() / "nnunet_v1");
  const auto [type, message] = errorOf([&] { return readCaseImage(findCase(v1, "hippo_002")); });
  CHECK(type == "IoError");
  CHECK_THAT(message,
             Catch::Contains((fixtures() / "nnunet_v1/imagesTr/hippo_002_0001.nii.gz").string()));

  const Dataset folders = openDataset(fixtures() / "folders");
  const auto orphan = errorOf([&] { return readCaseImage(findCase(folders, "slice_orphan")); });
  CHECK_THAT(orphan.second,
             Catch::Contains((fixtures() / "folders/labels/slice_orphan.png").string()));
  const auto unlabelled = errorOf([&] {
    const DatasetCase& c = findCase(folders, "slice_b");
    return readCaseReference(c, readCaseImage(c).geometry());
  });
  CHECK(unlabelled.first == "Error");
  CHECK(unlabelled.second == "case slice_b has no reference labels");
}

TEST_CASE("malformed datasets and other paths are refused naming the file", "[datasets]") {
  for (const json& want : expected()["errors"]) {
    DYNAMIC_SECTION(want["open"].get<std::string>()) {
      const auto [type, message] = errorOf([&] { return openDataset(fixture(want["open"])); });
      CHECK(type == want["type"].get<std::string>());
      CHECK_THAT(message, Catch::Contains(fixture(want["mentions"]).string()));
      CHECK(message.find('\n') == std::string::npos);
    }
  }
}

TEST_CASE(
    "a dataset.json file, or the folder spelt with ./ and a trailing /, opens like the folder",
    "[datasets]") {
  for (const char* layout : {"msd", "folders"}) {
    const Dataset folder = openDataset(fixtures() / layout);
    const fs::path spellings[] = {fixtures() / layout / "dataset.json",
                                  fixtures() / "." / layout / ""};
    for (const fs::path& spelling : spellings) {
      if (spelling.filename() == "dataset.json" && std::string(layout) == "folders") continue;
      INFO(spelling.string());
      const Dataset other = openDataset(spelling);
      CHECK(other.root == folder.root);
      CHECK(other.name == folder.name);
      REQUIRE(other.cases.size() == folder.cases.size());
      for (size_t n = 0; n < other.cases.size(); ++n) {
        CHECK(other.cases[n].id == folder.cases[n].id);
        CHECK(other.cases[n].images == folder.cases[n].images);
        CHECK(other.cases[n].reference == folder.cases[n].reference);
      }
    }
  }
}

TEST_CASE("splits: training, test, all, and auto preferring a labelled test split", "[datasets]") {
  const Dataset msd = openDataset(fixtures() / "msd");
  CHECK(selectSplit(msd, "training").size() == 3);
  CHECK(selectSplit(msd, "test").size() == 3);
  CHECK(selectSplit(msd, "all").size() == 6);
  CHECK(resolveSplit(msd, "auto") == "test");
  for (const DatasetCase& c : selectSplit(msd, "auto")) CHECK(c.split == "test");

  const Dataset v2 = openDataset(fixtures() / "Dataset042_Toy");
  CHECK(resolveSplit(v2, "auto") == "training");
  CHECK(selectSplit(v2, "auto").size() == 3);
  CHECK(resolveSplit(v2, "training") == "training");

  const auto unknown = errorOf([&] { return selectSplit(v2, "validation"); });
  CHECK(unknown.first == "UsageError");
  CHECK_THAT(unknown.second, Catch::Contains("validation") && Catch::Contains("training") &&
                                 Catch::Contains("test") && Catch::Contains("all") &&
                                 Catch::Contains("auto"));

  const Dataset folders = openDataset(fixtures() / "folders");
  const auto empty = errorOf([&] { return selectSplit(folders, "test"); });
  CHECK(empty.first == "UsageError");
  CHECK_THAT(empty.second, Catch::Contains("test split has no cases"));
}

TEST_CASE("auto falls back to an unlabelled test split when there is no training split",
          "[datasets]") {
  Dataset dataset;
  for (const char* id : {"a", "b"}) {
    DatasetCase c;
    c.id = id;
    c.split = "test";
    c.images = {std::string(id) + ".nii.gz"};
    dataset.cases.push_back(c);
  }
  CHECK(resolveSplit(dataset, "auto") == "test");
  CHECK(selectSplit(dataset, "auto").size() == 2);
}
