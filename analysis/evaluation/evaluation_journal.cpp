#include "analysis/evaluation/evaluation_journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "analysis/core/error.hpp"
#include "analysis/io/file_util.hpp"

namespace gatescope {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

std::string systemError() { return std::strerror(errno); }

// The first top-level key whose value differs, for the error message.
std::string firstDifference(const Json& stored, const Json& wanted) {
  for (const auto& [key, value] : wanted.items())
    if (!stored.contains(key) || stored[key] != value) return key;
  for (const auto& [key, value] : stored.items())
    if (!wanted.contains(key)) return key;
  return "identity";
}

}  // namespace

EvaluationJournal::EvaluationJournal(const fs::path& path, const Json& identity, bool resume) : path_(path) {
  const bool exists = fs::exists(path);
  if (exists && !resume)
    throw UsageError(path.parent_path().string() +
                     " already holds an evaluation (journal.jsonl): add --resume to continue or re-summarise it, "
                     "or choose another --out");
  if (!exists) {
    writeFileAtomically(path, Json{{"journal", "gatescope.evaluation/1"}, {"identity", identity}}.dump() + "\n");
  } else {
    const std::vector<uint8_t> bytes = readWholeFile(path);
    const std::string text(bytes.begin(), bytes.end());
    size_t line_start = 0, good_end = 0;
    bool first = true;
    while (line_start < text.size()) {
      const size_t newline = text.find('\n', line_start);
      if (newline == std::string::npos) break;  // torn last line: the run died while writing it
      Json line;
      try {
        line = Json::parse(text.substr(line_start, newline - line_start));
      } catch (const Json::exception&) {
        break;
      }
      if (first) {
        if (!line.contains("identity"))
          throw FormatError(path.string() + ": not an evaluation journal (first line has no identity)");
        if (line["identity"] != identity)
          throw UsageError(path.parent_path().string() + " holds an evaluation of a different run (" +
                           firstDifference(line["identity"], identity) +
                           " differs): --resume continues only the same models, dataset and settings");
        first = false;
      } else if (line.contains("case") && line["case"].contains("id")) {
        finished_[line["case"]["id"].get<std::string>()] = line["case"];
      }
      good_end = newline + 1;
      line_start = newline + 1;
    }
    if (first) throw FormatError(path.string() + ": the journal's first line is damaged; remove the folder and start again");
    if (good_end < text.size() && ::truncate(path.c_str(), static_cast<off_t>(good_end)) != 0)
      throw IoError(path.string() + ": cannot drop the torn last line: " + systemError());
  }
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) throw IoError(path.string() + ": cannot open for appending: " + systemError());
}

EvaluationJournal::~EvaluationJournal() {
  if (fd_ >= 0) ::close(fd_);
}

void EvaluationJournal::append(const Json& record) {
  const std::string line = Json{{"case", record}}.dump() + "\n";
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw IoError(path_.string() + ": write failed: " + systemError());
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd_) != 0) throw IoError(path_.string() + ": write failed: " + systemError());
  finished_[record["id"].get<std::string>()] = record;
}

}  // namespace gatescope
