#include "analysis/io/png_io.hpp"

#include <fmt/format.h>
#include <png.h>

#include <cmath>
#include <csetjmp>
#include <cstring>

#include "analysis/io/file_util.hpp"

namespace gatescope {
namespace fs = std::filesystem;

namespace {

// libpng reports errors by longjmp; these plain-C helpers keep every C++ object out of the
// jump's way and hand back a message instead.
struct PngMemoryReader {
  const uint8_t* data;
  size_t size;
  size_t position;
};

void readFromMemory(png_structp png, png_bytep out, png_size_t count) {
  auto* reader = static_cast<PngMemoryReader*>(png_get_io_ptr(png));
  if (reader->position + count > reader->size) png_error(png, "file is truncated");
  std::memcpy(out, reader->data + reader->position, count);
  reader->position += count;
}

void storeMessage(png_structp png, png_const_charp message) {
  auto* buffer = static_cast<char*>(png_get_error_ptr(png));
  std::snprintf(buffer, 256, "%s", message);
  png_longjmp(png, 1);
}

void ignoreWarning(png_structp, png_const_charp) {}

struct RawPng {
  uint32_t width = 0;
  uint32_t height = 0;
  int bit_depth = 0;   // 8 or 16 after transforms
  int channels = 0;    // stored per pixel after transforms: 1 or 3, plus alpha
  bool alpha = false;  // the last stored channel is alpha (dropped when deinterleaving)
  double pixels_per_metre_x = 0;
  double pixels_per_metre_y = 0;
  png_bytep pixels = nullptr;  // malloc'd, rows top to bottom, interleaved
};

// Returns 0 on success; on failure fills `message` (256 bytes).
int decodePng(const uint8_t* data, size_t size, RawPng* out, char* message) {
  if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
    std::snprintf(message, 256, "not a PNG file (bad signature)");
    return 1;
  }
  png_structp png =
      png_create_read_struct(PNG_LIBPNG_VER_STRING, message, storeMessage, ignoreWarning);
  png_infop info = png_create_info_struct(png);
  PngMemoryReader reader{data, size, 0};
  // volatile: set after setjmp and read after the longjmp of an error.
  png_bytepp volatile rows = nullptr;
  if (setjmp(png_jmpbuf(png))) {
    std::free(rows);
    std::free(out->pixels);
    out->pixels = nullptr;
    png_destroy_read_struct(&png, &info, nullptr);
    return 1;
  }
  png_set_read_fn(png, &reader, readFromMemory);
  png_set_user_limits(png, 1u << 16, 1u << 16);
  png_read_info(png, info);
  const int color_type = png_get_color_type(png, info);
  int bit_depth = png_get_bit_depth(png, info);
  if (bit_depth < 8) {
    if (color_type == PNG_COLOR_TYPE_GRAY)
      png_set_expand_gray_1_2_4_to_8(png);
    else
      png_set_packing(png);  // palette indices as one byte each
    bit_depth = 8;
  }
  // 16-bit samples stay big-endian and alpha stays in the rows: deinterleave() swaps and drops it.
  // (libpng's own swap combined with alpha stripping gave wrong 16-bit RGBA values.)
  out->alpha = (color_type & PNG_COLOR_MASK_ALPHA) != 0;
  png_read_update_info(png, info);
  out->width = png_get_image_width(png, info);
  out->height = png_get_image_height(png, info);
  out->bit_depth = bit_depth;
  out->channels = png_get_channels(png, info);
  png_uint_32 res_x = 0, res_y = 0;
  int unit = 0;
  if (png_get_pHYs(png, info, &res_x, &res_y, &unit) && unit == PNG_RESOLUTION_METER) {
    out->pixels_per_metre_x = res_x;
    out->pixels_per_metre_y = res_y;
  }
  const size_t row_bytes = png_get_rowbytes(png, info);
  out->pixels = static_cast<png_bytep>(std::malloc(row_bytes * out->height));
  rows = static_cast<png_bytepp>(std::malloc(sizeof(png_bytep) * out->height));
  if (!out->pixels || !rows) png_error(png, "out of memory");
  for (uint32_t y = 0; y < out->height; ++y) rows[y] = out->pixels + y * row_bytes;
  png_read_image(png, rows);
  png_read_end(png, nullptr);
  std::free(rows);
  png_destroy_read_struct(&png, &info, nullptr);
  return 0;
}

// The colour channels (alpha dropped) as a volume; 16-bit samples from PNG's big-endian order.
template <typename T>
Volume<T> deinterleave(const RawPng& raw, const Geometry& geometry) {
  const int kept = raw.channels - (raw.alpha ? 1 : 0);
  Volume<T> volume(geometry, kept);
  const int64_t n = geometry.voxelCount();
  for (int64_t v = 0; v < n; ++v)
    for (int c = 0; c < kept; ++c) {
      const png_byte* sample =
          raw.pixels + (v * raw.channels + c) * static_cast<int64_t>(sizeof(T));
      if constexpr (sizeof(T) == 2)
        volume.channel(c)[v] = static_cast<T>((sample[0] << 8) | sample[1]);
      else
        volume.channel(c)[v] = sample[0];
    }
  return volume;
}

struct PngMemoryWriter {
  std::vector<uint8_t> bytes;
};

void writeToMemory(png_structp png, png_bytep data, png_size_t count) {
  auto* writer = static_cast<PngMemoryWriter*>(png_get_io_ptr(png));
  writer->bytes.insert(writer->bytes.end(), data, data + count);
}
void flushNothing(png_structp) {}

int encodePng(const uint8_t* interleaved, uint32_t width, uint32_t height, int bit_depth,
              int channels, double pixels_per_metre_x, double pixels_per_metre_y,
              PngMemoryWriter* writer, char* message) {
  png_structp png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, message, storeMessage, ignoreWarning);
  png_infop info = png_create_info_struct(png);
  // volatile: set after setjmp and read after the longjmp of an error.
  png_bytepp volatile rows = nullptr;
  if (setjmp(png_jmpbuf(png))) {
    std::free(rows);
    png_destroy_write_struct(&png, &info);
    return 1;
  }
  png_set_write_fn(png, writer, writeToMemory, flushNothing);
  png_set_IHDR(png, info, width, height, bit_depth,
               channels == 4   ? PNG_COLOR_TYPE_RGBA
               : channels == 3 ? PNG_COLOR_TYPE_RGB
                               : PNG_COLOR_TYPE_GRAY,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (pixels_per_metre_x > 0 && pixels_per_metre_y > 0)
    png_set_pHYs(png, info, static_cast<png_uint_32>(std::lround(pixels_per_metre_x)),
                 static_cast<png_uint_32>(std::lround(pixels_per_metre_y)), PNG_RESOLUTION_METER);
  png_write_info(png, info);
  if (bit_depth == 16) png_set_swap(png);
  const size_t row_bytes = static_cast<size_t>(width) * channels * (bit_depth / 8);
  rows = static_cast<png_bytepp>(std::malloc(sizeof(png_bytep) * height));
  if (!rows) png_error(png, "out of memory");
  for (uint32_t y = 0; y < height; ++y)
    rows[y] = const_cast<png_bytep>(interleaved + y * row_bytes);
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  std::free(rows);
  png_destroy_write_struct(&png, &info);
  return 0;
}

template <typename T>
std::vector<T> interleave(const Volume<T>& volume) {
  const int64_t n = volume.voxelsPerChannel();
  const int64_t channels = volume.channels();
  std::vector<T> out(static_cast<size_t>(n * channels));
  for (int64_t c = 0; c < channels; ++c) {
    auto values = volume.channel(c);
    for (int64_t v = 0; v < n; ++v) out[v * channels + c] = values[v];
  }
  return out;
}

}  // namespace

Image readPng(const fs::path& path) {
  const std::string source = path.string();
  const std::vector<uint8_t> bytes = readWholeFile(path);
  RawPng raw;
  char message[256] = {0};
  if (decodePng(bytes.data(), bytes.size(), &raw, message) != 0)
    throw FormatError(source + ": cannot read PNG: " + message);
  std::unique_ptr<png_byte, decltype(&std::free)> owner(raw.pixels, &std::free);
  const int colours = raw.channels - (raw.alpha ? 1 : 0);
  if (colours != 1 && colours != 3)
    throw FormatError(fmt::format("{}: unsupported PNG with {} colour channels", source, colours));

  Geometry geometry;
  geometry.dims = {raw.width, raw.height, 1};
  Image image = raw.bit_depth == 16
                    ? makeImage(deinterleave<uint16_t>(raw, geometry), ImageFormat::Png)
                    : makeImage(deinterleave<uint8_t>(raw, geometry), ImageFormat::Png);
  image.header.file_dims = {raw.width, raw.height};
  if (colours == 3) image.header.file_dims.push_back(3);
  image.header.qform_code = image.header.sform_code = 0;
  image.header.png_dpi = raw.pixels_per_metre_x * 0.0254;
  return image;
}

void writePng(const fs::path& path, const Image& image) {
  const std::string target = path.string();
  const Geometry& g = image.geometry();
  if (g.dims[2] != 1)
    throw UsageError(fmt::format("{}: PNG holds one slice, the image has {}", target, g.dims[2]));
  if (image.channels() != 1 && image.channels() != 3 && image.channels() != 4)
    throw UsageError(
        fmt::format("{}: PNG holds 1 (gray), 3 (RGB) or 4 (RGBA) channels, the image has {}",
                    target, image.channels()));
  const DataType type = image.dataType();
  if (type != DataType::UInt8 && type != DataType::UInt16)
    throw UsageError(fmt::format("{}: PNG holds uint8 or uint16 values, the image is {}", target,
                                 dataTypeName(type)));
  std::vector<uint8_t> pixels;
  std::visit(
      [&](const auto& v) {
        using T = typename std::decay_t<decltype(v)>::value_type;
        if constexpr (std::is_same_v<T, uint8_t> || std::is_same_v<T, uint16_t>) {
          const auto interleaved = interleave(v);
          pixels.assign(reinterpret_cast<const uint8_t*>(interleaved.data()),
                        reinterpret_cast<const uint8_t*>(interleaved.data() + interleaved.size()));
        }
      },
      image.voxels);
  PngMemoryWriter writer;
  char message[256] = {0};
  if (encodePng(pixels.data(), static_cast<uint32_t>(g.dims[0]), static_cast<uint32_t>(g.dims[1]),
                type == DataType::UInt16 ? 16 : 8, static_cast<int>(image.channels()),
                image.header.png_dpi / 0.0254, image.header.png_dpi / 0.0254, &writer,
                message) != 0)
    throw IoError(target + ": cannot write PNG: " + message);
  writeFileAtomically(path, writer.bytes);
}

}  // namespace gatescope
