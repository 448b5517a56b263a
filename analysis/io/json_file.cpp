#include "analysis/io/json_file.hpp"

#include <fmt/format.h>

#include <cmath>

#include "analysis/core/error.hpp"
#include "analysis/io/file_util.hpp"

namespace gatescope {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// The deepest nesting of arrays and objects in `text`, stopping early past `limit`.
int nestingDepth(std::string_view text, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) break;
    } else if (c == ']' || c == '}')
      --depth;
  }
  return deepest;
}

// nlohmann's message without its "[json.exception.parse_error.101] " prefix, on one line, short.
std::string parseMessage(const std::exception& e) {
  std::string text = e.what();
  if (text.starts_with("[json.exception.")) text = text.substr(text.find(']') + 1);
  while (!text.empty() && text.front() == ' ') text.erase(0, 1);
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  if (text.size() > 160) text = text.substr(0, 157) + "...";
  return text;
}

template <typename J>
J parseBounded(std::string_view text, const std::string& source) {
  if (nestingDepth(text, kJsonDepthLimit) > kJsonDepthLimit)
    throw FormatError(
        fmt::format("{}: JSON nested deeper than {} levels", source, kJsonDepthLimit));
  try {
    return J::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(source + ": not valid JSON: " + parseMessage(e));
  }
}

template <typename J>
J readBounded(const fs::path& path, std::string_view what) {
  std::vector<uint8_t> bytes;
  try {
    bytes = readWholeFile(path);
  } catch (const IoError& e) {
    const std::string message = e.what();
    const std::string prefix = path.string() + ": ";
    throw IoError(
        fmt::format("{}: cannot read the {}: {}", path.string(), what,
                    message.starts_with(prefix) ? message.substr(prefix.size()) : message));
  }
  return parseBounded<J>(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path.string());
}

template <typename J>
std::string excerpt(const J& value, size_t limit) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > limit) text = text.substr(0, limit) + "...";
  return text;
}

}  // namespace

json parseJson(std::string_view text, const std::string& source) {
  return parseBounded<json>(text, source);
}
nlohmann::ordered_json parseOrderedJson(std::string_view text, const std::string& source) {
  return parseBounded<nlohmann::ordered_json>(text, source);
}
json readJsonFile(const fs::path& path, std::string_view what) {
  return readBounded<json>(path, what);
}
nlohmann::ordered_json readOrderedJsonFile(const fs::path& path, std::string_view what) {
  return readBounded<nlohmann::ordered_json>(path, what);
}

std::string jsonExcerpt(const json& value, size_t limit) {
  return excerpt(value, limit);
}
std::string jsonExcerpt(const nlohmann::ordered_json& value, size_t limit) {
  return excerpt(value, limit);
}

std::string jsonKind(const json& value) {
  if (value.is_number_integer()) return "an integer";
  if (value.is_number()) return "a number";
  if (value.is_string()) return "a string";
  if (value.is_boolean()) return "true/false";
  if (value.is_array()) return "an array";
  if (value.is_object()) return "an object";
  return "null";
}

int64_t jsonInteger(const json& value, int64_t min, int64_t max, const std::string& field,
                    const std::string& source) {
  const auto fail = [&](const std::string& problem) {
    throw FormatError(fmt::format("{}: \"{}\" {}", source, field, problem));
  };
  if (value.is_number_integer()) {
    // Unsigned values above int64's range are refused as out of range, not wrapped.
    if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(max))
      fail(fmt::format("must be between {} and {}, not {}", min, max, jsonExcerpt(value)));
    const auto v = value.get<int64_t>();
    if (v < min || v > max) fail(fmt::format("must be between {} and {}, not {}", min, max, v));
    return v;
  }
  if (value.is_number_float()) {
    const double v = value.get<double>();
    if (std::isfinite(v) && v == std::floor(v) && std::abs(v) < 9.0e15) {
      if (v < static_cast<double>(min) || v > static_cast<double>(max))
        fail(fmt::format("must be between {} and {}, not {}", min, max, jsonExcerpt(value)));
      return static_cast<int64_t>(v);
    }
    fail(fmt::format("must be a whole number, not {}", jsonExcerpt(value)));
  }
  fail(fmt::format("must be a whole number, not {} ({})", jsonKind(value), jsonExcerpt(value)));
}

JsonFields::JsonFields(const json& object, std::string source, std::string path)
    : object_(object), source_(std::move(source)), path_(std::move(path)) {
  if (!object_.is_object())
    throw FormatError(
        path_.empty()
            ? fmt::format("{}: expected a JSON object, found {}", source_, jsonKind(object_))
            : fmt::format("{}: \"{}\" must be an object, not {} ({})", source_, path_,
                          jsonKind(object_), jsonExcerpt(object_)));
}

bool JsonFields::has(const std::string& key) const {
  return object_.contains(key);
}
std::string JsonFields::name(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

void JsonFields::fail(const std::string& key, const std::string& problem) const {
  throw FormatError(fmt::format("{}: \"{}\" {}", source_, name(key), problem));
}

const json& JsonFields::required(const std::string& key) const {
  if (!object_.contains(key)) fail(key, "is required");
  return object_.at(key);
}
const json& JsonFields::at(const std::string& key) const {
  return required(key);
}

void JsonFields::onlyKeys(const std::vector<std::string>& known) const {
  for (const auto& [key, value] : object_.items())
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      throw FormatError(
          fmt::format("{}: unknown key \"{}\" (known: {})", source_, name(key), list));
    }
}

std::string JsonFields::string(const std::string& key, std::optional<std::string> fallback) const {
  if (!has(key) && fallback) return *fallback;
  const json& v = required(key);
  if (!v.is_string())
    fail(key, fmt::format("must be a string, not {} ({})", jsonKind(v), jsonExcerpt(v)));
  return v.get<std::string>();
}

int64_t JsonFields::integer(const std::string& key, int64_t min, int64_t max,
                            std::optional<int64_t> fallback) const {
  if (!has(key) && fallback) return *fallback;
  return jsonInteger(required(key), min, max, name(key), source_);
}

double JsonFields::number(const std::string& key, std::optional<double> fallback) const {
  if (!has(key) && fallback) return *fallback;
  const json& v = required(key);
  if (!v.is_number())
    fail(key, fmt::format("must be a number, not {} ({})", jsonKind(v), jsonExcerpt(v)));
  return v.get<double>();
}

bool JsonFields::boolean(const std::string& key, std::optional<bool> fallback) const {
  if (!has(key) && fallback) return *fallback;
  const json& v = required(key);
  if (!v.is_boolean())
    fail(key, fmt::format("must be true or false, not {} ({})", jsonKind(v), jsonExcerpt(v)));
  return v.get<bool>();
}

std::vector<int64_t> JsonFields::integers(const std::string& key, int64_t min, int64_t max,
                                          size_t min_count, size_t max_count,
                                          std::optional<std::vector<int64_t>> fallback) const {
  if (!has(key) && fallback) return *fallback;
  const json& v = required(key);
  const std::string count = min_count == max_count ? std::to_string(min_count)
                                                   : fmt::format("{} to {}", min_count, max_count);
  if (!v.is_array() || v.size() < min_count || v.size() > max_count)
    fail(key, fmt::format("must be an array of {} whole numbers, not {}", count, jsonExcerpt(v)));
  std::vector<int64_t> out;
  for (size_t n = 0; n < v.size(); ++n)
    out.push_back(jsonInteger(v[n], min, max, fmt::format("{}[{}]", name(key), n), source_));
  return out;
}

JsonFields JsonFields::object(const std::string& key) const {
  return JsonFields(required(key), source_, name(key));
}

}  // namespace gatescope
