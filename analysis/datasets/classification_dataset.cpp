#include "analysis/datasets/classification_dataset.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <set>

#include "analysis/core/error.hpp"
#include "analysis/io/image_file.hpp"

namespace gatescope {

namespace fs = std::filesystem;

namespace {

bool isImageFile(const fs::path& p) {
  const std::string name = p.filename().string();
  const auto ends = [&](const std::string& suffix) {
    return name.size() > suffix.size() &&
           std::equal(suffix.rbegin(), suffix.rend(), name.rbegin(), [](char a, char b) {
             return a == std::tolower(static_cast<unsigned char>(b));
           });
  };
  return !name.starts_with(".") && (ends(".png") || ends(".nii") || ends(".nii.gz"));
}

std::string relativeId(const fs::path& file, const fs::path& root) {
  return file.lexically_relative(root).generic_string();
}

// The class index of `name`: its position in `fixed` when given, else in `found` (sorted).
int classIndex(const std::string& name, const std::vector<std::string>& classes) {
  const auto it = std::find(classes.begin(), classes.end(), name);
  return it == classes.end() ? -1 : static_cast<int>(it - classes.begin());
}

void attachMask(ClassificationItem& item, const fs::path& root) {
  const fs::path mask = root / "masks" / item.id;
  if (fs::is_regular_file(mask)) item.mask = mask;
}

ClassificationDataset openFolders(const fs::path& root, const std::vector<std::string>& fixed) {
  ClassificationDataset d;
  d.root = fs::absolute(root).lexically_normal();
  d.layout = "folders";
  std::vector<std::string> folders;
  for (const auto& entry : fs::directory_iterator(d.root)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && name != "masks" && !name.starts_with(".")) folders.push_back(name);
  }
  std::sort(folders.begin(), folders.end());
  if (folders.empty())
    throw UsageError(d.root.string() +
                     ": not a classification dataset (no class folders, no CSV file)");
  d.classes = fixed.empty() ? folders : fixed;
  for (const std::string& folder : folders) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(d.root / folder))
      if (entry.is_regular_file() && isImageFile(entry.path())) files.push_back(entry.path());
    for (const fs::path& file : files) {
      ClassificationItem item;
      item.image = file;
      item.id = relativeId(file, d.root);
      item.true_class = classIndex(folder, d.classes);
      if (item.true_class < 0)
        item.problem = fmt::format("class folder '{}' is not one of the model's classes", folder);
      attachMask(item, d.root);
      d.items.push_back(std::move(item));
    }
  }
  if (d.items.empty())
    throw UsageError(d.root.string() + ": the class folders hold no images (.png, .nii, .nii.gz)");
  std::sort(d.items.begin(), d.items.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  return d;
}

// One CSV record: fields separated by commas, a field in double quotes may hold commas and ""
// for a quote.
std::vector<std::string> csvFields(const std::string& line, bool& ok) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  ok = true;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"' && fields.back().empty()) {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  if (quoted) ok = false;
  for (auto& f : fields) {
    const auto first = f.find_first_not_of(" \t"), last = f.find_last_not_of(" \t");
    f = first == std::string::npos ? "" : f.substr(first, last - first + 1);
  }
  return fields;
}

bool isWholeNumber(const std::string& s) {
  return !s.empty() && s.size() < 7 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

ClassificationDataset openCsv(const fs::path& file, const std::vector<std::string>& fixed) {
  const fs::path csv = fs::absolute(file).lexically_normal();
  std::ifstream in(csv);
  if (!in) throw UsageError(csv.string() + ": cannot read the file");
  ClassificationDataset d;
  d.root = csv.parent_path();
  d.layout = "csv";
  std::string line;
  int number = 0;
  std::map<std::string, size_t> column;
  struct Row {
    int line;
    std::vector<std::string> fields;
  };
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    bool ok = true;
    auto fields = csvFields(line, ok);
    if (!ok) throw FormatError(fmt::format("{}:{}: an unclosed quote", csv.string(), number));
    if (column.empty()) {
      for (size_t c = 0; c < fields.size(); ++c) column[fields[c]] = c;
      if (!column.count("path") || !column.count("label"))
        throw FormatError(fmt::format(
            "{}:{}: the header must name the columns path and label (and optionally split, "
            "x0, y0, x1, y1)",
            csv.string(), number));
      const int boxes = static_cast<int>(column.count("x0") + column.count("y0") +
                                         column.count("x1") + column.count("y1"));
      if (boxes != 0 && boxes != 4)
        throw FormatError(
            fmt::format("{}:{}: a box needs all of x0, y0, x1, y1", csv.string(), number));
      if (column.size() != fields.size())
        throw FormatError(fmt::format("{}:{}: a column name appears twice", csv.string(), number));
      continue;
    }
    if (fields.size() != column.size())
      throw FormatError(fmt::format("{}:{}: {} field(s), the header has {}", csv.string(), number,
                                    fields.size(), column.size()));
    rows.push_back({number, std::move(fields)});
  }
  if (column.empty() || rows.empty()) throw UsageError(csv.string() + ": no images listed");
  const auto field = [&](const Row& r, const char* name) { return r.fields[column.at(name)]; };

  d.classes = fixed;
  if (d.classes.empty()) {
    std::set<std::string> labels;
    bool numeric = true;
    for (const Row& r : rows) {
      labels.insert(field(r, "label"));
      numeric = numeric && isWholeNumber(field(r, "label"));
    }
    if (numeric) {
      int largest = 0;
      for (const auto& l : labels) largest = std::max(largest, std::stoi(l));
      for (int c = 0; c <= largest; ++c) d.classes.push_back(std::to_string(c));
    } else {
      d.classes.assign(labels.begin(), labels.end());
    }
  }
  for (const Row& r : rows) {
    ClassificationItem item;
    const std::string path = field(r, "path");
    if (path.empty()) throw FormatError(fmt::format("{}:{}: an empty path", csv.string(), r.line));
    item.image = (d.root / path).lexically_normal();
    item.id = relativeId(item.image, d.root);
    const std::string label = field(r, "label");
    item.true_class = classIndex(label, d.classes);
    if (item.true_class < 0 && isWholeNumber(label) && fixed.size() > 0 &&
        std::stoi(label) < static_cast<int>(fixed.size()))
      item.true_class = std::stoi(label);  // an index into the model's classes
    if (column.count("split")) item.split = field(r, "split");
    if (column.count("x0")) {
      std::array<double, 4> box{};
      const char* names[] = {"x0", "y0", "x1", "y1"};
      for (int k = 0; k < 4; ++k) {
        try {
          size_t used = 0;
          box[k] = std::stod(field(r, names[k]), &used);
          if (used != field(r, names[k]).size()) throw std::invalid_argument("trailing");
        } catch (const std::exception&) {
          throw FormatError(fmt::format("{}:{}: {} '{}' is not a number", csv.string(), r.line,
                                        names[k], field(r, names[k])));
        }
      }
      if (!(box[0] < box[2] && box[1] < box[3]))
        throw FormatError(
            fmt::format("{}:{}: the box needs x0 < x1 and y0 < y1", csv.string(), r.line));
      item.box = box;
    }
    if (item.true_class < 0)
      item.problem = fmt::format("{}:{}: label '{}' is not a class (classes: {})", csv.string(),
                                 r.line, label, fmt::join(d.classes, ", "));
    else if (!fs::is_regular_file(item.image))
      item.problem =
          fmt::format("{}:{}: {}: no such image", csv.string(), r.line, item.image.string());
    attachMask(item, d.root);
    d.items.push_back(std::move(item));
  }
  std::stable_sort(d.items.begin(), d.items.end(),
                   [](const auto& a, const auto& b) { return a.id < b.id; });
  return d;
}

}  // namespace

ClassificationDataset openClassificationDataset(const fs::path& path,
                                                const std::vector<std::string>& classes) {
  if (fs::is_regular_file(path)) {
    if (path.extension() != ".csv")
      throw UsageError(path.string() + ": a classification dataset is a folder or a .csv file");
    return openCsv(path, classes);
  }
  if (!fs::is_directory(path)) throw UsageError(path.string() + ": no such dataset");
  return openFolders(path, classes);
}

std::optional<Volume<uint8_t>> readLocalisation(const fs::path& mask,
                                                const std::optional<std::array<double, 4>>& box,
                                                const Geometry& grid) {
  if (!mask.empty()) {
    const Volume<float> values = toFloatVolume(readImage(mask));
    if (values.dims() != grid.dims)
      throw GeometryError(fmt::format("{}: the mask is {}x{}, the image {}x{}", mask.string(),
                                      values.dims()[0], values.dims()[1], grid.dims[0],
                                      grid.dims[1]));
    Volume<uint8_t> inside(grid);
    for (int64_t v = 0; v < inside.size(); ++v) inside.data()[v] = values.data()[v] != 0.0f;
    return inside;
  }
  if (box) {
    // Pixel (i, j) is inside when its centre lies in [x0, x1) x [y0, y1).
    const auto& [x0, y0, x1, y1] = *box;
    Volume<uint8_t> inside(grid);
    for (int64_t j = 0; j < grid.dims[1]; ++j)
      for (int64_t i = 0; i < grid.dims[0]; ++i) {
        const double x = static_cast<double>(i) + 0.5, y = static_cast<double>(j) + 0.5;
        inside(i, j, 0) = x >= x0 && x < x1 && y >= y0 && y < y1;
      }
    return inside;
  }
  return std::nullopt;
}

}  // namespace gatescope
