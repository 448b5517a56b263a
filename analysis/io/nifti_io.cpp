#include "analysis/io/nifti_io.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <nifti2_io.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>

#include "analysis/io/file_util.hpp"
#include "analysis/io/gzip.hpp"

namespace gatescope {
namespace fs = std::filesystem;

namespace {

constexpr size_t kNifti1HeaderBytes = 348;
constexpr size_t kNifti2HeaderBytes = 540;
constexpr int64_t kMaxAxisSize = int64_t{1} << 31;
constexpr int64_t kMaxVoxels = int64_t{1} << 50;

struct NimDeleter {
  void operator()(nifti_image* nim) const { nifti_image_free(nim); }
};
using NimPtr = std::unique_ptr<nifti_image, NimDeleter>;

void quietNiftiLibrary() {
  static std::once_flag once;
  std::call_once(once, [] { nifti_set_debug_level(0); });
}

std::optional<DataType> fromNiftiType(int code) {
  switch (code) {
    case NIFTI_TYPE_UINT8:
      return DataType::UInt8;
    case NIFTI_TYPE_INT8:
      return DataType::Int8;
    case NIFTI_TYPE_INT16:
      return DataType::Int16;
    case NIFTI_TYPE_UINT16:
      return DataType::UInt16;
    case NIFTI_TYPE_INT32:
      return DataType::Int32;
    case NIFTI_TYPE_FLOAT32:
      return DataType::Float32;
    case NIFTI_TYPE_FLOAT64:
      return DataType::Float64;
    default:
      return std::nullopt;
  }
}

int toNiftiType(DataType type) {
  switch (type) {
    case DataType::UInt8:
      return NIFTI_TYPE_UINT8;
    case DataType::Int8:
      return NIFTI_TYPE_INT8;
    case DataType::Int16:
      return NIFTI_TYPE_INT16;
    case DataType::UInt16:
      return NIFTI_TYPE_UINT16;
    case DataType::Int32:
      return NIFTI_TYPE_INT32;
    case DataType::Float32:
      return NIFTI_TYPE_FLOAT32;
    case DataType::Float64:
      return NIFTI_TYPE_FLOAT64;
  }
  return 0;
}

Affine toAffine(const nifti_dmat44& m) {
  Affine a{};
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) a[r][c] = m.m[r][c];
  return a;
}

// nibabel's affine for files with neither qform nor sform (Analyze convention: x flipped, the
// centre of the grid at the world origin).
Affine fallbackAffine(const nifti_image& nim) {
  const double shape[3] = {static_cast<double>(nim.nx), static_cast<double>(nim.ny),
                           static_cast<double>(nim.nz)};
  double zooms[3] = {nim.dx, nim.dy, nim.dz};
  for (double& z : zooms)
    if (!(z > 0.0) || !std::isfinite(z)) z = 1.0;
  zooms[0] = -zooms[0];
  Affine a{};
  for (int c = 0; c < 3; ++c) {
    a[c][c] = zooms[c];
    a[c][3] = -(shape[c] - 1.0) / 2.0 * zooms[c];
  }
  a[3][3] = 1.0;
  return a;
}

template <typename T>
T storedValue(std::span<const uint8_t> bytes, size_t offset, bool swap) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  if (swap) {
    auto* raw = reinterpret_cast<uint8_t*>(&value);
    std::reverse(raw, raw + sizeof value);
  }
  return value;
}

struct StoredLayout {
  double slope = 0.0;
  double intercept = 0.0;
  uint64_t vox_offset = 0;
  int bitpix = 0;
  int datatype = 0;
};

// dim[], vox_offset and the scaling exactly as stored. libnifti's conversion quietly turns sizes
// below 1 into 1, moves a too-small vox_offset and drops a non-finite intercept, which would read
// a different image than the file describes, so the stored values are checked first.
// libnifti also casts a NIfTI-1 vox_offset to int, so 3e9 becomes negative and then 352: the
// stored value is used instead.
StoredLayout checkRawLayout(std::span<const uint8_t> bytes, int version,
                            const std::string& source) {
  std::array<int64_t, 8> dim{};
  double vox_offset = 0.0;
  size_t minimum_offset = 0;
  StoredLayout scaling;
  if (version == 1) {
    // The NIfTI-1 rule for detecting the other byte order: dim[0] outside 1..7.
    const int16_t native_rank = storedValue<int16_t>(bytes, 40, false);
    const bool swap = native_rank < 1 || native_rank > 7;
    const bool header_swapped =
        storedValue<int32_t>(bytes, 0, false) != static_cast<int32_t>(kNifti1HeaderBytes);
    if (swap != header_swapped)
      throw FormatError(
          source +
          ": sizeof_hdr and dim[0] disagree about the byte order (corrupt NIfTI-1 header)");
    for (size_t d = 0; d < 8; ++d) dim[d] = storedValue<int16_t>(bytes, 40 + 2 * d, swap);
    vox_offset = storedValue<float>(bytes, 108, swap);
    scaling = {storedValue<float>(bytes, 112, swap), storedValue<float>(bytes, 116, swap)};
    scaling.bitpix = storedValue<int16_t>(bytes, 72, swap);
    scaling.datatype = storedValue<int16_t>(bytes, 70, swap);
    minimum_offset = kNifti1HeaderBytes + 4;
  } else {
    const int64_t native_rank = storedValue<int64_t>(bytes, 16, false);
    const bool swap = native_rank < 1 || native_rank > 7;
    // libnifti decides a NIfTI-2 header's byte order from sizeof_hdr: both must say the same, or
    // it reads every size byte-swapped (and ran off its stack on such a file).
    const bool header_swapped =
        storedValue<int32_t>(bytes, 0, false) != static_cast<int32_t>(kNifti2HeaderBytes);
    if (swap != header_swapped)
      throw FormatError(
          source +
          ": sizeof_hdr and dim[0] disagree about the byte order (corrupt NIfTI-2 header)");
    for (size_t d = 0; d < 8; ++d) dim[d] = storedValue<int64_t>(bytes, 16 + 8 * d, swap);
    vox_offset = static_cast<double>(storedValue<int64_t>(bytes, 168, swap));
    scaling = {storedValue<double>(bytes, 176, swap), storedValue<double>(bytes, 184, swap)};
    scaling.bitpix = storedValue<int16_t>(bytes, 14, swap);
    scaling.datatype = storedValue<int16_t>(bytes, 12, swap);
    minimum_offset = kNifti2HeaderBytes + 4;
  }
  if (dim[0] < 1 || dim[0] > 7)
    throw FormatError(fmt::format("{}: invalid number of dimensions dim[0] = {}", source, dim[0]));
  // Sizes and the datatype are checked before libnifti sees the header: it crashes on some absurd
  // NIfTI-2 sizes and prints its own complaints about unknown datatypes.
  int64_t voxels = 1;
  for (int64_t d = 1; d <= dim[0]; ++d) {
    if (dim[d] < 1)
      throw FormatError(
          fmt::format("{}: invalid size {} along dimension {} (dim[{}])", source, dim[d], d, d));
    if (dim[d] > kMaxAxisSize || __builtin_mul_overflow(voxels, dim[d], &voxels) ||
        voxels > kMaxVoxels)
      throw FormatError(fmt::format("{}: size {} along dimension {} (dim[{}]) is beyond any image",
                                    source, dim[d], d, d));
  }
  if (!(vox_offset >= static_cast<double>(minimum_offset)))
    throw FormatError(fmt::format("{}: vox_offset {} lies inside the {}-byte header", source,
                                  vox_offset, minimum_offset));
  if (!fromNiftiType(scaling.datatype))
    throw FormatError(
        fmt::format("{}: unsupported NIfTI datatype {} ({}); supported: uint8, int8, int16, "
                    "uint16, int32, float32, float64",
                    source, scaling.datatype, nifti_datatype_to_string(scaling.datatype)));
  // 2^53: beyond any file, and every such offset is exact in a double.
  if (!(vox_offset <= 9007199254740992.0))
    throw FormatError(fmt::format("{}: vox_offset {} lies beyond any file", source, vox_offset));
  scaling.vox_offset = static_cast<uint64_t>(vox_offset);
  return scaling;
}

// What the header says, validated, before any voxel is read.
struct ParsedHeader {
  ImageHeader header;
  Geometry geometry;
  DataType type = DataType::UInt8;
  int64_t channels = 1;
  uint64_t vox_offset = 0;
  uint64_t data_bytes = 0;
  bool swap_bytes = false;
};

ParsedHeader parseHeader(std::span<const uint8_t> bytes, const std::string& source) {
  quietNiftiLibrary();
  if (bytes.size() < kNifti1HeaderBytes)
    throw FormatError(fmt::format("{}: not a NIfTI file: {} bytes, a NIfTI-1 header alone needs {}",
                                  source, bytes.size(), kNifti1HeaderBytes));
  const int version =
      nifti_header_version(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  StoredLayout stored;
  if (version == 1 || version == 2) stored = checkRawLayout(bytes, version, source);
  NimPtr nim;
  ParsedHeader parsed;
  if (version == 1) {
    nifti_1_header h1;
    std::memcpy(&h1, bytes.data(), sizeof h1);
    if (std::memcmp(h1.magic, "ni1", 4) == 0)
      throw FormatError(source +
                        ": NIfTI-1 header/image pairs (.hdr/.img) are not supported; "
                        "convert to a single .nii or .nii.gz file");
    if (std::memcmp(h1.magic, "n+1", 4) != 0)
      throw FormatError(source + ": not a NIfTI file (bad magic in the NIfTI-1 header)");
    nim.reset(nifti_convert_n1hdr2nim(h1, source.c_str()));
    parsed.header.format = ImageFormat::Nifti1;
  } else if (version == 2) {
    if (bytes.size() < kNifti2HeaderBytes)
      throw FormatError(fmt::format("{}: truncated NIfTI-2 header: {} of {} bytes", source,
                                    bytes.size(), kNifti2HeaderBytes));
    nifti_2_header h2;
    std::memcpy(&h2, bytes.data(), sizeof h2);
    if (std::memcmp(h2.magic, "ni2", 4) == 0)
      throw FormatError(source +
                        ": NIfTI-2 header/image pairs (.hdr/.img) are not supported; "
                        "convert to a single .nii or .nii.gz file");
    if (std::memcmp(h2.magic, "n+2", 4) != 0)
      throw FormatError(source + ": not a NIfTI file (bad magic in the NIfTI-2 header)");
    nim.reset(nifti_convert_n2hdr2nim(h2, source.c_str()));
    parsed.header.format = ImageFormat::Nifti2;
  } else if (version == 0) {
    throw FormatError(source +
                      ": not a NIfTI file: bad magic (ANALYZE 7.5 headers are not "
                      "supported)");
  } else {
    throw FormatError(source + ": not a NIfTI file (no valid NIfTI-1 or NIfTI-2 header)");
  }
  if (!nim) throw FormatError(source + ": invalid NIfTI header");

  const auto type = fromNiftiType(nim->datatype);
  if (!type)
    throw FormatError(fmt::format(
        "{}: unsupported NIfTI datatype {} ({}); supported: uint8, int8, int16, uint16, int32, "
        "float32, float64",
        source, nim->datatype, nifti_datatype_to_string(nim->datatype)));
  parsed.type = *type;
  if (nim->nbyper != bytesPerValue(*type) || stored.bitpix != 8 * bytesPerValue(*type))
    throw FormatError(fmt::format("{}: header bitpix {} disagrees with datatype {} ({} bits)",
                                  source, stored.bitpix, dataTypeName(*type),
                                  8 * bytesPerValue(*type)));

  const int64_t ndim = nim->dim[0];  // dims were range-checked by checkRawLayout
  uint64_t voxels = 1;
  for (int d = 1; d <= ndim; ++d) {
    const int64_t n = nim->dim[d];
    if (d > 4 && n > 1)
      throw FormatError(fmt::format("{}: {}-dimensional images are not supported (dim[{}] = {})",
                                    source, ndim, d, n));
    if (__builtin_mul_overflow(voxels, static_cast<uint64_t>(n), &voxels))
      throw FormatError(source + ": dimensions overflow");
    if (d <= 4) parsed.header.file_dims.push_back(n);
  }
  if (__builtin_mul_overflow(voxels, static_cast<uint64_t>(nim->nbyper), &parsed.data_bytes))
    throw FormatError(source + ": dimensions overflow");

  parsed.vox_offset = stored.vox_offset;
  uint64_t end = 0;
  if (__builtin_add_overflow(parsed.vox_offset, parsed.data_bytes, &end) ||
      end > (uint64_t{1} << 62))
    throw FormatError(fmt::format("{}: vox_offset {} plus {} bytes of voxels lies beyond any file",
                                  source, parsed.vox_offset, parsed.data_bytes));
  parsed.swap_bytes = nim->byteorder != nifti_short_order();

  // As nibabel: a zero or non-finite slope means unscaled; a valid slope needs a finite intercept.
  const double slope = stored.slope, intercept = stored.intercept;
  if (slope != 0.0 && std::isfinite(slope)) {
    if (!std::isfinite(intercept))
      throw FormatError(
          fmt::format("{}: scl_slope {} is valid but scl_inter is {}", source, slope, intercept));
    parsed.header.scaling = {slope, intercept};
  }

  parsed.header.qform_code = nim->qform_code;
  parsed.header.sform_code = nim->sform_code;
  parsed.header.affine = nim->sform_code > 0   ? toAffine(nim->sto_xyz)
                         : nim->qform_code > 0 ? toAffine(nim->qto_xyz)
                                               : fallbackAffine(*nim);
  for (const auto& row : parsed.header.affine)
    for (double v : row)
      if (!std::isfinite(v)) throw FormatError(source + ": voxel-to-world matrix is not finite");
  parsed.geometry = Geometry::fromAffine(
      {nim->nx, ndim >= 2 ? nim->ny : 1, ndim >= 3 ? nim->nz : 1}, parsed.header.affine);
  parsed.channels = ndim >= 4 ? nim->nt : 1;
  parsed.header.time_step = ndim >= 4 ? nim->dt : 0.0;
  parsed.header.description = std::string(nim->descrip, strnlen(nim->descrip, sizeof nim->descrip));
  return parsed;
}

std::string describeSize(const ParsedHeader& p) {
  std::string dims;
  for (size_t d = 0; d < p.header.file_dims.size(); ++d)
    dims += (d ? "x" : "") + std::to_string(p.header.file_dims[d]);
  return fmt::format("{} {}", dims, dataTypeName(p.type));
}

void swapBytes(uint8_t* data, uint64_t count, int width) {
  if (width == 1) return;
  for (uint64_t n = 0; n < count; ++n) std::reverse(data + n * width, data + (n + 1) * width);
}

class InputFile {
 public:
  explicit InputFile(const fs::path& path) : path_(path) {
    const OpenedFile opened = openForReading(path);
    fd_ = opened.fd;
    size_ = opened.size;
  }
  ~InputFile() { ::close(fd_); }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  [[nodiscard]] uint64_t size() const { return size_; }
  // Reads up to out.size() bytes at `offset`; returns how many were read.
  size_t readAt(uint64_t offset, std::span<uint8_t> out) const {
    size_t done = 0;
    while (done < out.size()) {
      const ssize_t n =
          ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw IoError(path_.string() + ": read failed: " + std::strerror(errno));
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }

 private:
  fs::path path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

template <typename T>
AnyVolume readVoxels(const ParsedHeader& p, const InputFile& file,
                     const std::vector<uint8_t>& compressed, const std::string& source) {
  const uint64_t needed = p.vox_offset + p.data_bytes;
  std::vector<T> values;
  if (compressed.empty()) {  // size already checked against the header by loadHeader
    values.resize(p.data_bytes / sizeof(T));
    const size_t got = file.readAt(
        p.vox_offset, std::span<uint8_t>(reinterpret_cast<uint8_t*>(values.data()), p.data_bytes));
    if (got != p.data_bytes)
      throw IoError(fmt::format("{}: short read: {} of {} bytes", source, got, p.data_bytes));
  } else {
    if (needed > gzipExpansionBound(compressed.size()))
      throw FormatError(fmt::format(
          "{}: header declares {} voxels ({} bytes) but a {}-byte gzip file cannot hold that "
          "much: truncated file or corrupt header",
          source, describeSize(p), p.data_bytes, compressed.size()));
    // Decompress header and voxels into the volume's own buffer, then drop the header bytes:
    // no second copy of the volume.
    values.resize((needed + sizeof(T) - 1) / sizeof(T));
    auto* bytes = reinterpret_cast<uint8_t*>(values.data());
    const size_t got = gunzipVerified(compressed, std::span<uint8_t>(bytes, needed), source);
    if (got != needed)
      throw FormatError(
          fmt::format("{}: truncated: header declares {} voxels ({} bytes from offset {}) but the "
                      "decompressed file holds {} bytes",
                      source, describeSize(p), p.data_bytes, p.vox_offset, got));
    std::memmove(bytes, bytes + p.vox_offset, p.data_bytes);
    values.resize(p.data_bytes / sizeof(T));
  }
  if (p.swap_bytes) swapBytes(reinterpret_cast<uint8_t*>(values.data()), values.size(), sizeof(T));
  return Volume<T>(p.geometry, p.channels, std::move(values));
}

struct LoadedHeader {
  ParsedHeader parsed;
  std::vector<uint8_t> compressed;  // the whole .gz file, empty for uncompressed files
};

LoadedHeader loadHeader(const InputFile& file, const fs::path& path, bool keep_compressed) {
  const std::string source = path.string();
  std::array<uint8_t, kNifti2HeaderBytes> head{};
  const size_t head_bytes = file.readAt(0, head);
  LoadedHeader loaded;
  if (isGzip(std::span<const uint8_t>(head.data(), head_bytes))) {
    if (keep_compressed) {
      loaded.compressed = readWholeFile(path);
    } else {  // the header sits in the first few hundred compressed bytes
      loaded.compressed.resize(std::min<uint64_t>(file.size(), 1u << 16));
      loaded.compressed.resize(file.readAt(0, loaded.compressed));
    }
    std::array<uint8_t, kNifti2HeaderBytes> unpacked{};
    const size_t n = gunzipPrefix(loaded.compressed, unpacked, source);
    loaded.parsed = parseHeader(std::span<const uint8_t>(unpacked.data(), n), source);
    loaded.parsed.header.compressed = true;
    if (!keep_compressed) loaded.compressed.clear();
  } else {
    loaded.parsed = parseHeader(std::span<const uint8_t>(head.data(), head_bytes), source);
    if (file.size() < loaded.parsed.vox_offset + loaded.parsed.data_bytes)
      throw FormatError(fmt::format(
          "{}: truncated: header declares {} voxels ({} bytes from offset {}) but the file holds "
          "{} bytes",
          source, describeSize(loaded.parsed), loaded.parsed.data_bytes, loaded.parsed.vox_offset,
          file.size()));
  }
  return loaded;
}

}  // namespace

ImageHeader readNiftiHeader(const fs::path& path) {
  const InputFile file(path);
  return loadHeader(file, path, false).parsed.header;
}

Image readNifti(const fs::path& path) {
  const std::string source = path.string();
  const InputFile file(path);
  const LoadedHeader loaded = loadHeader(file, path, true);
  const ParsedHeader& p = loaded.parsed;
  Image image{Volume<uint8_t>(), p.header};
  switch (p.type) {
    case DataType::UInt8:
      image.voxels = readVoxels<uint8_t>(p, file, loaded.compressed, source);
      break;
    case DataType::Int8:
      image.voxels = readVoxels<int8_t>(p, file, loaded.compressed, source);
      break;
    case DataType::Int16:
      image.voxels = readVoxels<int16_t>(p, file, loaded.compressed, source);
      break;
    case DataType::UInt16:
      image.voxels = readVoxels<uint16_t>(p, file, loaded.compressed, source);
      break;
    case DataType::Int32:
      image.voxels = readVoxels<int32_t>(p, file, loaded.compressed, source);
      break;
    case DataType::Float32:
      image.voxels = readVoxels<float>(p, file, loaded.compressed, source);
      break;
    case DataType::Float64:
      image.voxels = readVoxels<double>(p, file, loaded.compressed, source);
      break;
  }
  return image;
}

void writeNifti(const fs::path& path, const Image& image) {
  quietNiftiLibrary();
  const std::string target = path.string();
  const Geometry& g = image.geometry();
  const int64_t channels = image.channels();

  // Keep the file's own dimensionality (a 3D file with one slice stays 3D) when it still fits.
  int64_t ndim = channels > 1 ? 4 : g.dims[2] > 1 ? 3 : g.dims[1] > 1 ? 2 : 1;
  const auto& file_dims = image.header.file_dims;
  if (!file_dims.empty() && static_cast<int64_t>(file_dims.size()) >= ndim) {
    const Index3 expected = {file_dims[0], file_dims.size() > 1 ? file_dims[1] : 1,
                             file_dims.size() > 2 ? file_dims[2] : 1};
    const int64_t file_channels = file_dims.size() > 3 ? file_dims[3] : 1;
    if (expected == g.dims && file_channels == channels)
      ndim = static_cast<int64_t>(file_dims.size());
  }
  const int64_t dims[8] = {ndim, g.dims[0], g.dims[1], g.dims[2], channels, 1, 1, 1};
  const bool nifti2 =
      image.header.format == ImageFormat::Nifti2 || *std::max_element(dims + 1, dims + 5) > 32767;

  NimPtr nim(nifti_make_new_nim(dims, toNiftiType(image.dataType()), 0));
  if (!nim) throw Error(target + ": cannot build a NIfTI header");
  const double pixdim[5] = {1.0, g.spacing_mm[0], g.spacing_mm[1], g.spacing_mm[2],
                            image.header.time_step > 0.0 ? image.header.time_step : 1.0};
  for (int d = 1; d <= 4; ++d) nim->pixdim[d] = pixdim[d];
  nim->dx = pixdim[1];
  nim->dy = pixdim[2];
  nim->dz = pixdim[3];
  nim->dt = pixdim[4];

  const Affine a = g.affine();
  nifti_dmat44 m{};
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) m.m[r][c] = a[r][c];
  nim->sto_xyz = m;
  nim->sform_code =
      image.header.sform_code > 0 ? image.header.sform_code : NIFTI_XFORM_ALIGNED_ANAT;
  double dx = 0, dy = 0, dz = 0;
  nifti_dmat44_to_quatern(m, &nim->quatern_b, &nim->quatern_c, &nim->quatern_d, &nim->qoffset_x,
                          &nim->qoffset_y, &nim->qoffset_z, &dx, &dy, &dz, &nim->qfac);
  nim->qto_xyz = m;
  nim->qform_code = image.header.qform_code > 0 ? image.header.qform_code : nim->sform_code;
  nim->xyz_units = NIFTI_UNITS_MM;
  nim->time_units = NIFTI_UNITS_UNKNOWN;
  if (!image.header.scaling.isIdentity()) {
    nim->scl_slope = image.header.scaling.slope;
    nim->scl_inter = image.header.scaling.intercept;
  }
  std::strncpy(nim->descrip, image.header.description.c_str(), sizeof nim->descrip - 1);
  nim->nifti_type = nifti2 ? NIFTI_FTYPE_NIFTI2_1 : NIFTI_FTYPE_NIFTI1_1;
  nim->iname_offset = nifti2 ? kNifti2HeaderBytes + 4 : kNifti1HeaderBytes + 4;

  // Header, then the 4-byte extension flag (no extensions), then the voxels.
  std::vector<uint8_t> head(nim->iname_offset, 0);
  if (nifti2) {
    nifti_2_header h2{};
    if (nifti_convert_nim2n2hdr(nim.get(), &h2) != 0)
      throw Error(target + ": cannot build a NIfTI-2 header");
    std::memcpy(head.data(), &h2, sizeof h2);
  } else {
    nifti_1_header h1{};
    if (nifti_convert_nim2n1hdr(nim.get(), &h1) != 0)
      throw Error(target + ": cannot build a NIfTI-1 header");
    std::memcpy(head.data(), &h1, sizeof h1);
  }
  const auto voxels = std::visit(
      [](const auto& v) {
        return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(v.data()),
                                        static_cast<size_t>(v.size()) * sizeof(*v.data()));
      },
      image.voxels);
  const bool compress = hasExtension(path, ".gz");
  writeFileAtomically(path, [&](const ByteSink& sink) {
    if (compress) {
      gzipTo(sink, {head, voxels});
    } else {
      sink(head);
      sink(voxels);
    }
  });
}

}  // namespace gatescope
