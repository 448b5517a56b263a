#pragma once

// Reading JSON that gatescope did not write itself (manifests, dataset.json, gatescope.json,
// reports, journals, sessions): bounded nesting, one-line errors that name the file and the field,
// and never the whole offending value.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatescope {

// Deeper nesting is refused before parsing: nlohmann's values are destroyed and printed
// recursively, so a file nested 100,000 deep would overflow the stack.
inline constexpr int kJsonDepthLimit = 128;

// Parses `text`; FormatError "<source>: not valid JSON: ..." or "<source>: JSON nested deeper than
// 128 levels" (one line).
[[nodiscard]] nlohmann::json parseJson(std::string_view text, const std::string& source);
[[nodiscard]] nlohmann::ordered_json parseOrderedJson(std::string_view text,
                                                      const std::string& source);

// Reads and parses a regular file; `what` names it in errors ("model manifest": "<path>: cannot
// read the model manifest: ...").
[[nodiscard]] nlohmann::json readJsonFile(const std::filesystem::path& path, std::string_view what);
[[nodiscard]] nlohmann::ordered_json readOrderedJsonFile(const std::filesystem::path& path,
                                                         std::string_view what);

// A value for an error message: its JSON text cut to `limit` characters ("[1, 2, 3, ...").
[[nodiscard]] std::string jsonExcerpt(const nlohmann::json& value, size_t limit = 40);
[[nodiscard]] std::string jsonExcerpt(const nlohmann::ordered_json& value, size_t limit = 40);

// "array", "string", "number", ... as a user reads them.
[[nodiscard]] std::string jsonKind(const nlohmann::json& value);

// Typed, checked access to the fields of one JSON object read from `source`. Every error is a
// FormatError naming the file and the field's path ("gates[1].stride"), what was expected and a
// short excerpt of what was found. Integers must be whole numbers in range: 2.5 and 2^40 are
// refused, never truncated or wrapped.
class JsonFields {
 public:
  // Throws when `object` is not an object.
  JsonFields(const nlohmann::json& object, std::string source, std::string path = "");

  [[nodiscard]] bool has(const std::string& key) const;
  [[nodiscard]] const nlohmann::json& at(const std::string& key) const;  // must exist
  // The field's name for messages: "preprocessing.normalize".
  [[nodiscard]] std::string name(const std::string& key) const;
  [[noreturn]] void fail(const std::string& key, const std::string& problem) const;
  // Refuses keys outside `known` (listing the known ones).
  void onlyKeys(const std::vector<std::string>& known) const;

  [[nodiscard]] std::string string(const std::string& key,
                                   std::optional<std::string> fallback = std::nullopt) const;
  [[nodiscard]] int64_t integer(const std::string& key, int64_t min, int64_t max,
                                std::optional<int64_t> fallback = std::nullopt) const;
  [[nodiscard]] double number(const std::string& key,
                              std::optional<double> fallback = std::nullopt) const;
  [[nodiscard]] bool boolean(const std::string& key,
                             std::optional<bool> fallback = std::nullopt) const;
  // An array of whole numbers in [min, max] with between min_count and max_count entries.
  [[nodiscard]] std::vector<int64_t> integers(
      const std::string& key, int64_t min, int64_t max, size_t min_count, size_t max_count,
      std::optional<std::vector<int64_t>> fallback = std::nullopt) const;
  // A nested object.
  [[nodiscard]] JsonFields object(const std::string& key) const;
  [[nodiscard]] const nlohmann::json& raw() const { return object_; }
  [[nodiscard]] const std::string& source() const { return source_; }

 private:
  const nlohmann::json& required(const std::string& key) const;
  const nlohmann::json& object_;
  std::string source_, path_;
};

// An integer from a JSON value (a whole number in [min, max]); `field` and `source` name it in the
// error.
[[nodiscard]] int64_t jsonInteger(const nlohmann::json& value, int64_t min, int64_t max,
                                  const std::string& field, const std::string& source);

}  // namespace gatescope
