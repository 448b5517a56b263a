#pragma once

// The workbench on an evaluation of classifiers (docs/workbench.md#classifiers): the report, the
// image browser with its filters, the image shown with each model's gate maps and answers, and the
// pictures of the summary (confusion matrices, per-class scores, calibration). No window: the
// panels draw it, tests drive it.
#include <array>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/evaluation/saved_case.hpp"
#include "renderers/classification_plots.hpp"
#include "renderers/figures.hpp"

namespace gatescope::workbench {

// One image of the browser.
struct ClassifiedRow {
  std::string id;
  int true_class = -1;
  std::string status;                    // "ok", or the error of the image or of a model
  bool has_predictions = false;          // answers and gate maps saved: the image can be shown
  std::array<int, 2> predicted{-1, -1};  // per model; -1 without an answer (or without model B)
  std::array<double, 2> confidence{NAN, NAN};  // the probability of the predicted class
  [[nodiscard]] bool right(int model) const {
    return predicted[model] >= 0 && predicted[model] == true_class;
  }
};

// Which images the browser lists: all, those A and B answer differently, those at least one model
// gets wrong (or fails on), those A gets wrong, those B gets wrong.
enum class ClassifiedFilter { All, Disagreements, Errors, WrongA, WrongB };
enum class ClassifiedSort { Id, TrueClass, ConfidenceA, ConfidenceB };

class ClassificationSession {
 public:
  ClassificationSession() { style.attention_threshold = 0.1; }  // as render draws them
  // Reads DIR/report.json (an evaluation of classifiers); FormatError / IoError naming the file.
  // Closes the image shown.
  void open(const std::filesystem::path& evaluation);
  [[nodiscard]] bool isOpen() const { return report_.has_value(); }
  [[nodiscard]] const std::filesystem::path& evaluationDir() const { return dir_; }
  [[nodiscard]] const nlohmann::ordered_json& report() const { return *report_; }
  [[nodiscard]] int modelCount() const;
  // The class's name from the report's dataset, else "class N".
  [[nodiscard]] std::string className(int index) const;
  [[nodiscard]] int classCount() const { return static_cast<int>(class_names_.size()); }

  // Images whose id contains `text` (case-insensitive), of `true_class` (-1: any), passing
  // `filter`, sorted (NaN confidences last).
  [[nodiscard]] std::vector<ClassifiedRow> rows(const std::string& text = {},
                                                ClassifiedFilter filter = ClassifiedFilter::All,
                                                int true_class = -1,
                                                ClassifiedSort sort = ClassifiedSort::Id,
                                                bool descending = false) const;
  // What the evaluation opens on: the first image with saved predictions that A and B answer
  // differently (one model: that it gets wrong), else the first with saved predictions; empty
  // when none was saved.
  [[nodiscard]] std::string openingImage() const;

  // Reads the image, its localisation, and each model's answer and gate maps; UsageError for an
  // image the report lacks or without saved predictions. The window goes to the image's preset.
  void show(const std::string& id);
  [[nodiscard]] const SavedCase* current() const { return current_ ? &*current_ : nullptr; }

  // How the gate maps are drawn (window, colour map, opacity, threshold) and the picture of the
  // image shown: the image, then each gate of model A and of model B, with the answers.
  FigureStyle style;
  [[nodiscard]] PanelGrid imagePanels() const;  // UsageError without an image shown
  // The gate statistics the report holds for the shown image and `model` ("A" or "B"): per gate
  // (name, statistics); empty without a localisation.
  [[nodiscard]] std::vector<std::pair<std::string, nlohmann::ordered_json>> imageAttention(
      const std::string& model) const;
  // A plot of the report's summary at `dpi`.
  [[nodiscard]] RgbaImage plot(ClassificationPlotKind kind, double dpi) const;

 private:
  std::filesystem::path dir_;
  std::optional<nlohmann::ordered_json> report_;
  std::vector<std::string> class_names_;
  std::vector<ClassifiedRow> rows_;  // in the report's order
  std::optional<SavedCase> current_;
};

}  // namespace gatescope::workbench
