// gatescope convert IN OUT: between image formats, geometry kept (docs/image-io.md).
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "analysis/io/image_conversion.hpp"
#include "analysis/io/image_file.hpp"
#include "workbench/cli/command.hpp"

namespace gatescope::cli {

namespace {

struct ConvertOptions {
  std::string input, output, datatype = "keep", series;
  bool quiet = false;
};

int runConvert(const ConvertOptions& o) {
  std::optional<DataType> type;
  if (o.datatype != "keep") {
    type = dataTypeFromName(o.datatype);
    if (!type)
      throw UsageError(
          fmt::format("--datatype {}: expected keep, uint8, int8, int16, uint16, "
                      "int32, float32 or float64",
                      o.datatype));
  }
  if (!isWritableImageName(o.output))
    throw UsageError(
        fmt::format("{}: gatescope writes .nii, .nii.gz, .png, .nrrd, .nhdr, .mha and "
                    ".mhd (not DICOM)",
                    o.output));
  Image image = readImage(o.input, {.dicom_series = o.series});
  if (type) image = withDataType(image, *type, o.input);
  writeImage(o.output, image);
  if (!o.quiet)
    std::cout << fmt::format("{} -> {} ({}, {})\n", o.input, o.output,
                             dataTypeName(image.dataType()), image.geometry().describe());
  return 0;
}

}  // namespace

void registerConvertCommand(CLI::App& root, CommandAction& chosen) {
  auto o = std::make_shared<ConvertOptions>();
  CLI::App* cmd = root.add_subcommand(
      "convert",
      "Convert an image between formats (NIfTI, NRRD, MetaImage, PNG; DICOM read), "
      "geometry kept");
  cmd->add_option("IN", o->input,
                  "Image to read: .nii, .nii.gz, .png, .nrrd, .nhdr, .mha, .mhd, a .dcm file or "
                  "a folder holding a DICOM series")
      ->required();
  cmd->add_option("OUT", o->output, "Image to write; the format follows the name")->required();
  cmd->add_option("--datatype", o->datatype,
                  "keep (default: the stored type; a scaled image keeps its slope and intercept "
                  "where the format can hold them) or uint8, int8, int16, uint16, int32, float32, "
                  "float64 (the real values converted; integers must fit)")
      ->capture_default_str();
  cmd->add_option("--series", o->series,
                  "SeriesInstanceUID of the DICOM series to read, where the folder holds several");
  cmd->add_flag("--quiet", o->quiet, "Print nothing on success");
  cmd->callback([o, &chosen] { chosen = [o] { return runConvert(*o); }; });
}

}  // namespace gatescope::cli
