#include "analysis/io/itk_io.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gdcmTrace.h>
#include <itkCommonEnums.h>
#include <itkGDCMImageIO.h>
#include <itkGDCMSeriesFileNames.h>
#include <itkImageIOBase.h>
#include <itkMetaImageIO.h>
#include <itkNrrdImageIO.h>
#include <itkObject.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <regex>
#include <span>

#include "analysis/core/error.hpp"
#include "analysis/io/file_util.hpp"
#include "analysis/io/gzip.hpp"
#include "analysis/io/staged_folder.hpp"

namespace gatescope {
namespace fs = std::filesystem;

namespace {

using Component = itk::IOComponentEnum;

// ITK's and GDCM's own warnings go to stderr unasked; gatescope reports problems itself.
void quietItk() {
  static const bool once = [] {
    itk::Object::GlobalWarningDisplayOff();
    gdcm::Trace::WarningOff();
    gdcm::Trace::DebugOff();
    return true;
  }();
  (void)once;
}

// "ITK ERROR: NrrdImageIO(0x55d0): Read: error ...\n  more" -> "Read: error ... more"
std::string oneLine(const std::string& text) {
  static const std::regex prefix(R"((ITK ERROR|itk::ERROR): \w+\(0x[0-9a-fA-F]+\): )");
  std::string s = std::regex_replace(text, prefix, "");
  std::string out;
  for (char c : s) {
    const bool space = c == '\n' || c == '\r' || c == '\t' || c == ' ';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

[[noreturn]] void rethrow(const fs::path& path, const itk::ExceptionObject& e, const char* what) {
  throw FormatError(
      fmt::format("{}: cannot {}: {}", path.string(), what, oneLine(e.GetDescription())));
}

bool isNrrdName(const fs::path& path) {
  return hasExtension(path, ".nrrd") || hasExtension(path, ".nhdr");
}

itk::ImageIOBase::Pointer ioFor(const fs::path& path) {
  if (isNrrdName(path)) return itk::NrrdImageIO::New().GetPointer();
  return itk::MetaImageIO::New().GetPointer();
}

// ITK's world is LPS, gatescope's RAS: the first two world axes change sign.
constexpr std::array<double, 3> kLpsToRas = {-1.0, -1.0, 1.0};

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

// What the text header of a NRRD or MetaImage file says about where its voxels are, read here so
// that a missing or truncated data file is a clear error before ITK reads anything (MetaImage's
// reader only prints a warning for truncated data).
struct HeaderFacts {
  std::optional<fs::path> data_file;  // detached data, relative to the header's folder
  bool unchecked = false;  // several data files (LIST, a pattern) or text encodings: sizes unknown
  bool compressed = false;
  bool gzip = false;              // NRRD gzip encoding
  bool skips = false;             // NRRD "byte skip" or "line skip": ITK finds the data
  bool big_endian = false;        // MetaImage BinaryDataByteOrderMSB, NRRD "endian: big"
  uint64_t compressed_bytes = 0;  // MetaImage CompressedDataSize (0: not given)
  uint64_t header_bytes = 0;      // attached data: where the voxels start
};

HeaderFacts scanHeader(const fs::path& header) {
  HeaderFacts facts;
  std::ifstream in(header, std::ios::binary);
  const bool nrrd = isNrrdName(header);
  std::string line;
  uint64_t read = 0;
  while (read < (1u << 20) && std::getline(in, line)) {
    read += line.size() + (in.eof() ? 0 : 1);
    line = trim(line);
    std::string key, value;
    if (nrrd) {
      if (line.empty()) break;  // the blank line that ends a NRRD header
      const auto colon = line.find(':');
      if (colon == std::string::npos || line.starts_with("#")) continue;
      key = trim(line.substr(0, colon));
      value = trim(line.substr(colon + 1));
      if (value.starts_with("=")) continue;  // a key/value pair ("key:=value"), not a field
      if (key == "encoding") {
        facts.compressed = value != "raw";
        facts.gzip = value == "gzip" || value == "gz";
      }
      if (key == "endian") facts.big_endian = value == "big";
      if ((key == "byte skip" || key == "byteskip" || key == "line skip" || key == "lineskip") &&
          value != "0")
        facts.skips = true;
      if (key == "encoding" &&
          (value == "ascii" || value == "text" || value == "txt" || value == "hex"))
        facts.unchecked = true;
      if (key != "data file" && key != "datafile") continue;
    } else {
      const auto eq = line.find('=');
      if (eq == std::string::npos) continue;
      key = trim(line.substr(0, eq));
      value = trim(line.substr(eq + 1));
      if (key == "CompressedData") facts.compressed = value == "True" || value == "true";
      if (key == "BinaryDataByteOrderMSB" || key == "ElementByteOrderMSB")
        facts.big_endian = value == "True" || value == "true";
      if (key == "CompressedDataSize")
        facts.compressed_bytes = std::strtoull(value.c_str(), nullptr, 10);
      if (key != "ElementDataFile") continue;
    }
    if (value == "LOCAL" || value == "Local" || value == "local") break;
    if (value.starts_with("LIST") || value.find_first_of("% ") != std::string::npos)
      facts.unchecked = true;
    else
      facts.data_file = header.parent_path() / value;
    if (!nrrd) break;  // ElementDataFile ends a MetaImage header; a NRRD one ends at a blank line
  }
  facts.header_bytes = read;
  return facts;
}

// Dims, channels and geometry of what an ImageIO announces, checked before anything is allocated.
struct Layout {
  unsigned ndim = 0;
  int64_t components = 1;
  Geometry geometry;
  int64_t channels = 1;
  std::vector<int64_t> file_dims;
  [[nodiscard]] int64_t values() const { return geometry.voxelCount() * channels; }
};

Layout layoutOf(itk::ImageIOBase& io, const fs::path& path) {
  const std::string source = path.string();
  Layout l;
  l.ndim = io.GetNumberOfDimensions();
  if (l.ndim < 1 || l.ndim > 4)
    throw FormatError(fmt::format("{}: {} dimensions (gatescope reads 1 to 4)", source, l.ndim));
  l.components = static_cast<int64_t>(io.GetNumberOfComponents());
  if (l.components < 1 || (l.components > 1 && l.ndim == 4))
    throw FormatError(fmt::format("{}: a 4D image with {} components per voxel is not supported",
                                  source, l.components));
  std::array<int64_t, 4> size{1, 1, 1, 1};
  double total = 1.0;
  for (unsigned d = 0; d < l.ndim; ++d) {
    size[d] = static_cast<int64_t>(io.GetDimensions(d));
    if (size[d] < 1 || size[d] > (int64_t{1} << 31))
      throw FormatError(
          fmt::format("{}: size {} along axis {} is out of range", source, size[d], d));
    l.file_dims.push_back(size[d]);
    total *= static_cast<double>(size[d]);
  }
  if (total * static_cast<double>(l.components) > std::ldexp(1.0, 50))
    throw FormatError(source + ": the header declares more than 2^50 values");
  l.channels = l.ndim == 4 ? size[3] : l.components;
  if (l.ndim < 4 && l.components > 1) {
    l.file_dims.resize(3, 1);
    l.file_dims.push_back(l.components);
  }

  Geometry& g = l.geometry;
  g.dims = {size[0], size[1], size[2]};
  const unsigned spatial = std::min(l.ndim, 3u);
  for (unsigned c = 0; c < spatial; ++c) {
    g.spacing_mm[c] = io.GetSpacing(c);
    g.origin[c] = io.GetOrigin(c) * kLpsToRas[c];
    const std::vector<double> column = io.GetDirection(c);
    for (unsigned r = 0; r < 3; ++r)
      g.direction[r][c] = r < spatial && r < column.size() ? column[r] * kLpsToRas[r] : 0.0;
    if (!(g.spacing_mm[c] > 0.0) || !std::isfinite(g.spacing_mm[c]) || !std::isfinite(g.origin[c]))
      throw FormatError(fmt::format("{}: spacing {} and origin {} along axis {} are not valid",
                                    source, g.spacing_mm[c], g.origin[c], c));
  }
  for (unsigned c = spatial; c < 3; ++c) g.direction[2][c] = 1.0;  // 2D: the third axis is z
  const auto& m = g.direction;
  const double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
                     m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                     m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  if (!std::isfinite(det) || std::abs(det) < 1e-6)
    throw FormatError(source + ": the direction matrix is singular or not finite");
  return l;
}

// Stored types gatescope keeps; the others are read as they are and converted (readVoxels).
template <typename F>
decltype(auto) withComponent(Component type, const std::string& source, F&& f) {
  switch (type) {
    case Component::UCHAR:
      return f(uint8_t{});
    case Component::CHAR:
      return f(int8_t{});
    case Component::SHORT:
      return f(int16_t{});
    case Component::USHORT:
      return f(uint16_t{});
    case Component::INT:
      return f(int32_t{});
    case Component::UINT:
      return f(uint32_t{});
    case Component::LONG:
    case Component::LONGLONG:
      return f(int64_t{});
    case Component::ULONG:
    case Component::ULONGLONG:
      return f(uint64_t{});
    case Component::FLOAT:
      return f(float{});
    case Component::DOUBLE:
      return f(double{});
    default:
      break;
  }
  throw FormatError(fmt::format("{}: unsupported voxel type {}", source,
                                itk::ImageIOBase::GetComponentTypeAsString(type)));
}

template <typename T>
constexpr bool kKept =
    std::is_same_v<T, uint8_t> || std::is_same_v<T, int8_t> || std::is_same_v<T, int16_t> ||
    std::is_same_v<T, uint16_t> || std::is_same_v<T, int32_t> || std::is_same_v<T, float> ||
    std::is_same_v<T, double>;

// Interleaved components (c fastest) -> one plane per channel, gatescope's layout.
template <typename T>
std::vector<T> planar(std::vector<T> values, int64_t components) {
  if (components == 1) return values;
  std::vector<T> out(values.size());
  const int64_t voxels = static_cast<int64_t>(values.size()) / components;
  for (int64_t v = 0; v < voxels; ++v)
    for (int64_t c = 0; c < components; ++c) out[c * voxels + v] = values[v * components + c];
  return out;
}

// uint32 and 64-bit integers: int32 when every value fits, else float64 when every value is exact
// there (below 2^53), else an error.
template <typename T>
AnyVolume narrowed(std::vector<T> values, const Layout& l, const std::string& source) {
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  const bool fits = values.empty() || (static_cast<double>(*lo) >= -2147483648.0 &&
                                       static_cast<double>(*hi) <= 2147483647.0);
  if (fits) {
    std::vector<int32_t> out(values.begin(), values.end());
    return Volume<int32_t>(l.geometry, l.channels, std::move(out));
  }
  const double exact = std::ldexp(1.0, 53);
  if (std::abs(static_cast<double>(*lo)) > exact || std::abs(static_cast<double>(*hi)) > exact)
    throw FormatError(fmt::format("{}: integer values up to {} cannot be held exactly", source,
                                  static_cast<double>(*hi)));
  std::vector<double> out(values.begin(), values.end());
  return Volume<double>(l.geometry, l.channels, std::move(out));
}

// Reads or writes every voxel the ImageIO's dimensions give (ITK asks for the region explicitly).
void selectWholeImage(itk::ImageIOBase& io) {
  itk::ImageIORegion region(io.GetNumberOfDimensions());
  for (unsigned d = 0; d < io.GetNumberOfDimensions(); ++d) {
    region.SetIndex(d, 0);
    region.SetSize(d, io.GetDimensions(d));
  }
  io.SetIORegion(region);
}

// Fills a buffer of the announced bytes; null: ITK's reader.
using VoxelReader = std::function<void(std::span<uint8_t>)>;

AnyVolume readVoxels(itk::ImageIOBase& io, const Layout& l, const fs::path& path,
                     const VoxelReader& reader) {
  const std::string source = path.string();
  return withComponent(io.GetComponentType(), source, [&](auto zero) -> AnyVolume {
    using T = decltype(zero);
    std::vector<T> values(static_cast<size_t>(l.values()));
    selectWholeImage(io);
    if (reader) {
      reader(
          std::span<uint8_t>(reinterpret_cast<uint8_t*>(values.data()), values.size() * sizeof(T)));
    } else {
      try {
        io.Read(values.data());
      } catch (const itk::ExceptionObject& e) {
        rethrow(path, e, "read the voxels");
      }
    }
    values = planar(std::move(values), l.components);
    if constexpr (kKept<T>)
      return Volume<T>(l.geometry, l.channels, std::move(values));
    else
      return narrowed(std::move(values), l, source);
  });
}

// Big-endian values to this (little-endian) machine's order.
void swapBytes(std::span<uint8_t> values, size_t width, bool big_endian) {
  if (!big_endian || width < 2) return;
  for (size_t v = 0; v + width <= values.size(); v += width)
    std::reverse(values.begin() + v, values.begin() + v + width);
}

Image readWithIo(itk::ImageIOBase& io, const fs::path& path, ImageFormat format) {
  quietItk();
  const bool text_header = format == ImageFormat::Nrrd || format == ImageFormat::MetaImage;
  const HeaderFacts facts = text_header ? scanHeader(path) : HeaderFacts{};
  fs::path data_path = path;
  uint64_t held = fs::file_size(path);
  if (facts.data_file) {
    std::error_code ec;
    if (!fs::is_regular_file(*facts.data_file, ec))
      throw FormatError(fmt::format("{}: its data file {} does not exist", path.string(),
                                    facts.data_file->string()));
    data_path = *facts.data_file;
    held = fs::file_size(data_path);
  } else if (text_header) {
    held = held > facts.header_bytes ? held - facts.header_bytes : 0;
  }
  io.SetFileName(path.string());
  try {
    io.ReadImageInformation();
  } catch (const itk::ExceptionObject& e) {
    rethrow(path, e, "read the header");
  }
  const Layout l = layoutOf(io, path);

  // A corrupt header must not trigger a huge allocation, nor truncated data go unnoticed: the
  // voxels it announces have to be in the files (deflate expands at most about 1032:1).
  const double declared = static_cast<double>(l.values()) * io.GetComponentSize();
  if (text_header && !facts.unchecked) {
    const double stored = facts.compressed ? static_cast<double>(facts.compressed_bytes) : declared;
    if (static_cast<double>(held) < stored)
      throw FormatError(
          fmt::format("{}: holds {} bytes of voxels where the header declares {:.0f} "
                      "(truncated?)",
                      data_path.string(), held, stored));
    if (declared > 1100.0 * static_cast<double>(held) + 65536.0)
      throw FormatError(
          fmt::format("{}: the header declares {:.0f} bytes of voxels but the files "
                      "hold {}",
                      path.string(), declared, held));
  }
  // MetaImage's reader only prints a warning for damaged compressed data, and NRRD's leaks what
  // it allocated when gzip data ends early: gatescope decompresses both itself (libdeflate,
  // checksums verified), for scalar voxels whose data starts right after the header.
  const bool own_gzip = format == ImageFormat::Nrrd && facts.gzip && !facts.unchecked &&
                        !facts.skips && l.components == 1;
  VoxelReader reader;
  if (own_gzip) {
    reader = [&](std::span<uint8_t> out) {
      const std::vector<uint8_t> bytes = readWholeFile(data_path);
      const size_t start = facts.data_file ? 0 : static_cast<size_t>(facts.header_bytes);
      const size_t produced =
          gunzipVerified(std::span<const uint8_t>(bytes).subspan(std::min(start, bytes.size())),
                         out, data_path.string());
      if (produced < out.size())
        throw FormatError(
            fmt::format("{}: holds {} bytes of voxels where the header declares {} "
                        "(truncated?)",
                        data_path.string(), produced, out.size()));
      swapBytes(out, io.GetComponentSize(), facts.big_endian);
    };
  } else if (format == ImageFormat::MetaImage && facts.compressed && !facts.unchecked) {
    reader = [&](std::span<uint8_t> out) {
      const std::vector<uint8_t> bytes = readWholeFile(data_path);
      const size_t start = facts.data_file ? 0 : static_cast<size_t>(facts.header_bytes);
      const size_t size = facts.compressed_bytes ? static_cast<size_t>(facts.compressed_bytes)
                                                 : bytes.size() - start;
      zlibExact(std::span<const uint8_t>(bytes).subspan(start, size), out, data_path.string());
      swapBytes(out, io.GetComponentSize(), facts.big_endian);
    };
  }

  Image image{readVoxels(io, l, path, reader), {}};
  image.header.format = format;
  image.header.file_dims = l.file_dims;
  image.header.affine = l.geometry.affine();
  // Scanner coordinates, as ITK writes NIfTI.
  image.header.qform_code = image.header.sform_code = 1;
  if (l.ndim == 4) image.header.time_step = io.GetSpacing(3);
  return image;
}

// The image as it is written: stored values, or real values where the header scales them (kept in
// the stored type when every real value is an integer that fits it, else float32; float64 stays).
AnyVolume writtenVoxels(const Image& image) {
  if (image.header.scaling.isIdentity()) return image.voxels;
  const Scaling s = image.header.scaling;
  return std::visit(
      [&](const auto& v) -> AnyVolume {
        using T = typename std::decay_t<decltype(v)>::value_type;
        std::vector<double> real(v.values().begin(), v.values().end());
        bool integral = std::is_integral_v<T>;
        for (double& x : real) {
          x = s.slope * x + s.intercept;
          if constexpr (std::is_integral_v<T>)
            integral = integral && x == std::nearbyint(x) &&
                       x >= static_cast<double>(std::numeric_limits<T>::lowest()) &&
                       x <= static_cast<double>(std::numeric_limits<T>::max());
        }
        if (integral)
          return Volume<T>(v.geometry(), v.channels(), std::vector<T>(real.begin(), real.end()));
        if constexpr (std::is_same_v<T, double>)
          return Volume<double>(v.geometry(), v.channels(), std::move(real));
        return Volume<float>(v.geometry(), v.channels(),
                             std::vector<float>(real.begin(), real.end()));
      },
      image.voxels);
}

Component componentOf(DataType type) {
  switch (type) {
    case DataType::UInt8:
      return Component::UCHAR;
    case DataType::Int8:
      return Component::CHAR;
    case DataType::Int16:
      return Component::SHORT;
    case DataType::UInt16:
      return Component::USHORT;
    case DataType::Int32:
      return Component::INT;
    case DataType::Float32:
      return Component::FLOAT;
    case DataType::Float64:
      return Component::DOUBLE;
  }
  return Component::UNKNOWNCOMPONENTTYPE;
}

// 2D in the file when the grid is one slice in the z = 0 plane with in-plane directions.
bool writesAs2D(const Geometry& g, int64_t channels) {
  const auto& m = g.direction;
  return channels == 1 && g.dims[2] == 1 && g.origin[2] == 0.0 && m[2][0] == 0.0 &&
         m[2][1] == 0.0 && m[0][2] == 0.0 && m[1][2] == 0.0 && m[2][2] == 1.0;
}

}  // namespace

Image readItkImage(const fs::path& path) {
  checkReadable(path);
  auto io = ioFor(path);
  return readWithIo(*io, path, isNrrdName(path) ? ImageFormat::Nrrd : ImageFormat::MetaImage);
}

void writeItkImage(const fs::path& path, const Image& image) {
  quietItk();
  const AnyVolume voxels = writtenVoxels(image);
  std::visit(
      [&](const auto& v) {
        using T = typename std::decay_t<decltype(v)>::value_type;
        const Geometry& g = v.geometry();
        const unsigned ndim = v.channels() > 1 ? 4 : writesAs2D(g, 1) ? 2 : 3;
        auto io = ioFor(path);
        io->SetNumberOfDimensions(ndim);
        for (unsigned d = 0; d < ndim; ++d) {
          const bool spatial = d < 3;
          io->SetDimensions(d, static_cast<unsigned>(spatial ? g.dims[d] : v.channels()));
          const double time_step = image.header.time_step > 0.0 ? image.header.time_step : 1.0;
          io->SetSpacing(d, spatial ? g.spacing_mm[d] : time_step);
          io->SetOrigin(d, spatial ? g.origin[d] * kLpsToRas[d] : 0.0);
          std::vector<double> column(ndim, 0.0);
          for (unsigned r = 0; r < ndim; ++r)
            column[r] = spatial && r < 3 ? g.direction[r][d] * kLpsToRas[r] : (r == d ? 1.0 : 0.0);
          io->SetDirection(d, column);
        }
        io->SetComponentType(componentOf(dataTypeOf<T>()));
        io->SetNumberOfComponents(1);
        io->SetPixelType(itk::IOPixelEnum::SCALAR);
        io->SetUseCompression(hasExtension(path, ".nrrd") || hasExtension(path, ".mha"));
        selectWholeImage(*io);

        // Written into a staging folder beside the target, then moved into place: the data file
        // of a detached header first, the header last.
        const fs::path parent = path.parent_path().empty() ? fs::path(".") : path.parent_path();
        const std::string name = path.filename().string();
        StagedFolder staged(parent);
        io->SetFileName((staged.stagingFolder() / name).string());
        try {
          io->Write(v.data());
        } catch (const itk::ExceptionObject& e) {
          throw IoError(
              fmt::format("{}: cannot write: {}", path.string(), oneLine(e.GetDescription())));
        }
        for (const auto& entry : fs::directory_iterator(staged.stagingFolder()))
          if (entry.path().filename() != name) (void)staged.stage(entry.path().filename().string());
        (void)staged.stage(name);
        staged.commit();
      },
      voxels);
}

// --- DICOM --------------------------------------------------------------------------------------

namespace {

itk::GDCMSeriesFileNames::Pointer scanFolder(const fs::path& folder) {
  quietItk();
  auto names = itk::GDCMSeriesFileNames::New();
  names->SetUseSeriesDetails(false);
  try {
    names->SetDirectory(folder.string());
  } catch (const itk::ExceptionObject& e) {
    rethrow(folder, e, "scan the folder for DICOM files");
  }
  return names;
}

std::string tagValue(itk::GDCMImageIO& io, const char* tag) {
  std::string value;
  if (!io.GetValueFromTag(tag, value)) return {};
  return trim(value);
}

// One slice file: its header, where it sits and how it is stored.
struct Slice {
  std::string file;
  itk::GDCMImageIO::Pointer io;
  Vec3 origin{};          // LPS, as DICOM
  double position = 0.0;  // along the slice normal
};

Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
double dot(const Vec3& a, const Vec3& b) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

// The stored type of the stacked volume: the slices' own type when they agree (after rescaling),
// float64 where any slice needs it, float32 where any is real-valued, else int32.
Component commonComponent(const std::vector<Slice>& slices) {
  Component first = slices.front().io->GetComponentType();
  bool same = true, real = false, dbl = false;
  for (const auto& s : slices) {
    const Component c = s.io->GetComponentType();
    same = same && c == first;
    real = real || c == Component::FLOAT || c == Component::DOUBLE;
    dbl = dbl || c == Component::DOUBLE;
  }
  if (same) return first;
  if (dbl) return Component::DOUBLE;
  return real ? Component::FLOAT : Component::INT;
}

template <typename Out>
void readSliceInto(const Slice& slice, Out* plane, int64_t voxels_per_slice, int64_t plane_stride,
                   int64_t components) {
  const std::string source = slice.file;
  withComponent(slice.io->GetComponentType(), source, [&](auto zero) {
    using T = decltype(zero);
    std::vector<T> values(static_cast<size_t>(voxels_per_slice * components));
    selectWholeImage(*slice.io);
    try {
      slice.io->Read(values.data());
    } catch (const itk::ExceptionObject& e) {
      rethrow(slice.file, e, "read the pixels");
    }
    for (int64_t v = 0; v < voxels_per_slice; ++v)
      for (int64_t c = 0; c < components; ++c)
        plane[c * plane_stride + v] = static_cast<Out>(values[v * components + c]);
    return 0;
  });
}

// Rescaled values come as float64 from GDCM; float32 holds them when it holds every one exactly
// (stored integers times a slope like 0.5): half the memory of a CT volume.
AnyVolume narrowedReal(Volume<double> v) {
  for (const double x : v.values())
    if (static_cast<double>(static_cast<float>(x)) != x && !std::isnan(x)) return v;
  return convertVolume<float>(v);
}

Image stackSlices(std::vector<Slice> slices, const fs::path& folder) {
  const std::string source = folder.string();
  const auto& first = *slices.front().io;
  const int64_t nx = first.GetDimensions(0), ny = first.GetDimensions(1);
  const int64_t components = first.GetNumberOfComponents();
  Vec3 row{}, col{};
  for (int r = 0; r < 3; ++r) {
    row[r] = first.GetDirection(0)[r];
    col[r] = first.GetDirection(1)[r];
  }
  const Vec3 normal = cross(row, col);
  for (auto& s : slices) {
    const auto& io = *s.io;
    const bool frames = io.GetNumberOfDimensions() > 2 && io.GetDimensions(2) > 1;
    if (frames)
      throw FormatError(
          fmt::format("{}: {} holds several frames; a series of multi-frame files is "
                      "not supported (read the file on its own)",
                      source, s.file));
    if (static_cast<int64_t>(io.GetDimensions(0)) != nx ||
        static_cast<int64_t>(io.GetDimensions(1)) != ny ||
        static_cast<int64_t>(io.GetNumberOfComponents()) != components)
      throw FormatError(
          fmt::format("{}: {} is {}x{} with {} component(s), the series' first slice "
                      "{}x{} with {}",
                      source, s.file, io.GetDimensions(0), io.GetDimensions(1),
                      io.GetNumberOfComponents(), nx, ny, components));
    for (int r = 0; r < 3; ++r) {
      s.origin[r] = io.GetOrigin(r);
      if (std::abs(io.GetDirection(0)[r] - row[r]) > 1e-4 ||
          std::abs(io.GetDirection(1)[r] - col[r]) > 1e-4)
        throw FormatError(fmt::format(
            "{}: {} has another orientation than the series' other slices", source, s.file));
    }
    s.position = dot(s.origin, normal);
  }
  std::stable_sort(slices.begin(), slices.end(),
                   [](const Slice& a, const Slice& b) { return a.position < b.position; });

  // Evenly spaced slices along the normal, without in-plane shifts (no gantry tilt): gatescope does
  // not resample a series (docs/image-io.md).
  const size_t n = slices.size();
  double spacing = first.GetSpacing(2) > 0.0 ? first.GetSpacing(2) : 1.0;
  if (n > 1) {
    std::vector<double> gaps;
    for (size_t k = 1; k < n; ++k) gaps.push_back(slices[k].position - slices[k - 1].position);
    std::vector<double> sorted = gaps;
    std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
    spacing = sorted[sorted.size() / 2];
    for (size_t k = 0; k < gaps.size(); ++k) {
      if (gaps[k] < 1e-3)
        throw FormatError(
            fmt::format("{}: {} and {} lie at the same position ({:.4f} mm along the "
                        "slice normal): more than one volume in the series?",
                        source, slices[k].file, slices[k + 1].file, slices[k].position));
      if (std::abs(gaps[k] - spacing) > std::max(1e-3, 1e-2 * spacing))
        throw FormatError(
            fmt::format("{}: slices are not evenly spaced: {:.4f} mm between {} and {} "
                        "where the others are {:.4f} mm apart (a missing slice?); "
                        "gatescope does not resample DICOM series",
                        source, gaps[k], slices[k].file, slices[k + 1].file, spacing));
    }
    for (const auto& s : slices) {
      Vec3 shift{};
      for (int r = 0; r < 3; ++r)
        shift[r] =
            s.origin[r] - slices[0].origin[r] - (s.position - slices[0].position) * normal[r];
      if (std::sqrt(dot(shift, shift)) > 1e-2)
        throw FormatError(
            fmt::format("{}: {} is shifted within its plane against the first slice "
                        "(a tilted gantry?); such series are not supported",
                        source, s.file));
    }
  }

  Geometry g;
  g.dims = {nx, ny, static_cast<int64_t>(n)};
  g.spacing_mm = {first.GetSpacing(0), first.GetSpacing(1), spacing};
  const Vec3 axes[3] = {row, col, normal};
  for (int c = 0; c < 3; ++c)
    for (int r = 0; r < 3; ++r) g.direction[r][c] = axes[c][r] * kLpsToRas[r];
  for (int r = 0; r < 3; ++r) g.origin[r] = slices.front().origin[r] * kLpsToRas[r];

  const int64_t per_slice = nx * ny;
  Image image{withComponent(commonComponent(slices), source,
                            [&](auto zero) -> AnyVolume {
                              using T = decltype(zero);
                              if constexpr (!kKept<T>) {
                                throw FormatError(source + ": unsupported DICOM pixel type");
                              } else {
                                Volume<T> v(g, components);
                                for (size_t k = 0; k < n; ++k)
                                  readSliceInto(slices[k], v.data() + k * per_slice, per_slice,
                                                g.voxelCount(), components);
                                if constexpr (std::is_same_v<T, double>)
                                  return narrowedReal(std::move(v));
                                return v;
                              }
                            }),
              {}};
  image.header.format = ImageFormat::Dicom;
  image.header.file_dims = {nx, ny, static_cast<int64_t>(n)};
  if (components > 1) image.header.file_dims.push_back(components);
  image.header.affine = g.affine();
  image.header.qform_code = image.header.sform_code = 1;
  return image;
}

}  // namespace

std::vector<DicomSeriesInfo> listDicomSeries(const fs::path& folder) {
  auto names = scanFolder(folder);
  std::vector<DicomSeriesInfo> out;
  for (const auto& uid : names->GetSeriesUIDs()) {
    DicomSeriesInfo info;
    info.uid = trim(uid);
    const auto files = names->GetFileNames(uid);
    info.files = static_cast<int64_t>(files.size());
    if (!files.empty()) {
      auto io = itk::GDCMImageIO::New();
      io->SetFileName(files.front());
      try {
        io->ReadImageInformation();
        info.description = tagValue(*io, "0008|103e");
        info.modality = tagValue(*io, "0008|0060");
      } catch (const itk::ExceptionObject&) {
      }
    }
    out.push_back(info);
  }
  return out;
}

Image readDicom(const fs::path& path, const std::string& series_uid) {
  quietItk();
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    checkReadable(path);
    auto io = itk::GDCMImageIO::New();
    return readWithIo(*io, path, ImageFormat::Dicom);
  }
  auto names = scanFolder(path);
  std::vector<std::string> uids;
  for (const auto& uid : names->GetSeriesUIDs()) uids.push_back(uid);
  if (uids.empty()) throw FormatError(path.string() + ": no DICOM files in this folder");
  std::string chosen;
  if (series_uid.empty()) {
    if (uids.size() > 1) {
      std::string list;
      for (const auto& s : listDicomSeries(path))
        list += fmt::format("{}{} ({} files{}{})", list.empty() ? "" : ", ", s.uid, s.files,
                            s.modality.empty() ? "" : ", " + s.modality,
                            s.description.empty() ? "" : ", \"" + s.description + "\"");
      throw UsageError(
          fmt::format("{}: the folder holds {} DICOM series; choose one with --series "
                      "UID: {}",
                      path.string(), uids.size(), list));
    }
    chosen = uids.front();
  } else {
    for (const auto& uid : uids)
      if (trim(uid) == series_uid) chosen = uid;
    if (chosen.empty())
      throw UsageError(fmt::format("{}: no DICOM series {} in this folder (it holds {})",
                                   path.string(), series_uid, fmt::join(uids, ", ")));
  }

  std::vector<Slice> slices;
  for (const auto& file : names->GetFileNames(chosen)) {
    Slice s;
    s.file = file;
    s.io = itk::GDCMImageIO::New();
    s.io->SetFileName(file);
    try {
      s.io->ReadImageInformation();
    } catch (const itk::ExceptionObject& e) {
      rethrow(file, e, "read the DICOM header");
    }
    slices.push_back(std::move(s));
  }
  if (slices.size() == 1)
    return readWithIo(*slices.front().io, slices.front().file, ImageFormat::Dicom);
  return stackSlices(std::move(slices), path);
}

}  // namespace gatescope
