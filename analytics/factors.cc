// Parsing of the factor table (factors.h) and the compiled-in built-in table.
#include "analytics/factors.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "analytics/embedded_data.h"
#include "analytics/json_fields.h"

namespace alliance::analytics {

const FactorTable& FactorTable::BuiltIn() {
  static const FactorTable* const kTable = [] {
    std::span<const EmbeddedFile> files = BuiltInFactorFiles();
    absl::StatusOr<FactorTable> table =
        files.size() == 1 ? Parse(files[0].text, "builtin:factors.json")
                          : absl::InternalError("expected exactly one factors.json");
    if (!table.ok()) {
      // Compiled in and covered by tests: failing here is a build defect.
      std::fprintf(stderr, "built-in factor table is invalid: %s\n",
                   std::string(table.status().message()).c_str());
      std::abort();
    }
    return new FactorTable(*std::move(table));
  }();
  return *kTable;
}

absl::StatusOr<FactorTable> FactorTable::Parse(std::string_view text, std::string_view source) {
  absl::StatusOr<nlohmann::json> doc = internal::ParseJsonDocument(text, source);
  if (!doc.ok()) return doc.status();
  if (!doc->is_object()) {
    return internal::FieldError(source, "(document)", "must be a JSON object");
  }
  FactorTable table;
  for (const auto& [key, value] : doc->items()) {
    if (!value.is_object()) return internal::FieldError(source, key, "must be an object");
    internal::ObjectReader r(value, source, key);
    FactorEntry entry;
    if (absl::Status s = r.ReadString("focus", true, &entry.focus); !s.ok()) return s;
    if (!r.Has("factors")) return internal::FieldError(source, r.PathOf("factors"), "is required");
    const nlohmann::json& factors = r.Raw("factors");
    if (!factors.is_array() || factors.empty()) {
      return internal::FieldError(source, r.PathOf("factors"), "must be a non-empty array");
    }
    for (size_t i = 0; i < factors.size(); ++i) {
      if (!factors[i].is_string()) {
        return internal::FieldError(source, absl::StrCat(r.PathOf("factors"), "[", i, "]"),
                                    "must be a string");
      }
      entry.factors.push_back(factors[i].get<std::string>());
    }
    if (absl::Status s = r.RejectUnknown(); !s.ok()) return s;
    table.by_key_.emplace(key, std::move(entry));
  }
  for (std::string_view required : {kOverall, kRepaired}) {
    if (!table.by_key_.contains(required)) {
      return internal::FieldError(source, required, "is required");
    }
  }
  return table;
}

const FactorEntry& FactorTable::Find(std::string_view key) const {
  auto it = by_key_.find(key);
  if (it == by_key_.end()) it = by_key_.find(kOverall);
  return it->second;
}

}  // namespace alliance::analytics
