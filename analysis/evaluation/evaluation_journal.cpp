#include "analysis/evaluation/evaluation_journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>

#include "analysis/core/error.hpp"
#include "analysis/core/sha256.hpp"
#include "analysis/io/file_util.hpp"
#include "analysis/io/json_file.hpp"

namespace gatescope {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

std::string systemError() {
  return std::strerror(errno);
}

// The first top-level key whose value differs, for the error message.
std::string firstDifference(const Json& stored, const Json& wanted) {
  for (const auto& [key, value] : wanted.items())
    if (!stored.contains(key) || stored[key] != value) return key;
  for (const auto& [key, value] : stored.items())
    if (!wanted.contains(key)) return key;
  return "identity";
}

constexpr const char* kJournalFormat = "gatescope.evaluation/2";

std::string recordChecksum(const std::string& record_text) {
  return sha256Hex(
      std::span(reinterpret_cast<const uint8_t*>(record_text.data()), record_text.size()));
}

// {"case": RECORD, "sha256": hex of RECORD's JSON text}
std::string journalLine(const Json& record) {
  const std::string text = record.dump();
  return Json{{"case", record}, {"sha256", recordChecksum(text)}}.dump() + "\n";
}

// The case record of a journal line whose checksum matches, else nothing.
std::optional<Json> verifiedRecord(std::string_view line) {
  try {
    const Json parsed = parseOrderedJson(line, "journal");
    if (!parsed.is_object() || !parsed.contains("case") || !parsed.contains("sha256"))
      return std::nullopt;
    const Json& record = parsed["case"];
    if (!record.is_object() || !record.contains("id") || !record["id"].is_string())
      return std::nullopt;
    if (parsed["sha256"] != recordChecksum(record.dump())) return std::nullopt;
    return record;
  } catch (const FormatError&) {
    return std::nullopt;
  }
}

}  // namespace

EvaluationJournal::EvaluationJournal(const fs::path& path, const Json& identity, bool resume)
    : path_(path) {
  const bool exists = fs::exists(path);
  if (exists && !resume)
    throw UsageError(path.parent_path().string() +
                     " already holds an evaluation (journal.jsonl): add --resume to continue or "
                     "re-summarise it, "
                     "or choose another --out");
  const std::string header =
      Json{{"journal", kJournalFormat}, {"identity", identity}}.dump() + "\n";
  if (!exists) {
    writeFileAtomically(path, header);
  } else {
    const std::vector<uint8_t> bytes = readWholeFile(path);
    const std::string text(bytes.begin(), bytes.end());
    const size_t first_end = text.find('\n');
    Json first;
    try {
      if (first_end == std::string::npos) throw FormatError("no first line");
      first = parseOrderedJson(std::string_view(text).substr(0, first_end), path.string());
    } catch (const FormatError&) {
      throw FormatError(path.string() +
                        ": the journal's first line is damaged; remove the folder and start again");
    }
    if (!first.is_object() || !first.contains("identity"))
      throw FormatError(path.string() + ": not an evaluation journal (first line has no identity)");
    if (!first.contains("journal") || first["journal"] != kJournalFormat)
      throw UsageError(path.parent_path().string() +
                       " holds an evaluation journal of another gatescope version (" +
                       jsonExcerpt(first.contains("journal") ? first["journal"] : Json()) +
                       "): start again in another --out");
    if (first["identity"] != identity)
      throw UsageError(path.parent_path().string() + " holds an evaluation of a different run (" +
                       firstDifference(first["identity"], identity) +
                       " differs): --resume continues only the same models, dataset and settings");
    // Every case line carries the SHA-256 of its record: a torn, truncated or edited line (at the
    // end or in the middle) is left out and its case runs again.
    std::string kept = header;
    for (size_t start = first_end + 1; start < text.size();) {
      size_t end = text.find('\n', start);
      const bool torn = end == std::string::npos;
      if (torn) end = text.size();
      const std::string_view line = std::string_view(text).substr(start, end - start);
      start = end + 1;
      const std::optional<Json> record = torn ? std::nullopt : verifiedRecord(line);
      if (!record) {
        ++rejected_;
        continue;
      }
      finished_.insert((*record)["id"].get<std::string>());
      kept += std::string(line) + "\n";
    }
    if (rejected_ > 0) writeFileAtomically(path, kept);
  }
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) throw IoError(path.string() + ": cannot open for appending: " + systemError());
}

EvaluationJournal::~EvaluationJournal() {
  if (fd_ >= 0) ::close(fd_);
}

void EvaluationJournal::append(const Json& record) {
  const std::string line = journalLine(record);
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw IoError(path_.string() + ": write failed: " + systemError());
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd_) != 0) throw IoError(path_.string() + ": write failed: " + systemError());
  finished_.insert(record["id"].get<std::string>());
}

std::map<std::string, Json> EvaluationJournal::records() const {
  const std::vector<uint8_t> bytes = readWholeFile(path_);
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  std::map<std::string, Json> out;
  for (size_t start = text.find('\n');
       start != std::string_view::npos && start + 1 < text.size();) {
    const size_t end = text.find('\n', start + 1);
    if (end == std::string_view::npos) break;
    if (std::optional<Json> record = verifiedRecord(text.substr(start + 1, end - start - 1))) {
      std::string id = (*record)["id"].get<std::string>();
      out[std::move(id)] = std::move(*record);
    }
    start = end;
  }
  return out;
}

}  // namespace gatescope
