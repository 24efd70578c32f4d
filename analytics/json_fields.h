// Strict, path-aware reading of JSON objects for the definition parsers (instruments, rules):
// every error names the source and the field, and keys nobody asked about are refused.
// Internal to alliance_analytics.
#ifndef ALLIANCE_ANALYTICS_JSON_FIELDS_H_
#define ALLIANCE_ANALYTICS_JSON_FIELDS_H_

#include <set>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace alliance::analytics::internal {

// Parses `text` without letting exceptions escape; the error names `source`, line and column.
absl::StatusOr<nlohmann::json> ParseJsonDocument(std::string_view text, std::string_view source);

// "<source>: field '<path>': <message>" as INVALID_ARGUMENT.
absl::Status FieldError(std::string_view source, std::string_view path, std::string_view message);

// Reads typed members of one JSON object, remembering which keys were read so that
// RejectUnknown() can refuse typos instead of silently ignoring them.
class ObjectReader {
 public:
  // `path` is the object's own path ("" for the document root).
  ObjectReader(const nlohmann::json& object, std::string_view source, std::string path);

  bool Has(std::string_view key);
  std::string PathOf(std::string_view key) const;
  const nlohmann::json& Raw(std::string_view key);  // requires Has(key)

  absl::Status ReadString(std::string_view key, bool required, std::string* out);
  absl::Status ReadNumber(std::string_view key, bool required, double* out);
  absl::Status ReadInt(std::string_view key, bool required, int* out);
  absl::Status ReadBool(std::string_view key, bool required, bool* out);
  absl::Status RejectUnknown() const;

  std::string_view source() const { return source_; }

 private:
  const nlohmann::json& object_;
  std::string source_;
  std::string path_;
  std::set<std::string, std::less<>> read_;
};

}  // namespace alliance::analytics::internal

#endif  // ALLIANCE_ANALYTICS_JSON_FIELDS_H_
