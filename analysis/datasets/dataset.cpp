#include "analysis/datasets/dataset.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <iterator>
#include <nlohmann/json.hpp>

#include "analysis/core/error.hpp"
#include "analysis/io/file_util.hpp"
#include "analysis/io/image_file.hpp"
#include "analysis/io/json_file.hpp"

namespace gatescope {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr const char* kTraining = "training";
constexpr const char* kTest = "test";
constexpr const char* kExpectedLayouts =
    "expected a folder with dataset.json (Medical Segmentation Decathlon / nnU-Net), a "
    "dataset.json file, or a folder with images/ and labels/";

bool fileExists(const fs::path& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

bool isFolder(const fs::path& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

DatasetCase newCase(std::string id, const char* split) {
  DatasetCase c;
  c.id = std::move(id);
  c.split = split;
  return c;
}

void addProblem(DatasetCase& c, const std::string& problem) {
  c.problem += (c.problem.empty() ? "" : "; ") + problem;
}

// "la_003.nii.gz" -> case id "la_003", ending ".nii.gz".
struct FileName {
  std::string id;
  std::string ending;
};

FileName splitFileName(const fs::path& path) {
  const std::string id = stripImageExtension(path);
  return {id, path.filename().string().substr(id.size())};
}

// nnU-Net's channel files: "<id>_0001" is channel 1 of case <id>.
struct ChannelName {
  std::string id;
  int channel = 0;
};

std::optional<ChannelName> channelSuffix(const std::string& name) {
  constexpr size_t kDigits = 4;
  if (name.size() < kDigits + 2 || name[name.size() - kDigits - 1] != '_') return std::nullopt;
  ChannelName parsed{name.substr(0, name.size() - kDigits - 1)};
  const char* digits = name.data() + name.size() - kDigits;
  const auto [end, ec] = std::from_chars(digits, digits + kDigits, parsed.channel);
  if (ec != std::errc() || end != digits + kDigits || parsed.channel < 0) return std::nullopt;
  return parsed;
}

std::string channelFileName(const std::string& id, int channel, const std::string& ending) {
  return fmt::format("{}_{:04d}{}", id, channel, ending);
}

// Image files directly in `folder` (ending in `ending`, or any supported one when empty), sorted.
// Hidden files are skipped: MSD archives carry macOS "._<name>.nii.gz" resource forks.
std::vector<fs::path> imageFilesIn(const fs::path& folder, const std::string& ending = {}) {
  std::vector<fs::path> files;
  if (!isFolder(folder)) return files;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& path = it->path();
    std::error_code entry_error;  // a dangling link is skipped, not the end of the listing
    if (path.filename().string().starts_with('.') || it->is_directory(entry_error)) continue;
    if (ending.empty() ? isSupportedImageName(path) : hasExtension(path, ending))
      files.push_back(path);
  }
  if (ec)
    throw IoError(fmt::format("{}: cannot list the folder: {}", folder.string(), ec.message()));
  std::sort(files.begin(), files.end());
  return files;
}

// The image files of one case as found in a folder.
struct CaseFiles {
  std::map<int, fs::path> channel_files;  // <id>_0000, <id>_0001, ...
  std::vector<fs::path> whole_files;      // <id>: every channel in one file
  std::string ending;
};

std::map<std::string, CaseFiles> groupByCase(const std::vector<fs::path>& files,
                                             bool channel_suffixes) {
  std::map<std::string, CaseFiles> cases;
  for (const fs::path& path : files) {
    const FileName name = splitFileName(path);
    const auto channel = channel_suffixes ? channelSuffix(name.id) : std::nullopt;
    CaseFiles& entry = cases[channel ? channel->id : name.id];
    if (entry.ending.empty()) entry.ending = name.ending;
    if (channel)
      entry.channel_files[channel->channel] = path;
    else
      entry.whole_files.push_back(path);
  }
  return cases;
}

DatasetCase caseFromFiles(const std::string& id, const CaseFiles& files, const fs::path& folder,
                          int channels, const char* split) {
  DatasetCase c = newCase(id, split);
  const size_t kinds = files.whole_files.size() + (files.channel_files.empty() ? 0 : 1);
  if (kinds > 1) {
    std::string names;
    for (const auto& f : files.whole_files) names += " " + f.filename().string();
    for (const auto& [channel, f] : files.channel_files) names += " " + f.filename().string();
    addProblem(c,
               fmt::format("{}: several image files for case {}:{}", folder.string(), id, names));
  }
  if (files.channel_files.empty()) {
    c.images = {files.whole_files.front()};
    return c;
  }
  for (int channel = 0; channel < channels; ++channel) {
    const auto found = files.channel_files.find(channel);
    const fs::path path = found != files.channel_files.end()
                              ? found->second
                              : folder / channelFileName(id, channel, files.ending);
    if (found == files.channel_files.end()) addProblem(c, "missing channel file " + path.string());
    c.images.push_back(path);
  }
  for (auto it = files.channel_files.lower_bound(channels); it != files.channel_files.end(); ++it)
    addProblem(c, fmt::format("unexpected channel file {} (the dataset has {} channel(s))",
                              it->second.string(), channels));
  return c;
}

// --- dataset.json ---

[[noreturn]] void wrongType(const std::string& source, const std::string& what, const json& value,
                            std::string_view expected) {
  throw FormatError(
      fmt::format("{}: {} must be {}, not {}", source, what, expected, jsonExcerpt(value)));
}

std::string stringField(const json& j, const char* key, const std::string& fallback,
                        const std::string& source) {
  if (!j.contains(key)) return fallback;
  if (!j.at(key).is_string()) wrongType(source, fmt::format("\"{}\"", key), j.at(key), "a string");
  return j.at(key).get<std::string>();
}

// MSD: {"0": "background", "1": "liver"}; nnU-Net v2: {"background": 0, "liver": 1}.
std::map<int, std::string> parseLabels(const json& j, const std::string& source) {
  std::map<int, std::string> labels;
  if (!j.contains("labels")) return labels;
  const json& entries = j.at("labels");
  if (!entries.is_object())
    wrongType(source, "\"labels\"", entries, "an object of label values and names");
  for (const auto& [key, value] : entries.items()) {
    int label = 0;
    std::string name;
    if (value.is_string()) {
      const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), label);
      if (ec != std::errc() || end != key.data() + key.size())
        throw FormatError(fmt::format(
            "{}: labels: \"{}\" is not a label value (MSD maps \"1\": \"name\")", source, key));
      name = value.get<std::string>();
    } else if (value.is_number_integer()) {
      label = static_cast<int>(jsonInteger(value, 0, 255, "labels." + key, source));
      name = key;
    } else if (value.is_array()) {
      throw UsageError(fmt::format(
          "{}: labels: \"{}\": {} is a region (nnU-Net region-based training); gatescope needs one "
          "label value per class",
          source, key, jsonExcerpt(value)));
    } else {
      wrongType(source, fmt::format("labels: \"{}\"", key), value, "a label name or value");
    }
    if (!labels.emplace(label, name).second)
      throw FormatError(fmt::format("{}: labels: value {} is named twice (\"{}\" and \"{}\")",
                                    source, label, labels.at(label), name));
  }
  return labels;
}

int channelCount(const json& j, const std::string& source) {
  for (const char* key : {"channel_names", "modality"}) {
    if (!j.contains(key)) continue;
    const json& names = j.at(key);
    if (!names.is_object() || names.empty())
      wrongType(source, fmt::format("\"{}\"", key), names, "an object naming each input channel");
    return static_cast<int>(names.size());
  }
  return 1;
}

std::string fileEnding(const json& j, const std::string& source) {
  const std::string ending = stringField(j, "file_ending", ".nii.gz", source);
  if (!isSupportedImageName("case" + ending))
    throw UsageError(
        fmt::format("{}: file_ending \"{}\" is not supported (gatescope reads .nii, "
                    ".nii.gz, .png, .nrrd, .nhdr, .mha, .mhd and .dcm)",
                    source, ending));
  return ending;
}

struct DatasetJson {
  fs::path root;
  std::string source;  // the dataset.json path, for messages
  int channels = 1;
  std::string ending;
};

std::vector<fs::path> listedPaths(const DatasetJson& d, const json& value,
                                  const std::string& what) {
  std::vector<fs::path> paths;
  if (value.is_string()) paths.push_back(value.get<std::string>());
  if (value.is_array())
    for (const json& item : value) {
      if (!item.is_string())
        wrongType(d.source, what, value, "a file name or a list of file names");
      paths.push_back(item.get<std::string>());
    }
  if (paths.empty()) wrongType(d.source, what, value, "a file name or a list of file names");
  for (fs::path& p : paths) p = (d.root / p).lexically_normal();
  return paths;
}

// A listed image that is absent while <id>_0000<ending> lies beside it is nnU-Net v1's way of
// listing channel files.
std::vector<fs::path> resolveListedImage(DatasetCase& c, const fs::path& listed, int channels) {
  if (fileExists(listed)) return {listed};
  const FileName name = splitFileName(listed);
  if (!fileExists(listed.parent_path() / channelFileName(name.id, 0, name.ending))) {
    addProblem(c, "image file " + listed.string() + " does not exist");
    return {listed};
  }
  std::vector<fs::path> files;
  for (int channel = 0; channel < channels; ++channel) {
    files.push_back(listed.parent_path() / channelFileName(name.id, channel, name.ending));
    if (!fileExists(files.back())) addProblem(c, "missing channel file " + files.back().string());
  }
  return files;
}

// imagesTr/x.nii.gz -> labelsTr/x.nii.gz, imagesTs/x.nii.gz -> labelsTs/x.nii.gz.
std::optional<fs::path> conventionalLabel(const fs::path& image) {
  const std::string folder = image.parent_path().filename().string();
  if (!folder.starts_with("images")) return std::nullopt;
  fs::path label =
      image.parent_path().parent_path() / ("labels" + folder.substr(6)) / image.filename();
  if (!fileExists(label)) return std::nullopt;
  return label;
}

// MSD and nnU-Net v1: "./imagesTr/x.nii.gz" or {"image": ..., "label": ...}; nnU-Net v2's
// "dataset" entries name their files "images".
DatasetCase listedCase(const DatasetJson& d, const json& entry, const std::string& what,
                       const char* split, const std::string& image_key = "image") {
  if (!entry.is_string() && !entry.is_object())
    wrongType(d.source, what, entry,
              fmt::format("an image file name or {{\"{}\": ..., \"label\": ...}}", image_key));
  if (entry.is_object() && !entry.contains(image_key))
    throw FormatError(fmt::format("{}: {} has no \"{}\"", d.source, what, image_key));
  const std::vector<fs::path> listed =
      listedPaths(d, entry.is_string() ? entry : entry.at(image_key), what + "." + image_key);
  DatasetCase c = newCase(splitFileName(listed.front()).id, split);
  if (listed.size() == 1) {
    c.images = resolveListedImage(c, listed.front(), d.channels);
  } else {
    c.images = listed;
    for (const fs::path& p : listed)
      if (!fileExists(p)) addProblem(c, "image file " + p.string() + " does not exist");
  }
  if (entry.is_object() && entry.contains("label")) {
    const json& label = entry.at("label");
    if (!label.is_string()) wrongType(d.source, what + ".label", label, "a file name");
    const fs::path path = (d.root / label.get<std::string>()).lexically_normal();
    if (fileExists(path))
      c.reference = path;
    else
      addProblem(c, "label file " + path.string() + " does not exist");
  } else {
    c.reference = conventionalLabel(listed.front());
  }
  return c;
}

std::vector<DatasetCase> listedCases(const DatasetJson& d, const json& list, const char* split) {
  if (!list.is_array()) wrongType(d.source, fmt::format("\"{}\"", split), list, "a list of cases");
  std::vector<DatasetCase> cases;
  std::map<std::string, size_t> seen;
  for (size_t n = 0; n < list.size(); ++n) {
    cases.push_back(listedCase(d, list[n], fmt::format("{}[{}]", split, n), split));
    if (const auto [it, inserted] = seen.emplace(cases.back().id, n); !inserted)
      throw FormatError(fmt::format("{}: {}[{}] and {}[{}] are both case {}", d.source, split,
                                    it->second, split, n, cases.back().id));
  }
  return cases;
}

// nnU-Net v2's optional file lists: "dataset": {"<id>": {"images": [...], "label": ...}}.
std::vector<DatasetCase> datasetEntryCases(const DatasetJson& d, const json& entries) {
  if (!entries.is_object())
    wrongType(d.source, "\"dataset\"", entries, "an object of case ids and their files");
  std::vector<DatasetCase> cases;
  for (const auto& [id, entry] : entries.items()) {
    cases.push_back(listedCase(d, entry, "dataset." + id, kTraining, "images"));
    cases.back().id = id;
  }
  return cases;
}

// Otherwise nnU-Net v2 lists no cases: imagesTr/<id>_0000<ending>, ... and labelsTr/<id><ending>.
std::vector<DatasetCase> scannedCases(const DatasetJson& d, const std::string& suffix,
                                      const char* split, bool labels_required) {
  const fs::path images = d.root / ("images" + suffix);
  const fs::path labels = d.root / ("labels" + suffix);
  std::vector<DatasetCase> cases;
  for (const auto& [id, files] : groupByCase(imageFilesIn(images, d.ending), true)) {
    DatasetCase c = caseFromFiles(id, files, images, d.channels, split);
    const fs::path label = labels / (id + d.ending);
    if (fileExists(label))
      c.reference = label;
    else if (labels_required)
      addProblem(c, "no label file " + label.string());
    cases.push_back(std::move(c));
  }
  return cases;
}

std::string folderName(const fs::path& root) {
  const fs::path absolute = fs::absolute(root).lexically_normal();
  return absolute.has_filename() ? absolute.filename().string()
                                 : absolute.parent_path().filename().string();
}

Dataset openDatasetJson(const fs::path& json_path) {
  const json j = readJsonFile(json_path, "dataset description");
  DatasetJson d;
  d.root = json_path.parent_path().empty() ? fs::path(".") : json_path.parent_path();
  d.source = json_path.string();
  if (!j.is_object()) wrongType(d.source, "dataset.json", j, "a JSON object");
  Dataset dataset;
  dataset.root = d.root;
  dataset.layout = "msd";
  dataset.name = stringField(j, "name", folderName(d.root), d.source);
  dataset.labels = parseLabels(j, d.source);
  dataset.channels = d.channels = channelCount(j, d.source);
  d.ending = fileEnding(j, d.source);

  if (j.contains(kTraining))
    dataset.cases = listedCases(d, j.at(kTraining), kTraining);
  else if (j.contains("dataset"))
    dataset.cases = datasetEntryCases(d, j.at("dataset"));
  else if (isFolder(d.root / "imagesTr"))
    dataset.cases = scannedCases(d, "Tr", kTraining, true);
  else
    throw FormatError(d.source +
                      ": no \"training\" or \"dataset\" list, and no imagesTr/ folder beside it");

  std::vector<DatasetCase> test =
      j.contains(kTest) ? listedCases(d, j.at(kTest), kTest) : scannedCases(d, "Ts", kTest, false);
  std::move(test.begin(), test.end(), std::back_inserter(dataset.cases));
  return dataset;
}

// --- images/ + labels/ ---

Dataset openFolders(const fs::path& root) {
  const fs::path images_folder = root / "images";
  const fs::path labels_folder = root / "labels";
  const std::vector<fs::path> images = imageFilesIn(images_folder);
  std::map<std::string, std::vector<fs::path>> labels;
  for (const fs::path& path : imageFilesIn(labels_folder))
    labels[splitFileName(path).id].push_back(path);

  // "<id>_0000" names channel files only when no label file carries that full name; otherwise
  // the suffix is part of the case id (slice_0000.png with labels/slice_0000.png).
  const bool channel_suffixes =
      !images.empty() && std::all_of(images.begin(), images.end(), [&](const fs::path& p) {
        const std::string id = splitFileName(p).id;
        return channelSuffix(id) && !labels.contains(id);
      });
  const std::map<std::string, CaseFiles> groups = groupByCase(images, channel_suffixes);

  Dataset dataset;
  dataset.root = root;
  dataset.layout = "folders";
  dataset.name = folderName(root);
  for (const auto& [id, files] : groups)
    if (!files.channel_files.empty())
      dataset.channels = std::max(dataset.channels, files.channel_files.rbegin()->first + 1);

  for (const auto& [id, files] : groups) {
    DatasetCase c = caseFromFiles(id, files, images_folder, dataset.channels, kTraining);
    const auto found = labels.find(id);
    if (found == labels.end()) {
      addProblem(c, "no label file " + (labels_folder / (id + files.ending)).string());
    } else if (found->second.size() > 1) {
      addProblem(c, fmt::format("several label files for case {}: {} and {}", id,
                                found->second[0].string(), found->second[1].string()));
    } else {
      c.reference = found->second.front();
    }
    dataset.cases.push_back(std::move(c));
  }
  for (const auto& [id, files] : labels) {
    if (groups.contains(id)) continue;
    DatasetCase c = newCase(id, kTraining);
    c.reference = files.front();
    addProblem(c, fmt::format("{}: no image file for this label in {}", files.front().string(),
                              images_folder.string()));
    dataset.cases.push_back(std::move(c));
  }
  return dataset;
}

std::string splitCounts(const Dataset& dataset) {
  std::map<std::string, int> counts{{kTraining, 0}, {kTest, 0}};
  for (const DatasetCase& c : dataset.cases) ++counts[c.split];
  return fmt::format("training: {} case(s), test: {} case(s)", counts[kTraining], counts[kTest]);
}

}  // namespace

Dataset openDataset(const fs::path& given) {
  if (!fileExists(given)) throw UsageError(given.string() + ": no such file or folder");
  // "./data/Task01/" and "data/Task01" name the same cases with the same paths.
  fs::path path = given.lexically_normal();
  if (!path.has_filename() && path.has_relative_path()) path = path.parent_path();
  Dataset dataset;
  if (!isFolder(path)) {
    if (!hasExtension(path, ".json"))
      throw UsageError(fmt::format("{}: not a dataset: {}", path.string(), kExpectedLayouts));
    dataset = openDatasetJson(path);
  } else if (fileExists(path / "dataset.json")) {
    dataset = openDatasetJson(path / "dataset.json");
  } else if (isFolder(path / "images")) {
    dataset = openFolders(path);
  } else {
    const char* hint =
        isFolder(path / "imagesTr") ? " (imagesTr/ is there but dataset.json is missing)" : "";
    throw UsageError(fmt::format("{}: not a dataset{}: {}", path.string(), hint, kExpectedLayouts));
  }
  if (dataset.cases.empty())
    throw UsageError(fmt::format("{}: the dataset has no cases",
                                 dataset.layout == "folders"
                                     ? dataset.root.string()
                                     : (dataset.root / "dataset.json").string()));
  std::sort(dataset.cases.begin(), dataset.cases.end(),
            [](const DatasetCase& a, const DatasetCase& b) {
              if (a.split != b.split) return a.split == kTraining;
              return a.id < b.id;
            });
  return dataset;
}

std::string resolveSplit(const Dataset& dataset, const std::string& split) {
  if (split == kTraining || split == kTest || split == "all") return split;
  if (split != "auto")
    throw UsageError(
        fmt::format("unknown split \"{}\" (expected training, test, all or auto)", split));
  const auto any = [&](auto&& predicate) {
    return std::any_of(dataset.cases.begin(), dataset.cases.end(), predicate);
  };
  if (any([](const DatasetCase& c) { return c.split == kTest && c.reference; })) return kTest;
  if (any([](const DatasetCase& c) { return c.split == kTraining; })) return kTraining;
  return kTest;
}

std::vector<DatasetCase> selectSplit(const Dataset& dataset, const std::string& split) {
  const std::string resolved = resolveSplit(dataset, split);
  std::vector<DatasetCase> cases;
  std::copy_if(dataset.cases.begin(), dataset.cases.end(), std::back_inserter(cases),
               [&](const DatasetCase& c) { return resolved == "all" || c.split == resolved; });
  if (cases.empty())
    throw UsageError(fmt::format("{}: the {} split has no cases ({})", dataset.root.string(),
                                 resolved, splitCounts(dataset)));
  return cases;
}

Image readCaseImage(const DatasetCase& c) {
  if (c.images.empty())
    throw IoError(c.problem.empty() ? fmt::format("case {} has no image file", c.id) : c.problem);
  std::vector<Image> files;
  int64_t channels = 0;
  for (const fs::path& path : c.images) {
    files.push_back(readImage(path));
    const Geometry& first = files.front().geometry();
    const Geometry& next = files.back().geometry();
    if (!next.sameGrid(first))
      throw GeometryError(
          fmt::format("{} and {}: channel files of case {} lie on different grids: {}",
                      c.images.front().string(), path.string(), c.id, first.difference(next)));
    channels += files.back().channels();
  }
  if (files.size() == 1) return std::move(files.front());

  Volume<float> combined(files.front().geometry(), channels);
  int64_t channel = 0;
  for (Image& file : files) {
    const Volume<float> values = toFloatVolume(file);
    file.voxels = Volume<uint8_t>();
    for (int64_t n = 0; n < values.channels(); ++n, ++channel)
      std::copy(values.channel(n).begin(), values.channel(n).end(),
                combined.channel(channel).begin());
  }
  Image image = makeImage(std::move(combined), files.front().header.format);
  image.header.qform_code = files.front().header.qform_code;
  image.header.sform_code = files.front().header.sform_code;
  return image;
}

Volume<int32_t> readCaseReference(const DatasetCase& c, const Geometry& image_geometry) {
  if (!c.reference) throw Error(fmt::format("case {} has no reference labels", c.id));
  const std::string source = c.reference->string();
  Volume<int32_t> labels = toLabelVolume(readImage(*c.reference), source);
  if (labels.channels() != 1)
    throw FormatError(fmt::format("{}: a label image has one channel, this one has {}", source,
                                  labels.channels()));
  if (!labels.geometry().sameGrid(image_geometry))
    throw GeometryError(
        fmt::format("{}: the reference labels of case {} do not lie on the image grid: {}", source,
                    c.id, labels.geometry().difference(image_geometry)));
  return labels;
}

}  // namespace gatescope
