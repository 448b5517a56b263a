// Reading JSON gatescope did not write: bounded nesting, one-line errors naming the file and the
// field, whole numbers in range, and the TorchScript metadata built on them.
#include "analysis/io/json_file.hpp"

#include <catch2/catch.hpp>
#include <functional>
#include <string>

#include "analysis/core/error.hpp"
#include "analysis/models/torchscript_metadata.hpp"

using namespace gatescope;
using Catch::Contains;

namespace {

std::string nested(int depth) {
  return std::string(static_cast<size_t>(depth), '[') + "1" +
         std::string(static_cast<size_t>(depth), ']');
}

std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("JSON nesting is bounded before parsing, and brackets inside strings do not count",
          "[json]") {
  CHECK(parseJson(nested(kJsonDepthLimit), "ok.json").is_array());
  const std::string deep = errorOf([] { (void)parseJson(nested(100000), "deep.json"); });
  CHECK(deep == "deep.json: JSON nested deeper than 128 levels");
  const std::string text = "{\"a\": \"" + std::string(1000, '[') + "\"}";
  CHECK(parseJson(text, "strings.json")["a"].get<std::string>().size() == 1000);
  // An escaped quote does not end the string.
  CHECK(parseJson(R"({"a": "\"[[[[", "b": [1]})", "escaped.json")["b"][0] == 1);
}

TEST_CASE("a JSON syntax error is one line naming the file", "[json]") {
  const std::string message = errorOf([] { (void)parseJson("{\"a\":\n\n 1,,}", "broken.json"); });
  CHECK_THAT(message, Contains("broken.json: not valid JSON: "));
  CHECK(message.find('\n') == std::string::npos);
  CHECK(message.find("json.exception") == std::string::npos);
}

TEST_CASE("errors show a short excerpt of a value, never the whole value", "[json]") {
  nlohmann::json big = nlohmann::json::array();
  for (int n = 0; n < 10000; ++n) big.push_back(n);
  // The first 40 characters of the JSON text, then "...".
  CHECK(jsonExcerpt(big) == big.dump().substr(0, 40) + "...");
  CHECK(jsonExcerpt(big).size() == 43);
  const nlohmann::json object = {{"list", big}};
  const std::string message = errorOf([&] { (void)JsonFields(object, "f.json").string("list"); });
  CHECK(message ==
        "f.json: \"list\" must be a string, not an array (" + big.dump().substr(0, 40) + "...)");
}

TEST_CASE("integers must be whole and in range: nothing is truncated or wrapped", "[json]") {
  const nlohmann::json j = nlohmann::json::parse(
      R"({"ok": 3, "float_whole": 4.0, "fraction": 1.5, "huge": 1099511627776, "unsigned": 18446744073709551615,
          "text": "4", "negative": -2, "nan": null})");
  const JsonFields f(j, "m.json");
  CHECK(f.integer("ok", 1, 10) == 3);
  CHECK(f.integer("float_whole", 1, 10) == 4);
  CHECK(f.integer("missing", 1, 10, 7) == 7);
  CHECK(errorOf([&] { (void)f.integer("fraction", 1, 10); }) ==
        "m.json: \"fraction\" must be a whole number, not 1.5");
  CHECK(errorOf([&] { (void)f.integer("huge", 1, 256); }) ==
        "m.json: \"huge\" must be between 1 and 256, not 1099511627776");
  CHECK(errorOf([&] { (void)f.integer("unsigned", 1, 256); }) ==
        "m.json: \"unsigned\" must be between 1 and 256, not 18446744073709551615");
  CHECK(errorOf([&] { (void)f.integer("text", 1, 10); }) ==
        "m.json: \"text\" must be a whole number, not a string (\"4\")");
  CHECK(errorOf([&] { (void)f.integer("negative", 1, 10); }) ==
        "m.json: \"negative\" must be between 1 and 10, not -2");
  CHECK(errorOf([&] { (void)f.integer("absent", 1, 10); }) == "m.json: \"absent\" is required");
}

TEST_CASE("nested fields are named by their path", "[json]") {
  const nlohmann::json j =
      nlohmann::json::parse(R"({"pre": {"pad": [1, 0]}, "list": [1, 2, 3, 4]})");
  const JsonFields f(j, "m.json");
  CHECK(errorOf([&] { (void)f.object("pre").integers("pad", 1, 10, 1, 3); }) ==
        "m.json: \"pre.pad[1]\" must be between 1 and 10, not 0");
  CHECK(errorOf([&] { (void)f.integers("list", 1, 10, 1, 3); }) ==
        "m.json: \"list\" must be an array of 1 to 3 whole numbers, not [1,2,3,4]");
  CHECK(errorOf([&] { (void)f.object("list"); }) ==
        "m.json: \"list\" must be an object, not an array ([1,2,3,4])");
  CHECK(errorOf([&] { f.onlyKeys({"pre"}); }) == "m.json: unknown key \"list\" (known: pre)");
}

TEST_CASE("TorchScript metadata lists gates as names or as objects", "[json]") {
  ModelInfo info;
  bool align = false;
  readTorchScriptMetadata(R"({"n_classes": 3, "gates": ["g1", "g2"]})", "m.pt: gatescope.json",
                          info, align);
  REQUIRE(info.gates.size() == 2);
  CHECK(info.gates[1].name == "g2");
  CHECK(info.gates[1].stride ==
        std::array<int64_t, 3>{0, 0, 0});  // not declared: taken from the map
  ModelInfo objects;
  readTorchScriptMetadata(
      R"({"gates": [{"name": "g1", "stride": [2, 4]}, "g2"], "size_multiple": [8, 8, 4],
                             "labels": {"0": "background", "2": "liver"}, "upsample_align_corners": true})",
      "m.pt: gatescope.json", objects, align);
  CHECK(objects.gates[0].stride == std::array<int64_t, 3>{2, 4, 1});
  CHECK(objects.size_multiple == std::array<int64_t, 3>{8, 8, 4});
  CHECK(objects.labels.at(2) == "liver");
  CHECK(align);
}

TEST_CASE("TorchScript metadata that would divide by zero or lie about classes is refused",
          "[json]") {
  const auto refused = [](const std::string& text) {
    ModelInfo info;
    bool align = false;
    return errorOf([&] { readTorchScriptMetadata(text, "m.pt: gatescope.json", info, align); });
  };
  CHECK(refused(R"({"size_multiple": [0, 0, 0]})") ==
        "m.pt: gatescope.json: \"size_multiple[0]\" must be between 1 and 4096, not 0");
  CHECK(refused(R"({"gates": [{"name": "g", "stride": [0, 0, 0]}]})") ==
        "m.pt: gatescope.json: \"gates[0].stride[0]\" must be between 1 and 4096, not 0");
  CHECK(refused(R"({"n_classes": 0})") ==
        "m.pt: gatescope.json: \"n_classes\" must be between 1 and 256, not 0");
  CHECK(refused(R"({"gates": [1]})") ==
        "m.pt: gatescope.json: \"gates[0]\" must be a gate name or an object with \"name\", not an "
        "integer (1)");
  CHECK(refused(R"({"gates": ["g", "g"]})") ==
        "m.pt: gatescope.json: \"gates[1]\": gate \"g\" is listed twice");
  CHECK(refused(R"({"labels": {"x": "y"}})") ==
        "m.pt: gatescope.json: \"labels.x\" is not a label value (0 to 255)");
  CHECK(refused(R"({"weights": "a.pth"})") ==
        "m.pt: gatescope.json: unknown key \"weights\" (known: name, architecture, task, "
        "tensor_dim, in_channels, n_classes, "
        "labels, preprocessing, upsample_align_corners, size_multiple, gates)");
  CHECK(refused(R"({"task": "detection"})") ==
        "m.pt: gatescope.json: \"task\" must be \"segmentation\" or \"classification\", not "
        "\"detection\"");
  CHECK(refused(R"({"task": "classification", "tensor_dim": "3D"})") ==
        "m.pt: gatescope.json: \"tensor_dim\" must be \"2D\" for a classifier");
}
