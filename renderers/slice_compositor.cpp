#include "renderers/slice_compositor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>

#include "analysis/core/error.hpp"

namespace gatescope {

namespace {

constexpr std::array<const char*, 3> kPlaneNames{"axial", "coronal", "sagittal"};

// Which voxel axis runs along each world axis (RAS), and in which direction: the assignment of
// voxel axes to world axes that keeps the most of the direction matrix.
struct AxisMatch {
  std::array<int, 3> voxel_axis{};  // per world axis
  std::array<bool, 3> positive{};   // the voxel index grows towards +world
};

AxisMatch matchAxes(const Mat3& direction) {
  std::array<int, 3> permutation{0, 1, 2}, best = permutation;  // world axis of voxel axis c
  double best_score = -1.0;
  do {
    double score = 0.0;
    for (int c = 0; c < 3; ++c) score += std::abs(direction[permutation[c]][c]);
    if (score > best_score) best_score = score, best = permutation;
  } while (std::next_permutation(permutation.begin(), permutation.end()));
  AxisMatch match;
  for (int c = 0; c < 3; ++c) {
    match.voxel_axis[best[c]] = c;
    match.positive[best[c]] = direction[best[c]][c] > 0.0;
  }
  return match;
}

// Sampling positions along one picture axis: per pixel, the voxel index for nearest sampling and
// the two neighbours and weight for linear sampling, as offsets into the volume.
struct AxisSamples {
  std::vector<int64_t> nearest, below, above;
  std::vector<float> weight;
};

AxisSamples axisSamples(int pixels, double pixel_mm, double spacing, int64_t voxels, bool flip,
                        int64_t stride) {
  AxisSamples s;
  s.nearest.resize(pixels), s.below.resize(pixels), s.above.resize(pixels), s.weight.resize(pixels);
  const double ratio = pixel_mm / spacing;  // exactly 1 when pixels are voxels
  for (int p = 0; p < pixels; ++p) {
    double u = (p + 0.5) * ratio - 0.5;
    if (flip) u = static_cast<double>(voxels - 1) - u;
    // Within rounding of a voxel centre: on it (keeps the no-interpolation path for such rows).
    if (std::abs(u - std::round(u)) < 1e-9) u = std::round(u);
    const auto nearest =
        std::clamp<int64_t>(static_cast<int64_t>(std::floor(u + 0.5)), 0, voxels - 1);
    auto below = static_cast<int64_t>(std::floor(u));
    double w = u - static_cast<double>(below);
    if (below < 0) below = 0, w = 0.0;
    if (below >= voxels - 1) below = voxels - 1, w = 0.0;
    s.nearest[p] = nearest * stride;
    s.below[p] = below * stride;
    // On a voxel centre the neighbour is not read at all (0 * NaN would hide the voxel).
    s.above[p] = (w == 0.0 ? below : std::min(below + 1, voxels - 1)) * stride;
    s.weight[p] = static_cast<float>(w);
  }
  return s;
}

constexpr bool kParallel = true;

struct Sampling {
  AxisSamples x, y;
  int64_t slice_offset = 0;
  // Nearest columns lie at a constant step (one picture pixel per voxel, the common case): rows are
  // read with a pointer and a stride instead of through the offset table.
  bool x_strided = false;
  int64_t x_first = 0, x_step = 0;
};

void findStride(Sampling& s) {
  const auto& n = s.x.nearest;
  s.x_first = n.front();
  s.x_step = n.size() > 1 ? n[1] - n[0] : 0;
  s.x_strided = true;
  for (size_t x = 0; x < n.size(); ++x)
    if (n[x] != s.x_first + static_cast<int64_t>(x) * s.x_step) s.x_strided = false;
}

inline void blend(uint8_t* pixel, Rgba color, int alpha) {
  pixel[0] = static_cast<uint8_t>((pixel[0] * (256 - alpha) + color.r * alpha) >> 8);
  pixel[1] = static_cast<uint8_t>((pixel[1] * (256 - alpha) + color.g * alpha) >> 8);
  pixel[2] = static_cast<uint8_t>((pixel[2] * (256 - alpha) + color.b * alpha) >> 8);
}

inline int alphaOf(double opacity) {
  return static_cast<int>(std::lround(std::clamp(opacity, 0.0, 1.0) * 256.0));
}

const float* layerData(const ScalarLayer& layer, const Geometry& grid, const std::string& what) {
  if (!layer.volume) throw UsageError(what + " has no volume");
  if (!layer.volume->geometry().sameGrid(grid))
    throw GeometryError(fmt::format("{} lies on {}, the image on {}", what,
                                    layer.volume->geometry().describe(), grid.describe()));
  if (layer.channel < 0 || layer.channel >= layer.volume->channels())
    throw UsageError(fmt::format("{} has {} channel(s), channel {} asked for", what,
                                 layer.volume->channels(), layer.channel));
  return layer.volume->channel(layer.channel).data();
}

// One scalar layer over the picture. Templated so that the per-pixel loop carries no decisions:
// kLinear samples bilinearly (rows whose weights are all zero take the nearest path), kBase writes
// opaque pixels (hidden ones show the background), otherwise the colour is blended.
template <bool kLinear, bool kBase>
void drawScalarRows(RgbaImage& out, const ScalarLayer& layer, const float* data, const Sampling& s,
                    Rgba background) {
  const Colormap& map = colormap(layer.colormap);
  const ColorScale scale(layer.lo, layer.hi);
  // Values below the threshold (and NaN, which fails every comparison) are hidden.
  const float threshold = layer.threshold ? static_cast<float>(*layer.threshold)
                                          : -std::numeric_limits<float>::infinity();
  const int alpha = alphaOf(layer.opacity);
  // The base layer stores whole pixels: the table as opaque RGBA words.
  std::array<uint32_t, 256> packed{};
  uint32_t packed_background = 0;
  if constexpr (kBase) {
    for (int i = 0; i < 256; ++i) {
      const Rgba c{map.table[i].r, map.table[i].g, map.table[i].b, 255};
      std::memcpy(&packed[i], &c, 4);
    }
    const Rgba b{background.r, background.g, background.b, 255};
    std::memcpy(&packed_background, &b, 4);
  }
  const bool x_exact =
      std::all_of(s.x.weight.begin(), s.x.weight.end(), [](float w) { return w == 0.0f; });
  const int64_t* xn = kLinear ? s.x.below.data() : s.x.nearest.data();
  const int64_t* xa = s.x.above.data();
  const float* wx = s.x.weight.data();
#pragma omp parallel for schedule(static) if (kParallel)
  for (int y = 0; y < out.height; ++y) {
    uint8_t* pixel = &out.pixels[static_cast<size_t>(y) * out.width * 4];
    const float* row0 = data + (kLinear ? s.y.below[y] : s.y.nearest[y]);
    const float* row1 = data + s.y.above[y];
    const float wy = s.y.weight[y];
    const bool direct = !kLinear || (x_exact && wy == 0.0f);
    const float* strided = (kLinear ? data + s.y.below[y] : row0) + s.x_first;
    const bool use_stride = direct && s.x_strided;
    for (int x = 0; x < out.width; ++x, pixel += 4) {
      float v;
      if (use_stride) {
        v = strided[x * s.x_step];
      } else if (direct) {
        v = row0[xn[x]];
      } else {
        const float a = row0[xn[x]], b = row0[xa[x]], c = row1[xn[x]], d = row1[xa[x]];
        const float top = a + wx[x] * (b - a), bottom = c + wx[x] * (d - c);
        v = top + wy * (bottom - top);
      }
      const bool shown = v >= threshold;
      if constexpr (kBase) {
        std::memcpy(pixel, shown ? &packed[scale.index(v)] : &packed_background, 4);
      } else {
        if (shown) blend(pixel, map.table[scale.index(v)], alpha);
      }
    }
  }
}

void drawScalar(RgbaImage& out, const ScalarLayer& layer, const float* data, const Sampling& s,
                bool base, Rgba background) {
  const bool linear = layer.interpolation == Interpolation::Linear;
  if (base)
    linear ? drawScalarRows<true, true>(out, layer, data, s, background)
           : drawScalarRows<false, true>(out, layer, data, s, background);
  else
    linear ? drawScalarRows<true, false>(out, layer, data, s, background)
           : drawScalarRows<false, false>(out, layer, data, s, background);
}

void drawLabels(RgbaImage& out, const LabelLayer& layer, const Sampling& s,
                std::vector<int32_t>& picture) {
  const int32_t* data = layer.labels->data();
  const int w = out.width, h = out.height;
  const auto wanted = [&](int32_t label) {
    return label != 0 && (layer.only.empty() || std::find(layer.only.begin(), layer.only.end(),
                                                          label) != layer.only.end());
  };
  const int64_t* xn = s.x.nearest.data();
#pragma omp parallel for schedule(static) if (kParallel)
  for (int y = 0; y < h; ++y) {
    const int32_t* row = data + s.y.nearest[y];
    int32_t* line = &picture[static_cast<size_t>(y) * w];
    if (s.x_strided) {
      const int32_t* p = row + s.x_first;
      for (int x = 0; x < w; ++x) line[x] = p[x * s.x_step];
    } else {
      for (int x = 0; x < w; ++x) line[x] = row[xn[x]];
    }
  }
  if (!layer.only.empty())
    for (auto& label : picture)
      if (!wanted(label)) label = 0;
  const int alpha = alphaOf(layer.opacity);
  const int thickness = std::max(1, layer.thickness);
  const bool contour = layer.style == LabelStyle::Contour;
  // A label's own pixel is on its contour when a pixel within `thickness` along its row or column
  // holds another label or lies beyond the picture's edge.
  auto onContour = [&](int x, int y, int32_t label) {
    const int32_t* at = &picture[static_cast<size_t>(y) * w + x];
    for (int d = 1; d <= thickness; ++d) {
      if (x - d < 0 || x + d >= w || y - d < 0 || y + d >= h) return true;
      if (at[-d] != label || at[d] != label || at[-static_cast<ptrdiff_t>(d) * w] != label ||
          at[static_cast<ptrdiff_t>(d) * w] != label)
        return true;
    }
    return false;
  };
#pragma omp parallel for schedule(static) if (kParallel)
  for (int y = 0; y < h; ++y) {
    Rgba cached_color{};
    int32_t cached_label = 0;
    const int32_t* line = &picture[static_cast<size_t>(y) * w];
    uint8_t* pixel = &out.pixels[static_cast<size_t>(y) * w * 4];
    const bool inner_row = y > 0 && y + 1 < h;
    for (int x = 0; x < w; ++x) {
      const int32_t label = line[x];
      if (label == 0) continue;
      if (contour) {
        // One pixel wide, inside the picture: the four neighbours decide (the common case, fast).
        if (thickness == 1 && inner_row && x > 0 && x + 1 < w) {
          if (line[x - 1] == label && line[x + 1] == label && line[x - w] == label &&
              line[x + w] == label)
            continue;
        } else if (!onContour(x, y, label)) {
          continue;
        }
      }
      if (label != cached_label)
        cached_label = label, cached_color = layer.color.value_or(labelColor(label));
      blend(pixel + static_cast<size_t>(x) * 4, cached_color, alpha);
    }
  }
}

}  // namespace

const char* planeName(Plane plane) {
  return kPlaneNames[static_cast<int>(plane)];
}

std::optional<Plane> parsePlane(std::string_view name) {
  for (int p = 0; p < 3; ++p)
    if (name == kPlaneNames[p]) return static_cast<Plane>(p);
  return std::nullopt;
}

SliceFrame sliceFrame(const Geometry& geometry, Plane plane) {
  SliceFrame f;
  if (geometry.is2D()) {
    if (plane != Plane::Axial)
      throw UsageError(
          fmt::format("a 2D image ({}) has no {} plane", geometry.describe(), planeName(plane)));
  } else {
    const AxisMatch m = matchAxes(geometry.direction);
    // World axes (RAS) the picture's columns and rows run against: radiological views.
    int world_x = 0, world_y = 1, world_normal = 2;
    if (plane == Plane::Coronal) world_y = 2, world_normal = 1;
    if (plane == Plane::Sagittal) world_x = 1, world_y = 2, world_normal = 0;
    f.axis_x = m.voxel_axis[world_x];
    f.axis_y = m.voxel_axis[world_y];
    f.axis_normal = m.voxel_axis[world_normal];
    // Columns run towards -x (the patient's left) or -y (posterior), rows towards -y or -z.
    f.flip_x = m.positive[world_x];
    f.flip_y = m.positive[world_y];
  }
  f.columns = geometry.dims[f.axis_x];
  f.rows = geometry.dims[f.axis_y];
  f.slices = geometry.dims[f.axis_normal];
  f.spacing_x = geometry.spacing_mm[f.axis_x];
  f.spacing_y = geometry.spacing_mm[f.axis_y];
  f.spacing_normal = geometry.spacing_mm[f.axis_normal];
  return f;
}

Vec3 SliceMapping::voxelAt(double x, double y) const {
  double u = x * pixel_mm / frame.spacing_x - 0.5, v = y * pixel_mm / frame.spacing_y - 0.5;
  if (frame.flip_x) u = static_cast<double>(frame.columns - 1) - u;
  if (frame.flip_y) v = static_cast<double>(frame.rows - 1) - v;
  Vec3 voxel{};
  voxel[frame.axis_x] = u;
  voxel[frame.axis_y] = v;
  voxel[frame.axis_normal] = static_cast<double>(slice);
  return voxel;
}

std::pair<double, double> SliceMapping::pictureAt(const Vec3& voxel) const {
  double u = voxel[frame.axis_x], v = voxel[frame.axis_y];
  if (frame.flip_x) u = static_cast<double>(frame.columns - 1) - u;
  if (frame.flip_y) v = static_cast<double>(frame.rows - 1) - v;
  return {(u + 0.5) * frame.spacing_x / pixel_mm, (v + 0.5) * frame.spacing_y / pixel_mm};
}

SliceMapping sliceMapping(const Geometry& geometry, Plane plane, int64_t slice, double pixel_mm) {
  SliceMapping m;
  m.frame = sliceFrame(geometry, plane);
  m.slice = slice < 0 ? m.frame.slices / 2 : slice;
  if (m.slice >= m.frame.slices)
    throw UsageError(fmt::format("{} slice {} is out of range (0 to {})", planeName(plane), slice,
                                 m.frame.slices - 1));
  m.pixel_mm = pixel_mm > 0 ? pixel_mm : std::min(m.frame.spacing_x, m.frame.spacing_y);
  m.width =
      std::max(1, static_cast<int>(std::lround(m.frame.columns * m.frame.spacing_x / m.pixel_mm)));
  m.height =
      std::max(1, static_cast<int>(std::lround(m.frame.rows * m.frame.spacing_y / m.pixel_mm)));
  if (static_cast<int64_t>(m.width) * m.height > (int64_t{1} << 28))
    throw UsageError(fmt::format("a {:.3g} mm pixel makes a {}x{} picture: too large", m.pixel_mm,
                                 m.width, m.height));
  return m;
}

Rgba labelColor(int label) {
  static constexpr std::array<Rgba, 12> kTable{{{255, 0, 0, 255},
                                                {0, 255, 0, 255},
                                                {0, 0, 255, 255},
                                                {255, 255, 0, 255},
                                                {0, 255, 255, 255},
                                                {255, 0, 255, 255},
                                                {255, 128, 0, 255},
                                                {128, 0, 255, 255},
                                                {0, 128, 255, 255},
                                                {128, 255, 0, 255},
                                                {255, 0, 128, 255},
                                                {0, 255, 128, 255}}};
  if (label <= 0) return {0, 0, 0, 255};
  return kTable[static_cast<size_t>(label - 1) % kTable.size()];
}

RgbaImage composeSlice(const SliceScene& scene) {
  RgbaImage out;
  composeSlice(scene, out);
  return out;
}

void composeSlice(const SliceScene& scene, RgbaImage& out) {
  if (!scene.image.volume) throw UsageError("a slice picture needs an image");
  const Geometry& grid = scene.image.volume->geometry();
  const SliceMapping m = sliceMapping(grid, scene.plane, scene.slice, scene.pixel_mm);
  const SliceFrame& f = m.frame;
  const std::array<int64_t, 3> stride{1, grid.dims[0], grid.dims[0] * grid.dims[1]};
  Sampling s;
  s.x = axisSamples(m.width, m.pixel_mm, f.spacing_x, f.columns, f.flip_x, stride[f.axis_x]);
  s.y = axisSamples(m.height, m.pixel_mm, f.spacing_y, f.rows, f.flip_y, stride[f.axis_y]);
  s.slice_offset = m.slice * stride[f.axis_normal];
  // Fold the slice into the row offsets: one addition per sample less.
  for (auto* offsets : {&s.y.nearest, &s.y.below, &s.y.above})
    for (auto& o : *offsets) o += s.slice_offset;
  findStride(s);

  // Every pixel is written by the base layer; the buffer is reused when it is large enough.
  out.width = m.width, out.height = m.height;
  out.pixels.resize(static_cast<size_t>(m.width) * m.height * 4);
  drawScalar(out, scene.image, layerData(scene.image, grid, "the image"), s, true,
             scene.background);
  for (size_t n = 0; n < scene.overlays.size(); ++n) {
    const ScalarLayer& layer = scene.overlays[n];
    drawScalar(out, layer, layerData(layer, grid, fmt::format("overlay {}", n + 1)), s, false,
               scene.background);
  }
  // The labels under each picture pixel: scratch kept per thread, so scrolling allocates nothing.
  thread_local std::vector<int32_t> picture;
  for (size_t n = 0; n < scene.labels.size(); ++n) {
    const LabelLayer& layer = scene.labels[n];
    const std::string what = fmt::format("label layer {}", n + 1);
    if (!layer.labels) throw UsageError(what + " has no volume");
    if (!layer.labels->geometry().sameGrid(grid))
      throw GeometryError(fmt::format("{} lies on {}, the image on {}", what,
                                      layer.labels->geometry().describe(), grid.describe()));
    picture.resize(static_cast<size_t>(m.width) * m.height);
    drawLabels(out, layer, s, picture);
  }
}

}  // namespace gatescope
