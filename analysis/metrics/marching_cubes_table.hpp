#pragma once

#include <array>
#include <vector>

namespace gatescope {

// Corners v0..v7 of the unit cube: (0,0,0) (1,0,0) (1,1,0) (0,1,0) (0,0,1) (1,0,1) (1,1,1) (0,1,1);
// edges e0..e11: (0,1) (1,2) (2,3) (3,0) (4,5) (5,6) (6,7) (7,4) (0,4) (1,5) (2,6) (3,7).
// Entry c (bit v set = corner v inside) lists the edges of its triangles, three per triangle.
[[nodiscard]] const std::array<std::vector<int>, 256>& marchingCubesTriangles();

}  // namespace gatescope
