#include "analysis/classification/classification_metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "analysis/core/error.hpp"

namespace gatescope {

namespace {

Calibration calibrationOf(const std::vector<int>& truth, const std::vector<int>& predicted,
                          const std::vector<std::vector<double>>& probabilities) {
  Calibration c;
  c.count.assign(kCalibrationBins, 0);
  std::vector<double> confidence(kCalibrationBins, 0.0), correct(kCalibrationBins, 0.0);
  for (size_t i = 0; i < truth.size(); ++i) {
    const double p = probabilities[i][static_cast<size_t>(predicted[i])];
    const auto bin = static_cast<size_t>(
        std::clamp(static_cast<int>(p * kCalibrationBins), 0, kCalibrationBins - 1));
    ++c.count[bin];
    confidence[bin] += p;
    correct[bin] += predicted[i] == truth[i] ? 1.0 : 0.0;
  }
  const auto n = static_cast<double>(truth.size());
  for (size_t b = 0; b < static_cast<size_t>(kCalibrationBins); ++b) {
    const auto count = static_cast<double>(c.count[b]);
    c.confidence.push_back(count > 0 ? confidence[b] / count : std::nan(""));
    c.accuracy.push_back(count > 0 ? correct[b] / count : std::nan(""));
    if (count > 0) c.ece += count / n * std::abs(c.accuracy[b] - c.confidence[b]);
  }
  return c;
}

// NaN as JSON null.
nlohmann::ordered_json numbers(const std::vector<double>& values) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const double v : values)
    out.push_back(std::isfinite(v) ? nlohmann::ordered_json(v) : nullptr);
  return out;
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double ratio(double numerator, double denominator) {
  return denominator > 0 ? numerator / denominator : 0.0;  // zero_division=0
}

// The area under the ROC curve of `scores` for the positives: the Mann-Whitney U over n_pos *
// n_neg, tied scores counting one half (what the trapezoidal ROC area gives). NaN without
// positives or negatives.
double rocAuc(const std::vector<double>& scores, const std::vector<bool>& positive) {
  const size_t n = scores.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  double rank_sum = 0;
  int64_t positives = 0;
  for (size_t start = 0; start < n;) {
    size_t end = start;
    while (end < n && scores[order[end]] == scores[order[start]]) ++end;
    const double average_rank = (static_cast<double>(start + end) + 1.0) / 2.0;  // 1-based
    for (size_t k = start; k < end; ++k)
      if (positive[order[k]]) rank_sum += average_rank, ++positives;
    start = end;
  }
  const auto negatives = static_cast<int64_t>(n) - positives;
  if (positives == 0 || negatives == 0) return kNaN;
  const auto p = static_cast<double>(positives);
  return (rank_sum - p * (p + 1.0) / 2.0) / (p * static_cast<double>(negatives));
}

// Whether the true class is among the k highest scores: a class ranks above another when its
// score is higher or, tied, its index is (scikit-learn's stable sort, reversed). Two classes:
// scikit-learn scores class 1 alone - top-1 is score > 0.5, any k >= 2 is a hit.
bool inTopK(const std::vector<double>& row, int truth, int k) {
  if (row.size() == 2) return k >= 2 || (row[1] > 0.5 ? 1 : 0) == truth;
  int above = 0;
  const auto t = static_cast<size_t>(truth);
  for (size_t c = 0; c < row.size(); ++c)
    if (row[c] > row[t] || (row[c] == row[t] && c > t)) ++above;
  return above < k;
}

}  // namespace

ClassificationMetrics classificationMetrics(const std::vector<int>& truth,
                                            const std::vector<int>& predicted,
                                            const std::vector<std::vector<double>>& probabilities,
                                            int classes) {
  const size_t n = truth.size();
  if (n == 0) throw UsageError("classification metrics need at least one image");
  if (predicted.size() != n || probabilities.size() != n)
    throw UsageError(
        "classification metrics: one true class, prediction and probability row per "
        "image");
  if (classes < 2) throw UsageError("classification metrics need at least two classes");
  const auto K = static_cast<size_t>(classes);
  for (size_t i = 0; i < n; ++i) {
    if (truth[i] < 0 || truth[i] >= classes || predicted[i] < 0 || predicted[i] >= classes)
      throw UsageError(
          fmt::format("classification metrics: image {}: class outside 0..{}", i, classes - 1));
    if (probabilities[i].size() != K)
      throw UsageError(
          fmt::format("classification metrics: image {}: {} probabilities for {} "
                      "classes",
                      i, probabilities[i].size(), classes));
  }
  ClassificationMetrics m;
  m.n = static_cast<int64_t>(n);
  m.confusion.assign(K, std::vector<int64_t>(K, 0));
  for (size_t i = 0; i < n; ++i)
    ++m.confusion[static_cast<size_t>(truth[i])][static_cast<size_t>(predicted[i])];

  std::vector<int64_t> row_sum(K, 0), column_sum(K, 0);
  int64_t correct = 0;
  for (size_t t = 0; t < K; ++t)
    for (size_t p = 0; p < K; ++p) {
      row_sum[t] += m.confusion[t][p];
      column_sum[p] += m.confusion[t][p];
      if (t == p) correct += m.confusion[t][p];
    }
  const auto total = static_cast<double>(n);
  m.accuracy = static_cast<double>(correct) / total;

  m.per_class.resize(K);
  double recall_sum = 0;
  int present = 0;
  for (size_t c = 0; c < K; ++c) {
    ClassMetrics& pc = m.per_class[c];
    const auto tp = static_cast<double>(m.confusion[c][c]);
    pc.support = row_sum[c];
    pc.precision = ratio(tp, static_cast<double>(column_sum[c]));
    pc.recall = ratio(tp, static_cast<double>(row_sum[c]));
    pc.f1 = ratio(2.0 * tp, static_cast<double>(row_sum[c] + column_sum[c]));
    if (row_sum[c] > 0) recall_sum += pc.recall, ++present;
    m.macro_precision += pc.precision / static_cast<double>(K);
    m.macro_recall += pc.recall / static_cast<double>(K);
    m.macro_f1 += pc.f1 / static_cast<double>(K);
    const double weight = static_cast<double>(pc.support) / total;
    m.weighted_precision += weight * pc.precision;
    m.weighted_recall += weight * pc.recall;
    m.weighted_f1 += weight * pc.f1;
    std::vector<double> scores(n);
    std::vector<bool> positive(n);
    for (size_t i = 0; i < n; ++i)
      scores[i] = probabilities[i][c], positive[i] = truth[i] == static_cast<int>(c);
    pc.roc_auc = rocAuc(scores, positive);
  }
  m.balanced_accuracy = recall_sum / present;
  double auc_sum = 0;
  int aucs = 0;
  for (const auto& pc : m.per_class)
    if (!std::isnan(pc.roc_auc)) auc_sum += pc.roc_auc, ++aucs;
  m.macro_roc_auc = aucs > 0 ? auc_sum / aucs : kNaN;

  int64_t top1 = 0, top3 = 0;
  for (size_t i = 0; i < n; ++i) {
    top1 += inTopK(probabilities[i], truth[i], 1);
    top3 += inTopK(probabilities[i], truth[i], 3);
  }
  m.top1_accuracy = static_cast<double>(top1) / total;
  m.top3_accuracy = static_cast<double>(top3) / total;

  // Cohen's kappa as scikit-learn computes it: 1 - observed disagreement / expected disagreement.
  double expected_disagreement = 0;
  for (size_t t = 0; t < K; ++t)
    for (size_t p = 0; p < K; ++p)
      if (t != p)
        expected_disagreement +=
            static_cast<double>(row_sum[t]) * static_cast<double>(column_sum[p]) / total;
  const double observed_disagreement = total - static_cast<double>(correct);
  m.cohen_kappa =
      expected_disagreement > 0 ? 1.0 - observed_disagreement / expected_disagreement : kNaN;

  // Log loss as scikit-learn 1.2 (eps "auto" = float64 machine epsilon): clip, renormalise each
  // row, mean of -ln p(true class).
  const double eps = std::numeric_limits<double>::epsilon();
  double loss = 0;
  for (size_t i = 0; i < n; ++i) {
    double sum = 0;
    for (const double p : probabilities[i]) sum += std::clamp(p, eps, 1.0 - eps);
    const double p_true =
        std::clamp(probabilities[i][static_cast<size_t>(truth[i])], eps, 1.0 - eps) / sum;
    loss -= std::log(p_true);
  }
  m.log_loss = loss / total;
  m.calibration = calibrationOf(truth, predicted, probabilities);
  return m;
}

nlohmann::ordered_json toJson(const ClassificationMetrics& m) {
  const auto number = [](double v) {
    return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json("nan");
  };
  nlohmann::ordered_json per_class = nlohmann::ordered_json::array();
  for (const auto& c : m.per_class)
    per_class.push_back({{"support", c.support},
                         {"precision", c.precision},
                         {"recall", c.recall},
                         {"f1", c.f1},
                         {"roc_auc", number(c.roc_auc)}});
  return {{"n", m.n},
          {"accuracy", m.accuracy},
          {"balanced_accuracy", m.balanced_accuracy},
          {"macro_precision", m.macro_precision},
          {"macro_recall", m.macro_recall},
          {"macro_f1", m.macro_f1},
          {"weighted_precision", m.weighted_precision},
          {"weighted_recall", m.weighted_recall},
          {"weighted_f1", m.weighted_f1},
          {"top1_accuracy", m.top1_accuracy},
          {"top3_accuracy", m.top3_accuracy},
          {"macro_roc_auc", number(m.macro_roc_auc)},
          {"cohen_kappa", number(m.cohen_kappa)},
          {"log_loss", m.log_loss},
          {"per_class", per_class},
          {"confusion_matrix", m.confusion},
          {"calibration",
           {{"bins", kCalibrationBins},
            {"ece", m.calibration.ece},
            {"count", m.calibration.count},
            {"confidence", numbers(m.calibration.confidence)},
            {"accuracy", numbers(m.calibration.accuracy)}}}};
}

McNemarResult mcNemar(const std::vector<bool>& a_correct, const std::vector<bool>& b_correct) {
  if (a_correct.size() != b_correct.size())
    throw UsageError("McNemar's test needs both models' results on the same images");
  McNemarResult r;
  for (size_t i = 0; i < a_correct.size(); ++i) {
    if (a_correct[i] && !b_correct[i]) ++r.only_a;
    if (!a_correct[i] && b_correct[i]) ++r.only_b;
  }
  const int64_t discordant = r.only_a + r.only_b;
  r.exact = discordant < 25;
  if (r.exact) {
    // Two-sided exact binomial test with p = 1/2: twice the smaller tail, at most 1.
    const int64_t smaller = std::min(r.only_a, r.only_b);
    double tail = 0, term = std::pow(0.5, static_cast<double>(discordant));  // C(n, 0) / 2^n
    for (int64_t k = 0; k <= smaller; ++k) {
      tail += term;
      term *= static_cast<double>(discordant - k) / static_cast<double>(k + 1);
    }
    r.statistic = static_cast<double>(smaller);
    r.p_value = std::min(1.0, 2.0 * tail);
  } else {
    const double d = std::abs(static_cast<double>(r.only_a - r.only_b)) - 1.0;
    r.statistic = d * d / static_cast<double>(discordant);
    r.p_value = std::erfc(std::sqrt(r.statistic / 2.0));  // chi-square, 1 degree of freedom
  }
  return r;
}

}  // namespace gatescope
