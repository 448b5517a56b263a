// gatescope info FILE... [--json]: what a file holds, as nibabel would report it.
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "analysis/core/image_statistics.hpp"
#include "analysis/core/json_number.hpp"
#include "analysis/io/image_file.hpp"
#include "workbench/cli/command.hpp"

namespace gatescope::cli {

namespace {

struct InfoOptions {
  std::vector<std::string> files;
  std::string series;
  bool json = false;
};

constexpr size_t kMaxLabelsInTable = 16;

nlohmann::ordered_json describeJson(const std::string& path, const Image& image,
                                    const ImageStatistics& stats) {
  const Geometry& g = image.geometry();
  nlohmann::ordered_json direction = nlohmann::ordered_json::array();
  for (const auto& row : g.direction) direction.push_back(row);
  nlohmann::ordered_json file = {
      {"path", path},
      {"format", imageFormatName(image.header.format)},
      {"compressed", image.header.compressed},
      {"datatype", dataTypeName(image.dataType())},
      {"dims", image.header.file_dims},
      {"spacing_mm", g.spacing_mm},
      {"origin", g.origin},
      {"direction", direction},
      {"scaling",
       {{"slope", image.header.scaling.slope}, {"intercept", image.header.scaling.intercept}}},
      {"min", jsonNumber(stats.min)},
      {"max", jsonNumber(stats.max)},
      {"mean", jsonNumber(stats.mean)},
      {"n_nan", stats.n_nan},
      {"n_inf", stats.n_inf},
  };
  if (stats.has_labels) {
    nlohmann::ordered_json labels = nlohmann::ordered_json::object();
    for (const auto& [value, count] : stats.labels) labels[std::to_string(value)] = count;
    file["labels"] = labels;
  }
  return file;
}

std::string joined(const auto& values, const char* separator) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : separator) + fmt::format("{:.6g}", v);
  return out;
}

void printTable(const std::string& path, const Image& image, const ImageStatistics& stats) {
  const Geometry& g = image.geometry();
  std::string dims;
  for (auto d : image.header.file_dims) dims += (dims.empty() ? "" : " x ") + std::to_string(d);
  std::string direction;
  for (const auto& row : g.direction)
    direction += (direction.empty() ? "" : "; ") + joined(row, " ");
  std::cout << path << "\n"
            << fmt::format("  format      {}{}\n", imageFormatName(image.header.format),
                           image.header.compressed ? " (gzip)" : "")
            << fmt::format("  datatype    {}\n", dataTypeName(image.dataType()))
            << fmt::format("  dims        {}\n", dims)
            << fmt::format("  spacing_mm  {}\n", joined(g.spacing_mm, " "))
            << fmt::format("  origin      {}\n", joined(g.origin, " "))
            << fmt::format("  direction   [{}]\n", direction)
            << fmt::format("  scaling     slope {:.6g}, intercept {:.6g}\n",
                           image.header.scaling.slope, image.header.scaling.intercept)
            << fmt::format("  values      min {:.6g}, max {:.6g}, mean {:.6g}", stats.min,
                           stats.max, stats.mean);
  if (stats.n_nan || stats.n_inf)
    std::cout << fmt::format(" ({} NaN, {} inf voxels excluded)", stats.n_nan, stats.n_inf);
  std::cout << "\n";
  if (stats.has_labels) {
    if (stats.labels.size() <= kMaxLabelsInTable) {
      std::string labels;
      for (const auto& [value, count] : stats.labels)
        labels += (labels.empty() ? "" : ", ") + fmt::format("{}: {}", value, count);
      std::cout << "  labels      " << labels << "\n";
    } else {
      std::cout << fmt::format("  labels      {} distinct values (--json lists the counts)\n",
                               stats.labels.size());
    }
  }
}

int runInfo(const InfoOptions& options) {
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  int failures = 0;
  for (size_t n = 0; n < options.files.size(); ++n) {
    const std::string& path = options.files[n];
    try {
      const Image image = readImage(path, {.dicom_series = options.series});
      const ImageStatistics stats = computeStatistics(image);
      if (options.json) {
        files.push_back(describeJson(path, image, stats));
      } else {
        if (n > 0) std::cout << "\n";
        printTable(path, image, stats);
      }
    } catch (const Error& e) {
      ++failures;
      std::cerr << "gatescope: " << e.what() << "\n";
      if (options.json) files.push_back({{"path", path}, {"error", e.what()}});
    }
  }
  if (options.json) std::cout << nlohmann::ordered_json{{"files", files}}.dump(2) << "\n";
  return failures ? 1 : 0;
}

}  // namespace

void registerInfoCommand(CLI::App& root, CommandAction& chosen) {
  auto options = std::make_shared<InfoOptions>();
  CLI::App* info = root.add_subcommand(
      "info", "Show format, datatype, geometry, scaling, value range and label counts of images");
  info->add_option("FILE", options->files,
                   "Images: .nii, .nii.gz (NIfTI-1/2), .png, .nrrd, .nhdr, .mha, .mhd, a .dcm file "
                   "or a folder holding a DICOM series")
      ->required();
  info->add_option("--series", options->series,
                   "SeriesInstanceUID of the DICOM series to read, where a folder holds several");
  info->add_flag("--json", options->json,
                 "Print {\"files\": [...]} as JSON instead of a table (see docs/cli.md)");
  info->callback([options, &chosen] { chosen = [options] { return runInfo(*options); }; });
}

}  // namespace gatescope::cli
