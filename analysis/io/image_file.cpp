#include "analysis/io/image_file.hpp"

#include "analysis/io/file_util.hpp"
#include "analysis/io/nifti_io.hpp"
#include "analysis/io/png_io.hpp"

namespace gatescope {
namespace fs = std::filesystem;

namespace {
enum class Kind { Nifti, Png, Unknown };

Kind kindOf(const fs::path& path) {
  if (hasExtension(path, ".nii") || hasExtension(path, ".nii.gz")) return Kind::Nifti;
  if (hasExtension(path, ".png")) return Kind::Png;
  return Kind::Unknown;
}

[[noreturn]] void unsupported(const fs::path& path) {
  throw FormatError(path.string() + ": unsupported file type (expected .nii, .nii.gz or .png)");
}
}  // namespace

bool isSupportedImageName(const fs::path& path) {
  return kindOf(path) != Kind::Unknown;
}

Image readImage(const fs::path& path) {
  switch (kindOf(path)) {
    case Kind::Nifti:
      return readNifti(path);
    case Kind::Png:
      return readPng(path);
    case Kind::Unknown:
      break;
  }
  unsupported(path);
}

void writeImage(const fs::path& path, const Image& image) {
  switch (kindOf(path)) {
    case Kind::Nifti:
      return writeNifti(path, image);
    case Kind::Png:
      return writePng(path, image);
    case Kind::Unknown:
      break;
  }
  unsupported(path);
}

}  // namespace gatescope
