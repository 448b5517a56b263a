#pragma once

// What the workbench's file and folder browser lists: a folder's entries, completions of a typed
// path, and the places to start from. No window here: the browser (file_browser.hpp) draws these.
#include <filesystem>
#include <string>
#include <vector>

namespace gatescope::workbench {

enum class PathKind {
  Folder,    // an existing folder (an evaluation, a dataset)
  OpenFile,  // an existing file
  SaveFile,  // a file to write: an existing folder, any name
};

struct FolderEntry {
  std::string name;
  bool folder = false;
};

// The entries of `folder` a browser of `kind` offers: folders first, then (except for Folder) files
// whose extension is one of `extensions` (lowercase with the dot; empty: every file), each group
// sorted by name; hidden entries (".name") left out. Empty when the folder cannot be read.
[[nodiscard]] std::vector<FolderEntry> listFolder(const std::filesystem::path& folder,
                                                  PathKind kind,
                                                  const std::vector<std::string>& extensions = {});

// The folder a typed path shows in the browser and the start of a name typed in it: "/data/ev" ->
// ("/data", "ev"); "/data/" -> ("/data", ""). Relative paths are taken from `base`.
struct TypedPath {
  std::filesystem::path folder;
  std::string prefix;
};
[[nodiscard]] TypedPath splitTypedPath(const std::string& typed, const std::filesystem::path& base);

// Tab completion: the typed path extended by the longest start shared by the entries that begin
// with its last part (a folder gets its trailing "/" once it is the only match); unchanged when
// nothing matches.
[[nodiscard]] std::string completePath(const std::string& typed, const std::filesystem::path& base,
                                       PathKind kind,
                                       const std::vector<std::string>& extensions = {});

// Places to start from: the folder the workbench started in, the home folder, and the folders of
// recently opened evaluations and sessions (each once, existing ones only).
[[nodiscard]] std::vector<std::filesystem::path> startPlaces(
    const std::filesystem::path& start, const std::vector<std::string>& recent);

}  // namespace gatescope::workbench
