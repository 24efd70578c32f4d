// Implementation of the strict JSON object reader in json_fields.h.
#include "analytics/json_fields.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace alliance::analytics::internal {

absl::StatusOr<nlohmann::json> ParseJsonDocument(std::string_view text, std::string_view source) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(source), ": not valid JSON: ", e.what()));
  }
}

absl::Status FieldError(std::string_view source, std::string_view path, std::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(std::string(source), ": field '",
                                                 std::string(path), "': ", std::string(message)));
}

ObjectReader::ObjectReader(const nlohmann::json& object, std::string_view source, std::string path)
    : object_(object), source_(source), path_(std::move(path)) {}

bool ObjectReader::Has(std::string_view key) {
  read_.insert(std::string(key));
  return object_.contains(key);
}

std::string ObjectReader::PathOf(std::string_view key) const {
  return path_.empty() ? std::string(key) : absl::StrCat(path_, ".", std::string(key));
}

const nlohmann::json& ObjectReader::Raw(std::string_view key) {
  read_.insert(std::string(key));
  return object_.at(std::string(key));
}

absl::Status ObjectReader::ReadString(std::string_view key, bool required, std::string* out) {
  if (!Has(key)) {
    return required ? FieldError(source_, PathOf(key), "is required") : absl::OkStatus();
  }
  const nlohmann::json& v = Raw(key);
  if (!v.is_string()) return FieldError(source_, PathOf(key), "must be a string");
  *out = v.get<std::string>();
  return absl::OkStatus();
}

absl::Status ObjectReader::ReadNumber(std::string_view key, bool required, double* out) {
  if (!Has(key)) {
    return required ? FieldError(source_, PathOf(key), "is required") : absl::OkStatus();
  }
  const nlohmann::json& v = Raw(key);
  if (!v.is_number()) return FieldError(source_, PathOf(key), "must be a number");
  double d = v.get<double>();
  if (!std::isfinite(d)) return FieldError(source_, PathOf(key), "must be finite");
  *out = d;
  return absl::OkStatus();
}

absl::Status ObjectReader::ReadInt(std::string_view key, bool required, int* out) {
  if (!Has(key)) {
    return required ? FieldError(source_, PathOf(key), "is required") : absl::OkStatus();
  }
  const nlohmann::json& v = Raw(key);
  if (!v.is_number_integer()) return FieldError(source_, PathOf(key), "must be an integer");
  int64_t i = v.get<int64_t>();
  if (i < std::numeric_limits<int>::min() || i > std::numeric_limits<int>::max()) {
    return FieldError(source_, PathOf(key), "is out of range");
  }
  *out = static_cast<int>(i);
  return absl::OkStatus();
}

absl::Status ObjectReader::ReadBool(std::string_view key, bool required, bool* out) {
  if (!Has(key)) {
    return required ? FieldError(source_, PathOf(key), "is required") : absl::OkStatus();
  }
  const nlohmann::json& v = Raw(key);
  if (!v.is_boolean()) return FieldError(source_, PathOf(key), "must be true or false");
  *out = v.get<bool>();
  return absl::OkStatus();
}

absl::Status ObjectReader::RejectUnknown() const {
  for (const auto& [key, value] : object_.items()) {
    if (!read_.contains(key)) return FieldError(source_, PathOf(key), "is not a known field");
  }
  return absl::OkStatus();
}

}  // namespace alliance::analytics::internal
