#include "analysis/evaluation/case_distribution.hpp"

#include <fmt/format.h>

#include <charconv>

namespace gatescope {

void WholeRun::begin(size_t cases, const std::vector<bool>& finished,
                     std::function<void(size_t, const std::string&, double)>) {
  todo_.clear();
  handed_ = 0;
  for (size_t i = 0; i < cases; ++i)
    if (!finished[i]) todo_.push_back(i);
}

std::optional<size_t> WholeRun::next() {
  if (handed_ >= todo_.size()) return std::nullopt;
  return todo_[handed_++];
}

std::string ShardRun::journalName() const {
  return fmt::format("journal-shard-{}-of-{}.jsonl", index_, count_);
}

std::string ShardRun::role() const {
  return fmt::format("shard {}/{}", index_, count_);
}

void ShardRun::begin(size_t cases, const std::vector<bool>& finished,
                     std::function<void(size_t, const std::string&, double)> remote) {
  std::vector<bool> others = finished;
  for (size_t i = 0; i < cases; ++i)
    if (!counts(i)) others[i] = true;
  WholeRun::begin(cases, others, std::move(remote));
}

ShardRun parseShard(const std::string& text) {
  const auto slash = text.find('/');
  int index = -1, count = 0;
  const auto number = [](std::string_view part, int& value) {
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    return ec == std::errc() && end == part.data() + part.size() && !part.empty();
  };
  if (slash == std::string::npos || !number(std::string_view(text).substr(0, slash), index) ||
      !number(std::string_view(text).substr(slash + 1), count) || count < 1 || index < 0 ||
      index >= count)
    throw UsageError(fmt::format(
        "--shard {}: expected K/N with 0 <= K < N, e.g. 0/4 for the first of four shares", text));
  return ShardRun(index, count);
}

}  // namespace gatescope
