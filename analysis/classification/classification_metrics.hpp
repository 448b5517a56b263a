#pragma once

// Classification metrics of one model over a set of images, and the paired comparison of two
// models on the same images (docs/classification.md). Definitions and zero-division rules are
// scikit-learn 1.2's with zero_division=0 and labels = every class of the model (0..K-1); McNemar's
// test is statsmodels' mcnemar. Bootstrap intervals: stats/paired.hpp's bootstrapInterval.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

namespace gatescope {

struct ClassMetrics {
  int64_t support = 0;  // images of this true class
  double precision = 0, recall = 0, f1 = 0;
  double roc_auc = 0;  // one-vs-rest; NaN when the class has no positive or no negative image
};

// Top-label calibration (a reliability diagram's data): the images binned by the probability of
// their predicted class into kCalibrationBins equal widths ([0, 0.1), ..., [0.9, 1]); per bin the
// count, the mean of that probability and the accuracy (NaN for an empty bin); and the expected
// calibration error, sum over bins of count / n * |accuracy - mean probability|.
inline constexpr int kCalibrationBins = 10;
struct Calibration {
  std::vector<int64_t> count;
  std::vector<double> confidence, accuracy;
  double ece = 0;
};

struct ClassificationMetrics {
  int64_t n = 0;
  double accuracy = 0;
  double balanced_accuracy = 0;  // mean recall over the classes that occur as a true class
  std::vector<ClassMetrics> per_class;
  double macro_precision = 0, macro_recall = 0, macro_f1 = 0;           // over all K classes
  double weighted_precision = 0, weighted_recall = 0, weighted_f1 = 0;  // weighted by support
  std::vector<std::vector<int64_t>> confusion;                          // [true][predicted], K x K
  double top1_accuracy = 0, top3_accuracy = 0;  // the true class among the k most probable
  double macro_roc_auc = 0;                     // mean over the classes whose AUC is defined
  double cohen_kappa = 0;                       // NaN when chance agreement is 1
  double log_loss = 0;                          // probabilities clipped to [eps, 1 - eps]
  Calibration calibration;
};

// `truth` and `predicted` are class indices in [0, K); `probabilities` one row of K per image (the
// model's aggregated probabilities). UsageError for empty input, mismatched lengths or an index
// outside [0, K).
[[nodiscard]] ClassificationMetrics classificationMetrics(
    const std::vector<int>& truth, const std::vector<int>& predicted,
    const std::vector<std::vector<double>>& probabilities, int classes);
[[nodiscard]] nlohmann::ordered_json toJson(const ClassificationMetrics& m);

struct McNemarResult {
  int64_t only_a = 0;  // images A classified correctly and B not
  int64_t only_b = 0;
  double statistic = 0;  // exact: min(only_a, only_b); else the continuity-corrected chi-square
  double p_value = 1;
  bool exact = true;  // exact binomial below 25 discordant pairs
};

// McNemar's test on the two models' correctness per image (same length).
[[nodiscard]] McNemarResult mcNemar(const std::vector<bool>& a_correct,
                                    const std::vector<bool>& b_correct);

}  // namespace gatescope
