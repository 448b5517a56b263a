// Training against PyTorch (tests/fixtures/training_reference.py): the loss and its gradient, one
// Adam step of the zoo networks from the same weights on the same batch, reproducibility, and
// the checkpoints PyTorch loads back.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analysis/core/error.hpp"
#include "analysis/core/seeded_random.hpp"
#include "analysis/io/file_util.hpp"
#include "analysis/models/training_batches.hpp"
#include "plugins/checkpoint/checkpoint_file.hpp"
#include "plugins/training/trainer.hpp"
#include "plugins/zoo/native_adapter.hpp"
#include "tests/support/test_support.hpp"

using namespace gatescope;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

template <typename T>
std::vector<T> readRaw(const fs::path& path) {
  const std::vector<uint8_t> bytes = readWholeFile(path);
  std::vector<T> values(bytes.size() / sizeof(T));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(T));
  return values;
}

json readJson(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  return json::parse(in);
}

LossWeights lossWeights(const json& j) {
  return {j["dice"].get<double>(), j["cross_entropy"].get<double>(), j["smooth"].get<double>()};
}

std::vector<float> floats(const CheckpointTensor& t) {
  REQUIRE(t.dtype == "float32");
  std::vector<float> v(t.data.size() / 4);
  std::memcpy(v.data(), t.data.data(), t.data.size());
  return v;
}

std::map<std::string, const CheckpointTensor*> byName(const Checkpoint& c) {
  std::map<std::string, const CheckpointTensor*> out;
  for (const auto& t : c.tensors) out[t.name] = &t;
  return out;
}

// A small training setup on in-memory cases: blobs of two classes in noise.
json tinyConfig() {
  return {{"dataset", "in-memory"},
          {"model",
           {{"architecture", "unet_ct_single_att_dsv"}, {"n_classes", 3}, {"feature_scale", 16}}},
          {"epochs", 2},
          {"batch_size", 2},
          {"learning_rate", 0.01},
          {"weight_decay", 1e-5},
          {"seed", 1234},
          {"patch_size", {16, 32, 16}},
          {"augmentation",
           {{"flip_axes", {0, 1, 2}},
            {"flip_probability", 0.5},
            {"intensity_scale", {0.9, 1.1}},
            {"intensity_shift", {-0.1, 0.1}}}},
          {"validation_fraction", 0.25}};
}

std::vector<TrainingSample> tinyCases() {
  SeededRandom random(99);
  std::vector<TrainingSample> cases;
  for (int n = 0; n < 4; ++n) {
    Geometry g;
    g.dims = {24 + 4 * n, 32, 16};
    TrainingSample s{"case_" + std::to_string(n), Volume<float>(g), Volume<int32_t>(g), {}};
    const int64_t ci = 6 + n, cj = 10 + n, ck = 8;
    for (int64_t k = 0; k < g.dims[2]; ++k)
      for (int64_t j = 0; j < g.dims[1]; ++j)
        for (int64_t i = 0; i < g.dims[0]; ++i) {
          const int64_t d2 = (i - ci) * (i - ci) + (j - cj) * (j - cj) + (k - ck) * (k - ck);
          const int label = d2 < 16 ? 1 : (i > 14 && j > 20 && k < 6 ? 2 : 0);
          s.labels(i, j, k) = label;
          s.image(i, j, k) = static_cast<float>(100.0 * label + 20.0 * random.uniform(-1.0, 1.0));
        }
    cases.push_back(std::move(s));
  }
  return cases;
}

TrainingResult trainTiny(const json& config_json, bool pair, const fs::path& out) {
  const TrainingConfig config = parseTrainingConfig(config_json, out / "train.json");
  const TrainingData data = prepareTrainingData(tinyCases(), config);
  TrainingRequest request{config, modelsToTrain(config, pair), "cpu", out};
  return trainZooModels(request, data, {});
}

// The checkpoint gatescope wrote after one step against PyTorch's: equal within float rounding,
// except weights whose gradient is rounding noise (they may move by one step either way).
void checkStepAgainstPyTorch(const fs::path& dir, const json& c, const fs::path& written) {
  const Checkpoint stepped = readCheckpoint(written);
  const Checkpoint reference = readCheckpoint(dir / c["stepped"].get<std::string>());
  const Checkpoint noise = readCheckpoint(dir / c["noise"].get<std::string>());
  const Checkpoint initial = readCheckpoint(dir / c["initial"].get<std::string>());
  const auto ours = byName(stepped);
  const auto noisy = byName(noise);
  const auto before = byName(initial);
  size_t moved = 0;
  REQUIRE(stepped.tensors.size() == reference.tensors.size());
  size_t compared = 0, coin_tosses = 0;
  for (const CheckpointTensor& want : reference.tensors) {
    INFO(want.name);
    REQUIRE(ours.count(want.name));
    const CheckpointTensor& got = *ours.at(want.name);
    REQUIRE(got.shape == want.shape);
    if (want.dtype == "int64") {
      CHECK(got.data == want.data);  // num_batches_tracked
      continue;
    }
    const auto a = floats(got), b = floats(want), start = floats(*before.at(want.name));
    const uint8_t* mask = noisy.count(want.name) ? noisy.at(want.name)->data.data() : nullptr;
    double worst = 0;
    for (size_t n = 0; n < a.size(); ++n) {
      const double difference = std::abs(static_cast<double>(a[n]) - b[n]);
      if (mask && mask[n]) {
        // Gradient is rounding noise: any direction, but never more than one step.
        CHECK(difference <= 2.05 * c["learning_rate"].get<double>());
        ++coin_tosses;
        continue;
      }
      worst = std::max(worst, difference / std::max(1.0, std::abs(static_cast<double>(b[n]))));
      ++compared;
      if (std::abs(a[n] - start[n]) > 0.1 * c["learning_rate"].get<double>()) ++moved;
    }
    CHECK(worst < 1e-5);
  }
  CHECK(compared > 10 * coin_tosses);
  CHECK(moved > compared * 9 / 10);  // the step changed the weights
}

// A one-epoch configuration starting from the reference's initial weights.
TrainingConfig stepConfig(const fs::path& dir, const json& c, int batch_size) {
  json model = c["manifest"];
  model["initial_weights"] = (dir / c["initial"].get<std::string>()).string();
  model["name"] = c["name"];
  const json config_json = {{"dataset", "in-memory"},
                            {"model", model},
                            {"epochs", 1},
                            {"batch_size", batch_size},
                            {"learning_rate", c["learning_rate"]},
                            {"weight_decay", c["weight_decay"]},
                            {"loss", c["weights"]},
                            {"preprocessing", {{"normalize", "none"}}}};
  return parseTrainingConfig(config_json, dir / "step.json");
}

// One step on `samples` (one batch) gives PyTorch's loss and weights.
void checkOneStep(const fs::path& dir, const json& c, const TrainingConfig& config,
                  std::vector<TrainingSample> samples) {
  const std::string name = c["name"].get<std::string>();
  const fs::path out = test::scratchDir("train_step_" + name);
  const TrainingResult result = trainZooModels({config, modelsToTrain(config, false), "cpu", out},
                                               prepareTrainingData(std::move(samples), config), {});
  REQUIRE(result.models.size() == 1);
  CHECK(result.models[0].epochs[0].loss == Approx(c["loss"].get<double>()).epsilon(1e-5));
  checkStepAgainstPyTorch(dir, c, out / name / "model.pth");
}

}  // namespace

TEST_CASE("the training loss and its gradient equal PyTorch's", "[train]") {
  const fs::path dir = test::fixtureDir("training");
  const json cases = readJson(dir / "training.json");
  REQUIRE(cases["loss"].size() == 3);
  for (const auto& c : cases["loss"]) {
    DYNAMIC_SECTION(c["name"].get<std::string>()) {
      TensorData logits{c["logits"]["shape"].get<std::vector<int64_t>>(),
                        readRaw<float>(dir / c["logits"]["file"].get<std::string>())};
      const auto labels = readRaw<int64_t>(dir / c["labels"]["file"].get<std::string>());
      const LossEvaluation e = evaluateSegmentationLoss(logits, labels, lossWeights(c["weights"]));
      CHECK(e.loss == Approx(c["loss"].get<double>()).epsilon(1e-6));
      CHECK(e.dice_loss == Approx(c["dice_loss"].get<double>()).epsilon(1e-6).margin(1e-7));
      CHECK(e.cross_entropy == Approx(c["cross_entropy"].get<double>()).epsilon(1e-6));
      const auto expected = readRaw<float>(dir / c["gradient"]["file"].get<std::string>());
      REQUIRE(e.gradient.shape == logits.shape);
      REQUIRE(e.gradient.values.size() == expected.size());
      double worst = 0, scale = 0;
      for (size_t n = 0; n < expected.size(); ++n) {
        worst = std::max(worst, std::abs(static_cast<double>(e.gradient.values[n]) - expected[n]));
        scale = std::max(scale, std::abs(static_cast<double>(expected[n])));
      }
      CHECK(worst <= 1e-5 * scale);
    }
  }
}

TEST_CASE("one Adam step equals PyTorch's from the same weights on the same batch", "[train]") {
  const fs::path dir = test::fixtureDir("training");
  const json steps = readJson(dir / "training.json");
  REQUIRE(steps["step"].size() == 2);
  for (const auto& c : steps["step"]) {
    const std::string name = c["name"].get<std::string>();
    DYNAMIC_SECTION(name) {
      const TrainingConfig config = stepConfig(dir, c, 1);
      Geometry g;
      g.dims = {c["dims"][0].get<int64_t>(), c["dims"][1].get<int64_t>(),
                c["dims"][2].get<int64_t>()};
      TrainingSample sample{
          name,
          Volume<float>(g, 1, readRaw<float>(dir / c["image"]["file"].get<std::string>())),
          Volume<int32_t>(g, 1, readRaw<int32_t>(dir / c["labels"]["file"].get<std::string>())),
          {}};
      std::vector<TrainingSample> cases;
      cases.push_back(std::move(sample));
      checkOneStep(dir, c, config, std::move(cases));
    }
  }
}

TEST_CASE("one Adam step of a classifier equals PyTorch's on the same batch", "[train]") {
  const fs::path dir = test::fixtureDir("training");
  const json steps = readJson(dir / "training.json");
  REQUIRE(steps["classifier_step"].size() == 2);
  for (const auto& c : steps["classifier_step"]) {
    const std::string name = c["name"].get<std::string>();
    DYNAMIC_SECTION(name) {
      const TrainingConfig config = stepConfig(dir, c, 2);
      Geometry g;
      g.dims = {c["dims"][0].get<int64_t>(), c["dims"][1].get<int64_t>(), 1};
      std::vector<TrainingSample> images;
      for (size_t n = 0; n < c["images"].size(); ++n)
        images.push_back(
            {fmt::format("{}_{}", name, n),
             Volume<float>(g, 1, readRaw<float>(dir / c["images"][n]["file"].get<std::string>())),
             {},
             {},
             c["classes"][n].get<int>()});
      checkOneStep(dir, c, config, std::move(images));
    }
  }
}

TEST_CASE("training is reproducible, and a pair shares one data stream", "[train]") {
  const fs::path root = test::scratchDir("train_reproducible");
  const TrainingResult first = trainTiny(tinyConfig(), true, root / "first");
  const TrainingResult second = trainTiny(tinyConfig(), true, root / "second");
  const TrainingResult alone = trainTiny(tinyConfig(), false, root / "alone");
  REQUIRE(first.models.size() == 2);
  CHECK(first.deterministic);
  for (const char* model : {"gated", "baseline"}) {
    INFO(model);
    CHECK(readWholeFile(root / "first" / model / "model.pth") ==
          readWholeFile(root / "second" / model / "model.pth"));
  }
  CHECK(readWholeFile(root / "first" / "gated" / "model.pth") ==
        readWholeFile(root / "alone" / "unet_ct_single_att_dsv" / "model.pth"));
  CHECK(readWholeFile(root / "first" / "gated" / "model.pth") !=
        readWholeFile(root / "first" / "baseline" / "model.pth"));
  for (const auto& m : first.models) {
    REQUIRE(m.epochs.size() == 2);
    for (const auto& e : m.epochs) {
      CHECK(std::isfinite(e.loss));
      CHECK(e.validation_loss.has_value());
    }
  }
  CHECK(first.models[0].epochs[1].loss == second.models[0].epochs[1].loss);

  json other_seed = tinyConfig();
  other_seed["seed"] = 4321;
  (void)trainTiny(other_seed, false, root / "other_seed");
  CHECK(readWholeFile(root / "other_seed" / "unet_ct_single_att_dsv" / "model.pth") !=
        readWholeFile(root / "alone" / "unet_ct_single_att_dsv" / "model.pth"));
}

TEST_CASE("trained models load strictly in PyTorch and give the same logits there as in gatescope",
          "[train]") {
  const fs::path root = test::scratchDir("train_loads_in_pytorch");
  json config = tinyConfig();
  config["epochs"] = 1;
  config["labels"] = {{"0", "background"}, {"1", "blob"}, {"2", "corner"}};
  (void)trainTiny(config, true, root);
  REQUIRE(test::runReferencePython("training/check_trained_model.py", {root.string()}) == 0);
  for (const char* name : {"gated", "baseline"}) {
    INFO(name);
    const fs::path folder = root / name;
    const json manifest = readJson(folder / "model.json");
    CHECK(manifest["weights"] == "model.pth");
    CHECK(manifest["labels"]["1"] == "blob");
    CHECK(manifest["preprocessing"]["pad_to_multiple"] == 16);
    auto model = loadNativeModel(folder / "model.json", {"cpu"});
    TensorData input{{1, 1, 32, 32, 16}, readRaw<float>(folder / "check_input.f32")};
    const ForwardResult ours = model->forward(input, false);
    const auto theirs = readRaw<float>(folder / "check_logits.f32");
    REQUIRE(ours.logits.values.size() == theirs.size());
    double worst = 0;
    for (size_t n = 0; n < theirs.size(); ++n)
      worst = std::max(worst, std::abs(static_cast<double>(ours.logits.values[n]) - theirs[n]) /
                                  std::max(1.0, std::abs(static_cast<double>(theirs[n]))));
    CHECK(worst < 1e-4);
  }
}

TEST_CASE("batches follow the seed: crops inside the case, flips and intensity drawn per sample",
          "[train]") {
  json config_json = tinyConfig();
  config_json["validation_fraction"] = 0;
  const TrainingConfig config = parseTrainingConfig(config_json, "train.json");
  const TrainingData data = prepareTrainingData(tinyCases(), config);
  REQUIRE(data.training.size() == 4);
  CHECK(data.training[0].image.dims() == Index3{32, 32, 16});  // 24 padded to a multiple of 16
  CHECK(data.training[3].image.dims() == Index3{48, 32, 16});
  BatchSampler a(config, data.training), b(config, data.training);
  CHECK(a.batchesPerEpoch() == 2);
  for (int epoch = 0; epoch < 3; ++epoch) {
    a.startEpoch();
    b.startEpoch();
    for (size_t n = 0; n < a.batchesPerEpoch(); ++n) {
      const TrainingBatch x = a.batch(n), y = b.batch(n);
      CHECK(x.images.shape == std::vector<int64_t>{2, 1, 16, 32, 16});
      CHECK(x.ids == y.ids);
      CHECK(x.images.values == y.images.values);
      CHECK(x.labels == y.labels);
    }
  }
  const TrainingBatch whole = wholeCaseBatch(data.training[1], 3);
  CHECK(whole.images.shape == std::vector<int64_t>{1, 1, 32, 32, 16});
  // Network layout (i, j, k), k fastest, against the volume's (i fastest).
  CHECK(whole.images.values[(5 * 32 + 7) * 16 + 3] == data.training[1].image(5, 7, 3));
  CHECK(whole.labels[(5 * 32 + 7) * 16 + 3] == data.training[1].labels(5, 7, 3));

  config_json["patch_size"] = nullptr;
  const TrainingConfig whole_cases = parseTrainingConfig(config_json, "train.json");
  const TrainingData unequal = prepareTrainingData(tinyCases(), whole_cases);
  CHECK_THROWS_WITH(
      BatchSampler(whole_cases, unequal.training),
      Catch::Contains("batch_size 2 needs cases of one size") && Catch::Contains("train.json"));
}

TEST_CASE("bad training configurations name the file and the field", "[train]") {
  const auto fails = [](json config, const std::string& expected) {
    INFO(config.dump());
    try {
      (void)parseTrainingConfig(config, "/data/experiments/train.json");
      FAIL("accepted");
    } catch (const Error& e) {
      const std::string message = e.what();
      INFO(message);
      CHECK(message.starts_with("/data/experiments/train.json: "));
      CHECK(message.find(expected) != std::string::npos);
      CHECK(message.find('\n') == std::string::npos);
    }
  };
  const auto with = [](const std::string& pointer, json value) {
    json c = tinyConfig();
    c[json::json_pointer(pointer)] = std::move(value);
    return c;
  };
  const auto without = [](const std::string& key) {
    json c = tinyConfig();
    c.erase(key);
    return c;
  };
  fails(without("dataset"), "\"dataset\" is required");
  fails(without("epochs"), "\"epochs\" is required");
  fails(without("model"), "\"model\" is required");
  fails(with("/epochs", 0), "\"epochs\" must be a whole number of at least 1, not 0");
  fails(with("/epochs", "ten"), "\"epochs\" must be");
  fails(with("/batch_size", 2.5), "\"batch_size\"");
  fails(with("/learning_rate", -1), "\"learning_rate\" must be a number in (0, 1]");
  fails(with("/seed", -3), "\"seed\"");
  fails(with("/patch_size", json{24, 32, 16}), "\"patch_size\" must be 3 sizes");
  fails(with("/patch_size", json{32, 32}), "\"patch_size\"");
  fails(with("/augmentation/flip_probability", 1.5),
        "\"augmentation.flip_probability\" must be a probability");
  fails(with("/augmentation/flip_axes", json{0, 3}), "\"augmentation.flip_axes\"");
  fails(with("/augmentation/intensity_scale", json{1.2, 0.8}), "\"augmentation.intensity_scale\"");
  fails(with("/augmentation/rotate", true), "unknown key \"augmentation.rotate\"");
  fails(with("/loss/dice", -1), "\"loss.dice\"");
  fails(with("/loss/focal", 1), "unknown key \"loss.focal\"");
  fails(with("/validation_fraction", 0.95), "\"validation_fraction\"");
  fails(with("/split", "validation"), "\"split\"");
  fails(with("/learning_rat", 0.1), "unknown key \"learning_rat\"");
  fails(with("/learning_rate_schedule", "linear"), "\"learning_rate_schedule\" must be");
  fails(with("/learning_rate_schedule", json{{"kind", "exponential"}}),
        "\"learning_rate_schedule\" must be");
  fails(with("/learning_rate_schedule", json{{"kind", "step"}}),
        "\"learning_rate_schedule.every_epochs\" is required");
  fails(with("/learning_rate_schedule", json{{"kind", "step"}, {"every_epochs", 2}, {"factor", 0}}),
        "\"learning_rate_schedule.factor\" must be a number in (0, 1]");
  fails(with("/learning_rate_schedule", json{{"kind", "cosine"}, {"final_learning_rate", 1}}),
        "\"learning_rate_schedule.final_learning_rate\" must be a number in [0, learning_rate]");
  fails(with("/learning_rate_schedule", json{{"kind", "cosine"}, {"power", 2}}),
        "\"learning_rate_schedule.power\" does not apply to the cosine schedule");
  fails(with("/learning_rate_schedule", json{{"kind", "poly"}, {"gamma", 2}}),
        "unknown key \"learning_rate_schedule.gamma\"");
  fails(with("/model/architecture", "unet_transformer"),
        "unknown architecture \"unet_transformer\"");
  fails(with("/model/n_classes", 1), "\"model.n_classes\" must be at least 2");
  fails(with("/model/feature_scale", 3), "\"feature_scale\" must divide 64");
  fails(with("/model/name", "../escape"), "\"model.name\" names the output folder");
  fails(with("/model/weights", "x.pth"), "unknown key \"model.weights\"");
  fails(with("/labels", json{{"3", "liver"}}), "\"labels\": label 3");
  fails(with("/preprocessing/normalize", "minmax"), "\"preprocessing.normalize\"");
  fails(with("/pair", json{{"gated", "unet_ct_single_att_dsv"}}), "\"pair.baseline\" is required");
  fails(with("/pair", json{{"gated", "unet_ct_single_att_dsv"},
                           {"baseline", {{"architecture", "unet_ct_dsv"}, {"name", "gated"}}}}),
        "output folders must differ");
  fails(with("/pair", json{{"gated", "unet_ct_single_att_dsv"}, {"baseline", 3}}),
        "\"pair.baseline\" must be");
  json grid2d = with("/model/architecture", "unet_grid_gating");
  grid2d["model"]["tensor_dim"] = "2D";
  grid2d["patch_size"] = {16, 16};
  grid2d["augmentation"]["flip_axes"] = {0, 1};
  fails(grid2d, "3D only");
  fails(json::array(), "a training configuration is a JSON object");
}

TEST_CASE("a pair defaults to the gated model and its ungated counterpart", "[train]") {
  const TrainingConfig c = parseTrainingConfig(tinyConfig(), "/x/train.json");
  const auto models = modelsToTrain(c, true);
  REQUIRE(models.size() == 2);
  CHECK(models[0].manifest.name == "gated");
  CHECK(models[0].manifest.architecture == "unet_ct_single_att_dsv");
  CHECK(models[1].manifest.name == "baseline");
  CHECK(models[1].manifest.architecture == "unet_ct_dsv");
  CHECK(c.dataset == fs::path("/x/in-memory"));
  json ungated = tinyConfig();
  ungated["model"]["architecture"] = "unet_ct_dsv";
  CHECK_THROWS_WITH(modelsToTrain(parseTrainingConfig(ungated, "/x/train.json"), true),
                    Catch::Contains("has no attention gates"));
  // The configuration as used reads back as the same configuration.
  const TrainingConfig again = parseTrainingConfig(json::parse(toJson(c).dump()), "/x/train.json");
  CHECK(toJson(again) == toJson(c));
}

TEST_CASE("2D models train on one-slice cases", "[train]") {
  std::vector<TrainingSample> cases;
  for (TrainingSample& s : tinyCases()) {
    Geometry g = s.image.geometry();
    g.dims[2] = 1;
    TrainingSample slice{s.id, Volume<float>(g), Volume<int32_t>(g), {}};
    for (int64_t j = 0; j < g.dims[1]; ++j)
      for (int64_t i = 0; i < g.dims[0]; ++i) {
        slice.image(i, j, 0) = s.image(i, j, 8);
        slice.labels(i, j, 0) = s.labels(i, j, 8);
      }
    cases.push_back(std::move(slice));
  }
  json config_json = tinyConfig();
  config_json["model"]["tensor_dim"] = "2D";
  config_json["pair"] = {{"gated", "unet_ct_single_att_dsv"}, {"baseline", "unet"}};
  config_json["patch_size"] = {16, 32};
  config_json["augmentation"]["flip_axes"] = {0, 1};
  config_json["epochs"] = 1;
  const fs::path out = test::scratchDir("train_2d");
  const TrainingConfig config = parseTrainingConfig(config_json, out / "train.json");
  const TrainingResult result = trainZooModels({config, modelsToTrain(config, true), "cpu", out},
                                               prepareTrainingData(std::move(cases), config), {});
  REQUIRE(result.models.size() == 2);
  for (const auto& m : result.models) {
    INFO(m.manifest.name);
    CHECK(std::isfinite(m.epochs[0].loss));
    auto model = loadNativeModel(out / m.manifest.name / "model.json", {"cpu"});
    CHECK(model->info().dimensions == 2);
    const ForwardResult logits =
        model->forward({{1, 1, 32, 32}, std::vector<float>(32 * 32, 0.5f)}, false);
    CHECK(logits.logits.shape == std::vector<int64_t>{1, 3, 32, 32});
  }
}
