#pragma once

namespace gatescope::workbench {

// The Help > About window: version, LibTorch runtime, and what gatescope is for.
void drawAboutWindow(bool& open);

}  // namespace gatescope::workbench
