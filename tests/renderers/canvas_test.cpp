// Canvas (cairo): exact pixel coverage at two resolutions, image and text placement, the three file
// formats and atomic writes.
#include "renderers/canvas.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "analysis/core/error.hpp"
#include "analysis/io/png_io.hpp"
#include "tests/renderers/baseline_image.hpp"
#include "tests/support/test_support.hpp"

using namespace gatescope;

namespace {

constexpr Rgba kWhite{255, 255, 255, 255};
constexpr Rgba kRed{220, 20, 30, 255};

std::string readText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A small well-formedness check (nested, balanced tags) that returns the root element's name, or ""
// when the document is not well formed. Enough to tell a complete SVG from a truncated one.
std::string xmlRootElement(const std::string& xml) {
  std::vector<std::string> open;
  std::string root;
  size_t pos = 0;
  while ((pos = xml.find('<', pos)) != std::string::npos) {
    const auto skipTo = [&](const char* end) {
      const size_t stop = xml.find(end, pos);
      pos = stop == std::string::npos ? std::string::npos : stop + std::string(end).size();
    };
    if (xml.compare(pos, 4, "<!--") == 0)
      skipTo("-->");
    else if (xml.compare(pos, 9, "<![CDATA[") == 0)
      skipTo("]]>");
    else if (xml.compare(pos, 2, "<?") == 0 || xml.compare(pos, 2, "<!") == 0)
      skipTo(">");
    else {
      const size_t end = xml.find('>', pos);
      if (end == std::string::npos) return "";
      const std::string tag = xml.substr(pos + 1, end - pos - 1);
      const bool closing = !tag.empty() && tag.front() == '/';
      const bool self_closing = !tag.empty() && tag.back() == '/';
      const size_t name_start = closing ? 1 : 0;
      const std::string name =
          tag.substr(name_start, tag.find_first_of(" \t\r\n/>", name_start) - name_start);
      if (closing) {
        if (open.empty() || open.back() != name) return "";
        open.pop_back();
      } else {
        if (open.empty() && !root.empty()) return "";  // a second root element
        if (root.empty()) root = name;
        if (!self_closing) open.push_back(name);
      }
      pos = end + 1;
    }
    if (pos == std::string::npos) return "";
  }
  return open.empty() ? root : "";
}

Canvas sampleDrawing() {
  Canvas canvas(120.0, 80.0);
  canvas.rectangle(10.0, 10.0, 40.0, 20.0, kRed);
  canvas.rectangleOutline(60.0, 10.0, 50.0, 30.0, {0, 0, 0, 255}, 1.0);
  canvas.line(10.0, 45.0, 110.0, 45.0, {30, 90, 200, 255}, 1.5, 4.0);
  canvas.polyline({{10.0, 70.0}, {30.0, 55.0}, {50.0, 65.0}}, {0, 140, 60, 255}, 1.0);
  canvas.circle(85.0, 25.0, 6.0, {250, 160, 0, 255});
  RgbaImage checker(2, 2);
  checker.set(0, 0, {0, 0, 0, 255}), checker.set(1, 1, {0, 0, 0, 255});
  checker.set(1, 0, kWhite), checker.set(0, 1, kWhite);
  canvas.image(checker, 60.0, 50.0, 16.0, 16.0);
  canvas.text(100.0, 72.0, "Dice 0.9", 9.0, {0, 0, 0, 255}, TextAlign::Right);
  canvas.text(8.0, 40.0, "y", 8.0, {0, 0, 0, 255}, TextAlign::Center, 90.0);
  return canvas;
}

}  // namespace

TEST_CASE("figure format follows the extension, case-insensitive", "[render]") {
  CHECK(figureFormatOf("a/fig.png") == FigureFormat::Png);
  CHECK(figureFormatOf("fig.PDF") == FigureFormat::Pdf);
  CHECK(figureFormatOf("fig.Svg") == FigureFormat::Svg);
  CHECK_THROWS_AS(figureFormatOf("fig.jpg"), UsageError);
  CHECK_THROWS_WITH(figureFormatOf("fig.jpg"),
                    Catch::Contains("fig.jpg") && Catch::Contains(".png, .pdf, .svg"));
}

TEST_CASE("a filled rectangle covers exactly its pixels at 72 and 144 dpi", "[render]") {
  Canvas canvas(40.0, 30.0);
  canvas.rectangle(10.0, 5.0, 8.0, 6.0, kRed);
  for (const int scale : {1, 2}) {
    const RgbaImage image = canvas.rasterize(72.0 * scale);
    REQUIRE(image.width == 40 * scale);
    REQUIRE(image.height == 30 * scale);
    int wrong = 0;
    for (int y = 0; y < image.height; ++y)
      for (int x = 0; x < image.width; ++x) {
        const bool inside = x >= 10 * scale && x < 18 * scale && y >= 5 * scale && y < 11 * scale;
        wrong += image.at(x, y) != (inside ? kRed : kWhite);
      }
    INFO("scale " << scale);
    CHECK(wrong == 0);
  }
}

TEST_CASE("an image drawn with the nearest filter reproduces its pixels", "[render]") {
  RgbaImage source(4, 3);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 4; ++x)
      source.set(x, y,
                 {static_cast<uint8_t>(60 * x), static_cast<uint8_t>(100 * y),
                  static_cast<uint8_t>(255 - 50 * x), 255});
  source.set(3, 2, {200, 0, 0, 128});  // half transparent: blends over the white background
  Canvas canvas(30.0, 20.0);
  canvas.image(source, 5.0, 4.0, 16.0, 12.0);
  const RgbaImage image = canvas.rasterize(72.0);
  for (int y = 0; y < 12; ++y)
    for (int x = 0; x < 16; ++x) {
      const Rgba got = image.at(5 + x, 4 + y);
      const Rgba src = source.at(x / 4, y / 4);
      const auto over_white = [&](uint8_t c) { return (c * src.a + 255 * (255 - src.a)) / 255.0; };
      INFO("pixel " << x << "," << y);
      CHECK(got.r == Approx(over_white(src.r)).margin(2));
      CHECK(got.g == Approx(over_white(src.g)).margin(2));
      CHECK(got.b == Approx(over_white(src.b)).margin(2));
    }
  CHECK(image.at(4, 4) == kWhite);
  CHECK(image.at(21, 15) == kWhite);
}

TEST_CASE("text renders dark pixels inside its measured width", "[render]") {
  Canvas canvas(200.0, 60.0);
  const std::string label = "Attention gate 3";
  const double width = canvas.textWidth(label, 12.0);
  CHECK(width > 60.0);
  CHECK(width < 130.0);
  CHECK(canvas.textWidth(label, 24.0) == Approx(2.0 * width).epsilon(0.01));
  CHECK(canvas.textWidth(label, 12.0, true) > width);
  const double anchor = 100.0, baseline = 40.0;
  canvas.text(anchor, baseline, label, 12.0, {0, 0, 0, 255}, TextAlign::Center);
  const RgbaImage image = canvas.rasterize(144.0);
  int dark = 0, outside = 0;
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x) {
      if (image.at(x, y).r >= 128) continue;
      ++dark;
      const double px = (x + 0.5) / 2.0, py = (y + 0.5) / 2.0;
      outside += px < anchor - width / 2.0 - 0.5 || px > anchor + width / 2.0 + 0.5 ||
                 py < baseline - 12.0 || py > baseline + 3.5;
    }
  CHECK(dark > 100);
  CHECK(outside == 0);
}

TEST_CASE("the sample drawing matches its baseline", "[render]") {
  test::requireMatchesBaseline(sampleDrawing().rasterize(144.0), "canvas_shapes",
                               test::ImageTolerance{});
}

TEST_CASE("a written PNG has points * dpi / 72 pixels and records its dpi", "[render]") {
  const auto dir = test::scratchDir("canvas_png");
  const Canvas canvas = sampleDrawing();
  canvas.write(dir / "figure.png", 300.0);
  const Image png = readPng(dir / "figure.png");
  CHECK(png.geometry().dims[0] == 500);  // 120 pt * 300 / 72
  CHECK(png.geometry().dims[1] == 333);  // 80 pt * 300 / 72 = 333.3
  CHECK(png.header.png_dpi == Approx(300.0).margin(0.1));
}

TEST_CASE("PDF and SVG outputs are complete documents", "[render]") {
  const auto dir = test::scratchDir("canvas_vector");
  const Canvas canvas = sampleDrawing();
  canvas.write(dir / "figure.pdf");
  canvas.write(dir / "figure.SVG");
  const std::string pdf = readText(dir / "figure.pdf");
  CHECK(pdf.rfind("%PDF-", 0) == 0);
  CHECK(pdf.find("%%EOF") != std::string::npos);
  CHECK(pdf.find("DejaVu") != std::string::npos);  // text stays text with an embedded font
  const std::string svg = readText(dir / "figure.SVG");
  CHECK(xmlRootElement(svg) == "svg");
  CHECK(svg.find("width=\"120pt\"") != std::string::npos);
  CHECK(
      xmlRootElement(svg.substr(0, svg.size() / 2)).empty());  // the checker does notice truncation
}

TEST_CASE("a failed write names the file and leaves nothing behind", "[render]") {
  const auto dir = test::scratchDir("canvas_failed_write");
  const Canvas canvas = sampleDrawing();
  for (const char* name : {"figure.png", "figure.pdf", "figure.svg"}) {
    const auto path = dir / "missing" / name;
    CHECK_THROWS_AS(canvas.write(path), Error);
    CHECK_THROWS_WITH(canvas.write(path), Catch::Contains(name));
  }
  CHECK_THROWS_AS(canvas.write(dir / "figure.tiff"), UsageError);
  CHECK(std::filesystem::is_empty(dir));
}
