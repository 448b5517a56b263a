#pragma once

// The workbench's path fields: Tab completes the typed path, and a small browser lists where to
// start (the folder the workbench started in, home, beside recent evaluations and sessions) and the
// current folder's entries. Relative paths are taken from the folder the workbench started in.
#include <string>
#include <vector>

#include "workbench/app/path_completion.hpp"

namespace gatescope::workbench {

// A path field with Tab completion and a "..." button that opens the browser in a popup. True
// when Enter confirmed the path.
bool pathField(const char* label, std::string& path, PathKind kind,
               const std::vector<std::string>& extensions = {}, float width = 420.0f);

// The browser drawn in place, `height` pixels tall: a click on a folder opens it, on a file picks
// it. True when a file was double-clicked (picked and confirmed).
bool fileBrowser(const char* id, std::string& path, PathKind kind,
                 const std::vector<std::string>& extensions, float height = 220.0f);

}  // namespace gatescope::workbench
