// Bad files give one clear error naming the file - never a crash, never a huge allocation.
#include <nifti1.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>

#include "analysis/io/file_util.hpp"
#include "analysis/io/gzip.hpp"
#include "analysis/io/image_file.hpp"
#include "tests/support/test_support.hpp"

using namespace gatescope;
namespace fs = std::filesystem;

namespace {

std::vector<uint8_t> validNiftiBytes() {
  Geometry g;
  g.dims = {8, 6, 4};
  Volume<int16_t> v(g);
  for (int64_t n = 0; n < v.size(); ++n) v.values()[n] = static_cast<int16_t>(n);
  const fs::path path = test::scratchDir("nifti_corrupt_source") / "valid.nii";
  writeImage(path, makeImage(v));
  return readWholeFile(path);
}

void save(const fs::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

std::vector<uint8_t> gzipped(const std::vector<uint8_t>& bytes) {
  std::vector<uint8_t> out;
  gzipTo([&](std::span<const uint8_t> chunk) { out.insert(out.end(), chunk.begin(), chunk.end()); },
         {bytes});
  return out;
}

template <typename Edit>
std::vector<uint8_t> withHeader(Edit edit) {
  std::vector<uint8_t> bytes = validNiftiBytes();
  nifti_1_header h;
  std::memcpy(&h, bytes.data(), sizeof h);
  edit(h);
  std::memcpy(bytes.data(), &h, sizeof h);
  return bytes;
}

// Reading must fail with a FormatError or IoError whose single line names the file and says `what`.
void requireClearError(const fs::path& path, const std::string& what) {
  INFO(path.string());
  try {
    (void)readImage(path);
    FAIL("no error for " << path);
  } catch (const Error& e) {
    const std::string message = e.what();
    INFO(message);
    CHECK(message.find(path.string()) != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
    CHECK(message.find(what) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("missing, empty, short and non-NIfTI files", "[io]") {
  const fs::path dir = test::scratchDir("nifti_corrupt_basic");
  requireClearError(dir / "missing.nii.gz", "cannot open");
  save(dir / "empty.nii", {});
  requireClearError(dir / "empty.nii", "not a NIfTI file");
  save(dir / "short.nii", std::vector<uint8_t>(100, 7));
  requireClearError(dir / "short.nii", "not a NIfTI file");
  save(dir / "garbage.nii", std::vector<uint8_t>(4096, 0x5a));
  requireClearError(dir / "garbage.nii", "not a NIfTI file");
  save(dir / "garbage.nii.gz", gzipped(std::vector<uint8_t>(4096, 0x5a)));
  requireClearError(dir / "garbage.nii.gz", "not a NIfTI file");
  fs::create_directories(dir / "folder.nii");
  requireClearError(dir / "folder.nii", "folder");
  requireClearError(dir / "notes.txt", "unsupported file type");
  auto bad_magic = withHeader([](nifti_1_header& h) { std::memcpy(h.magic, "xyz", 4); });
  save(dir / "bad_magic.nii", bad_magic);
  requireClearError(dir / "bad_magic.nii", "bad magic");
  auto pair = withHeader([](nifti_1_header& h) { std::memcpy(h.magic, "ni1", 4); });
  save(dir / "pair.nii", pair);
  requireClearError(dir / "pair.nii", "pairs");
}

TEST_CASE("truncated files are reported with what the header declares", "[io]") {
  const fs::path dir = test::scratchDir("nifti_corrupt_truncated");
  auto bytes = validNiftiBytes();
  save(dir / "cut.nii", std::vector<uint8_t>(bytes.begin(), bytes.end() - 10));
  requireClearError(dir / "cut.nii", "truncated");
  const auto packed = gzipped(bytes);
  save(dir / "cut.nii.gz",
       std::vector<uint8_t>(packed.begin(), packed.begin() + packed.size() / 2));
  requireClearError(dir / "cut.nii.gz", "truncated");
  save(dir / "header_only.nii.gz",
       gzipped(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 352)));
  requireClearError(dir / "header_only.nii.gz", "truncated");
  auto corrupt = packed;
  for (size_t n = 40; n < 60 && n < corrupt.size(); ++n) corrupt[n] ^= 0xff;
  save(dir / "corrupt.nii.gz", corrupt);
  requireClearError(dir / "corrupt.nii.gz", "");
}

TEST_CASE("headers that promise more data than the file holds fail before allocating", "[io]") {
  const fs::path dir = test::scratchDir("nifti_corrupt_huge");
  // 30000^3 int16 voxels = 54 TB: allocating first would abort (and does under ASan).
  auto huge = withHeader([](nifti_1_header& h) { h.dim[1] = h.dim[2] = h.dim[3] = 30000; });
  save(dir / "huge.nii", huge);
  requireClearError(dir / "huge.nii", "truncated");
  save(dir / "huge.nii.gz", gzipped(huge));
  requireClearError(dir / "huge.nii.gz", "cannot hold that much");
}

TEST_CASE("unsupported datatypes and dimensions", "[io]") {
  const fs::path dir = test::scratchDir("nifti_corrupt_types");
  save(dir / "complex.nii", withHeader([](nifti_1_header& h) {
         h.datatype = NIFTI_TYPE_COMPLEX64;
         h.bitpix = 64;
       }));
  requireClearError(dir / "complex.nii", "unsupported NIfTI datatype 32");
  save(dir / "rgb.nii", withHeader([](nifti_1_header& h) {
         h.datatype = NIFTI_TYPE_RGB24;
         h.bitpix = 24;
       }));
  requireClearError(dir / "rgb.nii", "unsupported NIfTI datatype 128");
  save(dir / "negative.nii", withHeader([](nifti_1_header& h) { h.dim[2] = -5; }));
  requireClearError(dir / "negative.nii", "");
  save(dir / "zero.nii", withHeader([](nifti_1_header& h) { h.dim[3] = 0; }));
  requireClearError(dir / "zero.nii", "");
  save(dir / "five_d.nii", withHeader([](nifti_1_header& h) {
         h.dim[0] = 5;
         h.dim[4] = 1;
         h.dim[5] = 2;
       }));
  requireClearError(dir / "five_d.nii", "not supported");
  save(dir / "offset.nii", withHeader([](nifti_1_header& h) { h.vox_offset = 100; }));
  requireClearError(dir / "offset.nii", "vox_offset");
  save(dir / "intercept.nii", withHeader([](nifti_1_header& h) {
         h.scl_slope = 2.0f;
         h.scl_inter = std::numeric_limits<float>::infinity();
       }));
  requireClearError(dir / "intercept.nii", "scl_inter");
}

TEST_CASE("corrupt PNG files", "[io]") {
  const fs::path dir = test::scratchDir("png_corrupt");
  save(dir / "garbage.png", std::vector<uint8_t>(300, 0x42));
  requireClearError(dir / "garbage.png", "not a PNG");
  const auto png = readWholeFile(test::fixtureDir("png") / "gray8.png");
  save(dir / "cut.png", std::vector<uint8_t>(png.begin(), png.begin() + png.size() / 2));
  requireClearError(dir / "cut.png", "cannot read PNG");
}
