#pragma once

#include <cstdint>

// The colour tables behind renderers/colormap.hpp (generated: scripts/generate_colormaps.py).
namespace gatescope::colormap_tables {

extern const uint8_t kGray[256][3];
extern const uint8_t kJet[256][3];
extern const uint8_t kViridis[256][3];
extern const uint8_t kMagma[256][3];
extern const uint8_t kInferno[256][3];
extern const uint8_t kPlasma[256][3];
extern const uint8_t kTurbo[256][3];
extern const uint8_t kHot[256][3];
extern const uint8_t kDiverging[256][3];

}  // namespace gatescope::colormap_tables
