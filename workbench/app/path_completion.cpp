#include "workbench/app/path_completion.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace gatescope::workbench {

namespace fs = std::filesystem;

namespace {

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

// ".nii.gz" counts as an extension of its own.
bool hasExtension(const std::string& name, const std::vector<std::string>& extensions) {
  if (extensions.empty()) return true;
  const std::string lower = lowercase(name);
  return std::any_of(extensions.begin(), extensions.end(), [&](const std::string& e) {
    return lower.size() > e.size() && lower.compare(lower.size() - e.size(), e.size(), e) == 0;
  });
}

}  // namespace

std::vector<FolderEntry> listFolder(const fs::path& folder, PathKind kind,
                                    const std::vector<std::string>& extensions) {
  std::vector<FolderEntry> folders, files;
  std::error_code error;
  fs::directory_iterator it(folder, fs::directory_options::skip_permission_denied, error);
  if (error) return {};
  for (const fs::directory_entry& entry : it) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    std::error_code type_error;
    if (entry.is_directory(type_error))
      folders.push_back({name, true});
    else if (kind != PathKind::Folder && hasExtension(name, extensions))
      files.push_back({name, false});
  }
  const auto byName = [](const FolderEntry& a, const FolderEntry& b) { return a.name < b.name; };
  std::sort(folders.begin(), folders.end(), byName);
  std::sort(files.begin(), files.end(), byName);
  folders.insert(folders.end(), files.begin(), files.end());
  return folders;
}

TypedPath splitTypedPath(const std::string& typed, const fs::path& base) {
  if (typed.empty()) return {base, ""};
  fs::path path(typed);
  if (typed == "~" || typed.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    path = fs::path(home ? home : "/") / typed.substr(std::min<size_t>(2, typed.size()));
  }
  if (path.is_relative()) path = base / path;
  if (typed.back() == '/' || typed == "~") {
    fs::path folder = path.lexically_normal();
    if (folder.filename().empty() && folder != folder.root_path())
      folder = folder.parent_path();  // "a/b/" -> "a/b"
    return {folder, ""};
  }
  return {path.parent_path().lexically_normal(), path.filename().string()};
}

std::string completePath(const std::string& typed, const fs::path& base, PathKind kind,
                         const std::vector<std::string>& extensions) {
  const TypedPath split = splitTypedPath(typed, base);
  std::vector<FolderEntry> matches;
  for (const FolderEntry& entry : listFolder(split.folder, kind, extensions))
    if (entry.name.rfind(split.prefix, 0) == 0) matches.push_back(entry);
  if (matches.empty()) return typed;
  std::string shared = matches.front().name;
  for (const FolderEntry& m : matches) {
    size_t n = 0;
    while (n < shared.size() && n < m.name.size() && shared[n] == m.name[n]) ++n;
    shared.resize(n);
  }
  std::string completed = typed + shared.substr(split.prefix.size());
  if (matches.size() == 1 && matches.front().folder) completed += "/";
  return completed;
}

std::vector<fs::path> startPlaces(const fs::path& start, const std::vector<std::string>& recent) {
  std::vector<fs::path> places;
  const auto add = [&](const fs::path& p) {
    std::error_code error;
    if (p.empty() || !fs::is_directory(p, error)) return;
    const fs::path normal = p.lexically_normal();
    if (std::find(places.begin(), places.end(), normal) == places.end()) places.push_back(normal);
  };
  add(start);
  if (const char* home = std::getenv("HOME")) add(home);
  for (const std::string& r : recent)
    add(fs::path(r).parent_path());  // beside an evaluation or session
  return places;
}

}  // namespace gatescope::workbench
