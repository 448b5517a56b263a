#pragma once

#include <string>

namespace gatescope::workbench {

// Saves the current OpenGL back buffer (RGB) as a PNG, top row first.
void saveFramebuffer(const std::string& path, int width, int height);

}  // namespace gatescope::workbench
