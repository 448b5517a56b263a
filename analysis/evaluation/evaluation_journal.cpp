#include "analysis/evaluation/evaluation_journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
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

namespace {

struct ParsedJournal {
  Json header;       // the first line
  std::string kept;  // the verified case lines, each ending in a newline
  std::vector<Json> records;
  size_t rejected = 0;
};

// Splits a journal's text into its header and its verified case lines. Every case line carries the
// SHA-256 of its record: a torn, truncated or edited line (at the end or in the middle) is left
// out.
ParsedJournal parseJournal(const fs::path& path, std::string_view text) {
  ParsedJournal parsed;
  const size_t first_end = text.find('\n');
  try {
    if (first_end == std::string::npos) throw FormatError("no first line");
    parsed.header = parseOrderedJson(text.substr(0, first_end), path.string());
  } catch (const FormatError&) {
    throw FormatError(path.string() +
                      ": the journal's first line is damaged; remove the folder and start again");
  }
  if (!parsed.header.is_object() || !parsed.header.contains("identity"))
    throw FormatError(path.string() + ": not an evaluation journal (first line has no identity)");
  if (!parsed.header.contains("journal") || parsed.header["journal"] != kJournalFormat)
    throw UsageError(path.parent_path().string() +
                     " holds an evaluation journal of another gatescope version (" +
                     jsonExcerpt(parsed.header.value("journal", Json())) +
                     "): start again in another --out");
  for (size_t start = first_end + 1; start < text.size();) {
    size_t end = text.find('\n', start);
    const bool torn = end == std::string::npos;
    if (torn) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    std::optional<Json> record = torn ? std::nullopt : verifiedRecord(line);
    if (!record) {
      ++parsed.rejected;
      continue;
    }
    parsed.kept += std::string(line) + "\n";
    parsed.records.push_back(std::move(*record));
  }
  return parsed;
}

std::string fileText(const fs::path& path) {
  const std::vector<uint8_t> bytes = readWholeFile(path);
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace

void checkSameRun(const fs::path& path, const Json& found, const Json& wanted,
                  const std::string& hint) {
  if (found != wanted)
    throw UsageError(path.parent_path().string() + " holds an evaluation of a different run (" +
                     firstDifference(found, wanted) + " differs in " + path.filename().string() +
                     "): " + hint);
}

EvaluationJournal::EvaluationJournal(const fs::path& path, const Json& identity, bool resume,
                                     const Json& context)
    : path_(path) {
  const bool exists = fs::exists(path);
  if (exists && !resume)
    throw UsageError(path.parent_path().string() + " already holds an evaluation (" +
                     path.filename().string() +
                     "): add --resume to continue or re-summarise it, or choose another --out");
  Json header_json = {{"journal", kJournalFormat}, {"identity", identity}};
  if (!context.is_null()) header_json["context"] = context;
  const std::string header = header_json.dump() + "\n";
  if (!exists) {
    writeFileAtomically(path, header);
  } else {
    const ParsedJournal parsed = parseJournal(path, fileText(path));
    checkSameRun(path, parsed.header["identity"], identity);
    rejected_ = parsed.rejected;
    for (const Json& record : parsed.records) finished_.insert(record["id"].get<std::string>());
    // Damaged lines go (their cases run again); a changed context (the case list of another
    // --limit) is brought up to date, so that a merge reads this run's.
    if (rejected_ > 0 ||
        parsed.header.value("context", Json()) != header_json.value("context", Json()))
      writeFileAtomically(path, header + parsed.kept);
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
  return readJournal(path_).records;
}

JournalContents readJournal(const fs::path& path) {
  ParsedJournal parsed = parseJournal(path, fileText(path));
  JournalContents contents;
  contents.path = path;
  contents.identity = std::move(parsed.header["identity"]);
  contents.context = parsed.header.value("context", Json());
  for (Json& record : parsed.records) {
    std::string id = record["id"].get<std::string>();
    contents.records.emplace(std::move(id), std::move(record));  // the first line of a case wins
  }
  contents.rejected = parsed.rejected;
  return contents;
}

std::vector<fs::path> journalFiles(const fs::path& dir) {
  std::vector<fs::path> found;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with("journal-") && name.ends_with(".jsonl") && it->is_regular_file(ec))
      found.push_back(it->path());
  }
  std::sort(found.begin(), found.end());
  if (fs::is_regular_file(dir / "journal.jsonl", ec))
    found.insert(found.begin(), dir / "journal.jsonl");
  return found;
}

}  // namespace gatescope
