// Checkpoint reading against files PyTorch wrote, and writing checked by torch.load.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analysis/core/error.hpp"
#include "analysis/io/file_util.hpp"
#include "plugins/checkpoint/checkpoint_file.hpp"
#include "tests/support/test_support.hpp"

using namespace gatescope;
namespace fs = std::filesystem;

TEST_CASE("checkpoints written by PyTorch read back exactly", "[models]") {
  const fs::path dir = test::fixtureDir("checkpoints");
  std::ifstream in(dir / "expected.json");
  REQUIRE(in.good());
  const auto expected = nlohmann::json::parse(in);
  REQUIRE(expected.size() >= 5);
  for (const auto& e : expected) {
    DYNAMIC_SECTION(e["file"].get<std::string>()) {
      const Checkpoint c = readCheckpoint(dir / e["file"].get<std::string>());
      CHECK(c.format == e["format"].get<std::string>());
      CHECK(c.nested_under == e["nested_under"].get<std::string>());
      CHECK(c.stripped_module_prefix == e["stripped_module_prefix"].get<bool>());
      REQUIRE(c.tensors.size() == e["tensors"].size());
      for (size_t n = 0; n < c.tensors.size(); ++n) {
        const auto& want = e["tensors"][n];
        INFO(want["name"].get<std::string>());
        CHECK(c.tensors[n].name == want["name"].get<std::string>());
        CHECK(c.tensors[n].dtype == want["dtype"].get<std::string>());
        CHECK(c.tensors[n].shape == want["shape"].get<std::vector<int64_t>>());
        CHECK(c.tensors[n].data == readWholeFile(dir / want["data"].get<std::string>()));
      }
    }
  }
}

TEST_CASE("files that are not state dicts get a clear error", "[models]") {
  const fs::path dir = test::fixtureDir("checkpoints");
  const auto fails_with = [&](const std::string& file, const std::string& what) {
    INFO(file);
    try {
      (void)readCheckpoint(dir / file);
      FAIL("no error");
    } catch (const Error& e) {
      const std::string message = e.what();
      INFO(message);
      CHECK(message.find(file) != std::string::npos);
      CHECK(message.find(what) != std::string::npos);
      CHECK(message.find('\n') == std::string::npos);
    }
  };
  fails_with("torchscript.pt", "TorchScript");
  fails_with("bare_tensor.pth", "not a dictionary of tensors");
  fails_with("truncated_ordered_zip.pth", "zip");
  fails_with("truncated_ordered_legacy.pth", "truncated");
  const fs::path scratch = test::scratchDir("checkpoint_errors");
  writeFileAtomically(scratch / "text.pth", std::string("hello, not a checkpoint"));
  fails_with("../../output/checkpoint_errors/text.pth", "not a torch.save checkpoint");
}

TEST_CASE("checkpoints written by gatescope load in PyTorch", "[models]") {
  const fs::path dir = test::scratchDir("checkpoint_write");
  std::vector<CheckpointTensor> tensors;
  const auto floats = [](std::vector<float> v) {
    std::vector<uint8_t> bytes(v.size() * 4);
    std::memcpy(bytes.data(), v.data(), bytes.size());
    return bytes;
  };
  std::vector<float> weight(4 * 27);
  for (size_t n = 0; n < weight.size(); ++n) weight[n] = static_cast<float>(n) * 0.25f - 3.0f;
  tensors.push_back({"conv.weight", "float32", {4, 1, 3, 3, 3}, floats(weight)});
  tensors.push_back({"conv.bias", "float32", {4}, floats({0.5f, -1.0f, 2.0f, 0.0f})});
  int64_t batches = 123456789012;
  std::vector<uint8_t> count(8);
  std::memcpy(count.data(), &batches, 8);
  tensors.push_back({"bn.num_batches_tracked", "int64", {}, count});
  nlohmann::json written = nlohmann::json::array();
  for (size_t n = 0; n < tensors.size(); ++n) {
    const std::string data = "tensor" + std::to_string(n) + ".bin";
    writeFileAtomically(dir / data, tensors[n].data);
    written.push_back({{"name", tensors[n].name},
                       {"dtype", tensors[n].dtype},
                       {"shape", tensors[n].shape},
                       {"data", data}});
  }
  std::ofstream(dir / "written.json") << written.dump();
  writeCheckpoint(dir / "model.pth", tensors);
  CHECK(test::runReferencePython("fixtures/check_written_checkpoint.py",
                                 {dir.string(), "model.pth"}) == 0);
  const Checkpoint back = readCheckpoint(dir / "model.pth");
  REQUIRE(back.tensors.size() == tensors.size());
  for (size_t n = 0; n < tensors.size(); ++n) {
    CHECK(back.tensors[n].name == tensors[n].name);
    CHECK(back.tensors[n].shape == tensors[n].shape);
    CHECK(back.tensors[n].data == tensors[n].data);
  }
}

TEST_CASE("damaged checkpoints give an error, never a crash", "[models]") {
  // Every prefix length in coarse steps, and single-byte corruptions across the file: reading must
  // either succeed or throw gatescope::Error (the ASan preset runs this too).
  const fs::path dir = test::fixtureDir("checkpoints");
  const fs::path scratch = test::scratchDir("checkpoint_damage");
  for (const char* name : {"ordered_zip.pth", "ordered_legacy.pth", "nested_module_legacy.pth"}) {
    const std::vector<uint8_t> bytes = readWholeFile(dir / name);
    std::vector<std::vector<uint8_t>> variants;
    for (size_t cut = 0; cut < bytes.size(); cut += std::max<size_t>(1, bytes.size() / 97))
      variants.emplace_back(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut));
    for (size_t at = 0; at < bytes.size(); at += std::max<size_t>(1, bytes.size() / 211)) {
      std::vector<uint8_t> flipped = bytes;
      flipped[at] ^= 0x5a;
      variants.push_back(std::move(flipped));
    }
    int errors = 0;
    for (const auto& variant : variants) {
      writeFileAtomically(scratch / "damaged.pth", variant);
      try {
        (void)readCheckpoint(scratch / "damaged.pth");
      } catch (const Error&) {
        ++errors;
      }
    }
    INFO(name);
    CHECK(errors > 0);
  }
}
