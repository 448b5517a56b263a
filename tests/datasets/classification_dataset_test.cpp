// Classification datasets: a folder per class and CSV lists, against expectations worked out by
// hand from the layouts (classes sorted by name as torchvision's ImageFolder, ids relative to the
// root), and the errors for files that are not such datasets.
#include "analysis/datasets/classification_dataset.hpp"

#include <catch2/catch.hpp>
#include <fstream>

#include "analysis/core/error.hpp"
#include "tests/support/test_support.hpp"

using namespace gatescope;
namespace fs = std::filesystem;

namespace {

void touch(const fs::path& file, const std::string& text = "x") {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

std::vector<std::string> ids(const ClassificationDataset& d) {
  std::vector<std::string> out;
  for (const auto& item : d.items) out.push_back(item.id);
  return out;
}

std::string errorOf(const fs::path& path, const std::vector<std::string>& classes = {}) {
  try {
    (void)openClassificationDataset(path, classes);
  } catch (const Error& e) {
    return e.what();
  }
  return "(opened)";
}

}  // namespace

TEST_CASE("a folder per class: classes sorted by name, images found below them", "[datasets]") {
  const fs::path root = test::scratchDir("classification_folders") / "planes";
  touch(root / "b_plane" / "y.nii.gz");
  touch(root / "b_plane" / "notes.txt");
  touch(root / "a_plane" / "x2.PNG");
  touch(root / "a_plane" / "sub" / "x1.png");
  touch(root / "a_plane" / ".x0.png");  // hidden: skipped
  touch(root / "masks" / "a_plane" / "x2.PNG");
  fs::create_directories(root / ".cache");

  const ClassificationDataset d = openClassificationDataset(root);
  CHECK(d.layout == "folders");
  CHECK(d.classes == std::vector<std::string>{"a_plane", "b_plane"});
  REQUIRE(ids(d) ==
          std::vector<std::string>{"a_plane/sub/x1.png", "a_plane/x2.PNG", "b_plane/y.nii.gz"});
  CHECK(d.items[0].true_class == 0);
  CHECK(d.items[1].true_class == 0);
  CHECK(d.items[2].true_class == 1);
  CHECK(d.items[0].mask.empty());
  CHECK(d.items[1].mask == root / "masks" / "a_plane" / "x2.PNG");
  CHECK(d.items[2].image == fs::absolute(root / "b_plane" / "y.nii.gz"));
  for (const auto& item : d.items) CHECK(item.problem.empty());

  // The model's classes fix the indices; a folder the model lacks is a per-image problem.
  const ClassificationDataset fixed = openClassificationDataset(root, {"b_plane", "c_plane"});
  CHECK(fixed.classes == std::vector<std::string>{"b_plane", "c_plane"});
  CHECK(fixed.items[2].true_class == 0);
  CHECK(fixed.items[0].true_class == -1);
  CHECK(fixed.items[0].problem == "class folder 'a_plane' is not one of the model's classes");

  const fs::path empty = test::scratchDir("classification_empty");
  CHECK_THAT(errorOf(empty), Catch::Contains("no class folders"));
  fs::create_directories(empty / "a");
  CHECK_THAT(errorOf(empty), Catch::Contains("hold no images"));
  CHECK_THAT(errorOf(empty / "nowhere"), Catch::Contains("no such dataset"));
}

TEST_CASE("a CSV list: names or indices, splits, boxes, quoted paths, per-image problems",
          "[datasets]") {
  const fs::path dir = test::scratchDir("classification_csv");
  touch(dir / "img" / "b.png");
  touch(dir / "img" / "a, c.png");
  touch(dir / "img" / "d.png");
  touch(dir / "masks" / "img" / "b.png");
  touch(dir / "list.csv",
        "path,label,split,x0,y0,x1,y1\n"
        "img/b.png,kidney,test,1,2,10,12\n"
        "\"img/a, c.png\",abdomen,training,0,0,5.5,4\n"
        "\n"
        "img/missing.png,abdomen,test,0,0,1,1\r\n");
  const ClassificationDataset d = openClassificationDataset(dir / "list.csv");
  CHECK(d.layout == "csv");
  CHECK(d.root == fs::absolute(dir).lexically_normal());
  CHECK(d.classes == std::vector<std::string>{"abdomen", "kidney"});
  REQUIRE(ids(d) == std::vector<std::string>{"img/a, c.png", "img/b.png", "img/missing.png"});
  CHECK(d.items[0].true_class == 0);
  CHECK(d.items[0].split == "training");
  CHECK(d.items[0].box == std::array<double, 4>{0, 0, 5.5, 4});
  CHECK(d.items[1].true_class == 1);
  CHECK(d.items[1].mask == dir / "masks" / "img" / "b.png");
  CHECK(d.items[2].problem == (dir / "list.csv").string() + ":5: " +
                                  (dir / "img" / "missing.png").string() + ": no such image");

  // Whole-number labels are class indices; with the model's classes, names and indices both work.
  touch(dir / "numbers.csv", "label,path\n2,img/b.png\n0,img/d.png\n");
  const ClassificationDataset numbers = openClassificationDataset(dir / "numbers.csv");
  CHECK(numbers.classes == std::vector<std::string>{"0", "1", "2"});
  CHECK(numbers.items[0].true_class == 2);
  const ClassificationDataset named =
      openClassificationDataset(dir / "list.csv", {"kidney", "abdomen", "liver"});
  CHECK(named.items[0].true_class == 1);
  CHECK(named.items[1].true_class == 0);
  touch(dir / "unknown.csv", "path,label\nimg/b.png,spleen\nimg/d.png,1\n");
  const ClassificationDataset unknown =
      openClassificationDataset(dir / "unknown.csv", {"kidney", "abdomen"});
  CHECK_THAT(unknown.items[0].problem, Catch::Contains(":2: label 'spleen' is not a class "
                                                       "(classes: kidney, abdomen)"));
  CHECK(unknown.items[1].true_class == 1);

  // A broken CSV is a bad file: one line naming the file, the line and the problem.
  const auto bad = [&](const std::string& name, const std::string& text) {
    touch(dir / name, text);
    return errorOf(dir / name);
  };
  CHECK_THAT(bad("no_label.csv", "path,class\nimg/b.png,kidney\n"),
             Catch::Contains("no_label.csv:1: the header must name the columns path and label"));
  CHECK_THAT(bad("short.csv", "path,label\nimg/b.png\n"),
             Catch::Contains("short.csv:2: 1 field(s), the header has 2"));
  CHECK_THAT(bad("box.csv", "path,label,x0,y0,x1\nimg/b.png,a,1,2,3\n"),
             Catch::Contains("box.csv:1: a box needs all of x0, y0, x1, y1"));
  CHECK_THAT(bad("box_order.csv", "path,label,x0,y0,x1,y1\nimg/b.png,a,5,2,3,4\n"),
             Catch::Contains("box_order.csv:2: the box needs x0 < x1 and y0 < y1"));
  CHECK_THAT(bad("box_text.csv", "path,label,x0,y0,x1,y1\nimg/b.png,a,1,2,3,4cm\n"),
             Catch::Contains("box_text.csv:2: y1 '4cm' is not a number"));
  CHECK_THAT(bad("quote.csv", "path,label\n\"img/b.png,a\n"),
             Catch::Contains("quote.csv:2: an unclosed quote"));
  CHECK_THAT(bad("header_only.csv", "path,label\n"), Catch::Contains("no images listed"));
  touch(dir / "list.txt");
  CHECK_THAT(errorOf(dir / "list.txt"), Catch::Contains("a folder or a .csv file"));
}
