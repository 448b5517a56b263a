// The file browser's listing and Tab completion on a folder tree made here (expected lists written
// out by hand).
#include "workbench/app/path_completion.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include "tests/support/test_support.hpp"

using namespace gatescope::workbench;
namespace fs = std::filesystem;

namespace {

//  root/ evaluation_a/ evaluation_b/ models/ .hidden/ scan.nii.gz scan.png notes.txt .secret.json
//  model.json
fs::path tree() {
  // One folder per process: ctest runs the test cases in parallel, each as its own process.
  const fs::path root =
      gatescope::test::scratchDir("path_completion_" + std::to_string(::getpid()));
  for (const char* folder : {"evaluation_a", "evaluation_b", "models", ".hidden"})
    fs::create_directories(root / folder);
  for (const char* file : {"scan.nii.gz", "scan.png", "notes.txt", ".secret.json", "model.json"})
    std::ofstream(root / file) << "x";
  return root;
}

std::vector<std::string> names(const std::vector<FolderEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.folder ? e.name + "/" : e.name);
  return out;
}

}  // namespace

TEST_CASE("folders list folders first, then the files a browser asks for, without hidden ones",
          "[app]") {
  const fs::path root = tree();
  CHECK(names(listFolder(root, PathKind::OpenFile)) ==
        std::vector<std::string>{"evaluation_a/", "evaluation_b/", "models/", "model.json",
                                 "notes.txt", "scan.nii.gz", "scan.png"});
  CHECK(names(listFolder(root, PathKind::OpenFile, {".nii", ".nii.gz"})) ==
        std::vector<std::string>{"evaluation_a/", "evaluation_b/", "models/", "scan.nii.gz"});
  CHECK(names(listFolder(root, PathKind::Folder)) ==
        std::vector<std::string>{"evaluation_a/", "evaluation_b/", "models/"});
  CHECK(listFolder(root / "nowhere", PathKind::OpenFile).empty());
}

TEST_CASE("typed paths split into the folder shown and the start of a name", "[app]") {
  const fs::path root = tree();
  const TypedPath a = splitTypedPath((root / "eval").string(), "/elsewhere");
  CHECK(a.folder == root);
  CHECK(a.prefix == "eval");
  const TypedPath b = splitTypedPath("models/", root);  // relative: from the start folder
  CHECK(b.folder == root / "models");
  CHECK(b.prefix.empty());
  CHECK(splitTypedPath("", root).folder == root);
}

TEST_CASE("Tab completes to the longest shared start, and a lone folder gets its slash", "[app]") {
  const fs::path root = tree();
  const std::string base = root.string() + "/";
  CHECK(completePath(base + "ev", root, PathKind::Folder) == base + "evaluation_");
  CHECK(completePath(base + "evaluation_b", root, PathKind::Folder) == base + "evaluation_b/");
  CHECK(completePath(base + "mo", root, PathKind::OpenFile) ==
        base + "model");  // models/ and model.json
  CHECK(completePath(base + "mo", root, PathKind::Folder) == base + "models/");
  CHECK(completePath(base + "sc", root, PathKind::OpenFile, {".png"}) == base + "scan.png");
  CHECK(completePath(base + "zz", root, PathKind::OpenFile) == base + "zz");  // nothing matches
  CHECK(completePath("ev", root, PathKind::Folder) == "evaluation_");  // relative stays relative
}

TEST_CASE("start places: the start folder, home and beside recent files, each once", "[app]") {
  const fs::path root = tree();
  setenv("HOME", (root / "models").c_str(), 1);
  const auto places =
      startPlaces(root, {(root / "evaluation_a").string(), (root / "evaluation_b").string(),
                         "/nowhere/at/all/session.json"});
  CHECK(places == std::vector<fs::path>{root, root / "models"});  // both evaluations lie in root
}
