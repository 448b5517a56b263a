#include "analysis/io/image_file.hpp"

#include <system_error>

#include "analysis/io/file_util.hpp"
#include "analysis/io/itk_io.hpp"
#include "analysis/io/nifti_io.hpp"
#include "analysis/io/png_io.hpp"

namespace gatescope {
namespace fs = std::filesystem;

namespace {
enum class Kind { Nifti, Png, Itk, Dicom, Unknown };

Kind kindOf(const fs::path& path) {
  if (hasExtension(path, ".nii") || hasExtension(path, ".nii.gz")) return Kind::Nifti;
  if (hasExtension(path, ".png")) return Kind::Png;
  for (std::string_view suffix : {".nrrd", ".nhdr", ".mha", ".mhd"})
    if (hasExtension(path, suffix)) return Kind::Itk;
  if (hasExtension(path, ".dcm")) return Kind::Dicom;
  return Kind::Unknown;
}

// What to read: by name, and a folder is a DICOM series.
Kind kindToRead(const fs::path& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) ? Kind::Dicom : kindOf(path);
}

[[noreturn]] void unsupported(const fs::path& path) {
  throw FormatError(path.string() +
                    ": unsupported file type (expected .nii, .nii.gz, .png, .nrrd, .nhdr, .mha, "
                    ".mhd, or a DICOM folder or .dcm file)");
}
}  // namespace

bool isSupportedImageName(const fs::path& path) {
  return kindOf(path) != Kind::Unknown;
}

bool isWritableImageName(const fs::path& path) {
  const Kind kind = kindOf(path);
  return kind == Kind::Nifti || kind == Kind::Png || kind == Kind::Itk;
}

Image readImage(const fs::path& path, const ImageReadOptions& options) {
  switch (kindToRead(path)) {
    case Kind::Nifti:
      return readNifti(path);
    case Kind::Png:
      return readPng(path);
    case Kind::Itk:
      return readItkImage(path);
    case Kind::Dicom:
      return readDicom(path, options.dicom_series);
    case Kind::Unknown:
      break;
  }
  unsupported(path);
}

void writeImage(const fs::path& path, const Image& image) {
  switch (kindToRead(path)) {
    case Kind::Nifti:
      return writeNifti(path, image);
    case Kind::Png:
      return writePng(path, image);
    case Kind::Itk:
      return writeItkImage(path, image);
    case Kind::Dicom:
      throw UsageError(path.string() +
                       ": gatescope reads DICOM but does not write it (write "
                       ".nii.gz, .nrrd or .mha)");
    case Kind::Unknown:
      break;
  }
  unsupported(path);
}

}  // namespace gatescope
