// Built instead of itk_io.cpp when ITK is not used (-DGATESCOPE_ITK=OFF).
#include "analysis/core/error.hpp"
#include "analysis/io/itk_io.hpp"

namespace gatescope {
namespace fs = std::filesystem;

namespace {
[[noreturn]] void withoutItk(const fs::path& path) {
  throw FormatError(path.string() +
                    ": this gatescope was built without ITK, which reads NRRD, MetaImage and DICOM "
                    "(install libinsighttoolkit5-dev and rebuild with -DGATESCOPE_ITK=ON)");
}
}  // namespace

Image readItkImage(const fs::path& path) {
  withoutItk(path);
}
void writeItkImage(const fs::path& path, const Image&) {
  withoutItk(path);
}
std::vector<DicomSeriesInfo> listDicomSeries(const fs::path& folder) {
  withoutItk(folder);
}
Image readDicom(const fs::path& path, const std::string&) {
  withoutItk(path);
}

}  // namespace gatescope
