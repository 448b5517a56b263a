// PNG reading against Pillow's view of the same files, and writing checked by Pillow.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "analysis/io/image_file.hpp"
#include "tests/support/test_support.hpp"

using namespace gatescope;
using nlohmann::json;
namespace fs = std::filesystem;

TEST_CASE("PNG reading matches Pillow", "[io]") {
  std::ifstream in(test::fixtureDir("png") / "expected.json");
  REQUIRE(in.good());
  const json expected = json::parse(in);
  REQUIRE(expected.size() >= 7);
  for (const json& e : expected) {
    DYNAMIC_SECTION(e["name"].get<std::string>()) {
      const Image image = readImage(test::fixtureDir("png") / e["file"].get<std::string>());
      const Geometry& g = image.geometry();
      CHECK(g.dims == Index3{e["width"].get<int64_t>(), e["height"].get<int64_t>(), 1});
      CHECK(image.channels() == e["channels"].get<int64_t>());
      CHECK(std::string(dataTypeName(image.dataType())) == e["dtype"].get<std::string>());
      CHECK(image.header.format == ImageFormat::Png);
      CHECK(g.spacing_mm == Vec3{1.0, 1.0, 1.0});  // pHYs is a display density, not spacing
      CHECK(image.header.png_dpi == Approx(e["dpi"].get<double>()));
      const auto reference =
          test::readFloat64File(test::fixtureDir("png") / e["data"].get<std::string>());
      const Volume<double> values = toDoubleVolume(image);
      REQUIRE(static_cast<size_t>(values.size()) == reference.size());
      CHECK(std::equal(reference.begin(), reference.end(), values.values().begin()));
    }
  }
}

namespace {
template <typename T>
Image randomPicture(int64_t width, int64_t height, int64_t channels, double dpi) {
  Geometry g;
  g.dims = {width, height, 1};
  Volume<T> v(g, channels);
  std::mt19937 rng(static_cast<uint32_t>(width * 31 + channels));
  for (T& x : v.values()) x = static_cast<T>(rng());
  Image image = makeImage(std::move(v), ImageFormat::Png);
  image.header.png_dpi = dpi;
  return image;
}
}  // namespace

TEST_CASE("written PNG files read back in Pillow and in gatescope", "[io]") {
  const fs::path folder = test::scratchDir("png_write");
  struct Case {
    std::string file;
    Image image;
    int bit_depth;
  };
  std::vector<Case> cases;
  cases.push_back({"gray8.png", randomPicture<uint8_t>(9, 5, 1, 300.0), 8});
  cases.push_back({"gray16.png", randomPicture<uint16_t>(4, 7, 1, 0.0), 16});
  cases.push_back({"rgb8.png", randomPicture<uint8_t>(6, 3, 3, 600.0), 8});
  json manifest = json::array();
  for (const Case& c : cases) {
    writeImage(folder / c.file, c.image);
    const Volume<double> real = toDoubleVolume(c.image);
    test::writeFloat64File(folder / (c.file + ".f64"),
                           {real.values().begin(), real.values().end()});
    manifest.push_back({{"file", c.file},
                        {"width", c.image.geometry().dims[0]},
                        {"height", c.image.geometry().dims[1]},
                        {"channels", c.image.channels()},
                        {"bit_depth", c.bit_depth},
                        {"dpi", c.image.header.png_dpi},
                        {"data", c.file + ".f64"}});
    const Image back = readImage(folder / c.file);
    CHECK(back.dataType() == c.image.dataType());
    CHECK(back.channels() == c.image.channels());
    const Volume<double> again = toDoubleVolume(back);
    CHECK(std::equal(real.values().begin(), real.values().end(), again.values().begin()));
    CHECK(back.header.png_dpi == Approx(c.image.header.png_dpi).epsilon(1e-3));
  }
  std::ofstream(folder / "written.json") << manifest.dump(1);
  CHECK(test::runReferencePython("fixtures/check_written_png.py", {folder.string()}) == 0);
}

TEST_CASE("PNG writing refuses what PNG cannot hold", "[io]") {
  const fs::path folder = test::scratchDir("png_refuse");
  Geometry g;
  g.dims = {4, 4, 2};
  CHECK_THROWS_WITH(writeImage(folder / "volume.png", makeImage(Volume<uint8_t>(g))),
                    Catch::Contains("one slice"));
  g.dims = {4, 4, 1};
  CHECK_THROWS_WITH(writeImage(folder / "float.png", makeImage(Volume<float>(g))),
                    Catch::Contains("uint8 or uint16"));
  CHECK_THROWS_WITH(writeImage(folder / "two.png", makeImage(Volume<uint8_t>(g, 2))),
                    Catch::Contains("channels"));
  CHECK(fs::is_empty(folder));
}
