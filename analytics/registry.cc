// The instrument registry (registry.h): built-in definitions embedded from
// analytics/instruments/*.json, plus operator definitions that may replace them by id.
#include "analytics/registry.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "analytics/embedded_data.h"

namespace alliance::analytics {
namespace {

InstrumentRegistry ParseBuiltIns() {
  std::vector<std::pair<std::string, std::string>> none;
  absl::StatusOr<InstrumentRegistry> registry = InstrumentRegistry::WithExtra(none);
  if (!registry.ok()) {
    // The built-ins are compiled in and covered by tests; failing here is a build defect.
    std::fprintf(stderr, "built-in instrument definitions are invalid: %s\n",
                 std::string(registry.status().message()).c_str());
    std::abort();
  }
  return *std::move(registry);
}

}  // namespace

const InstrumentRegistry& InstrumentRegistry::BuiltIn() {
  static const InstrumentRegistry* const kBuiltIn = new InstrumentRegistry(ParseBuiltIns());
  return *kBuiltIn;
}

absl::StatusOr<InstrumentRegistry> InstrumentRegistry::WithExtra(
    const std::vector<std::pair<std::string, std::string>>& documents) {
  InstrumentRegistry registry;
  for (const EmbeddedFile& file : BuiltInInstrumentFiles()) {
    std::string source = absl::StrCat("builtin:", std::string(file.name));
    absl::StatusOr<Instrument> ins = ParseInstrumentJson(file.text, source);
    if (!ins.ok()) return ins.status();
    std::string id = ins->id;
    if (!registry.by_id_.emplace(id, *std::move(ins)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": field 'id': instrument \"", id, "\" is defined twice"));
    }
  }
  std::map<std::string, std::string> extra_source;  // id -> source that defined it
  for (const auto& [source, text] : documents) {
    absl::StatusOr<Instrument> ins = ParseInstrumentJson(text, source);
    if (!ins.ok()) return ins.status();
    auto [it, inserted] = extra_source.emplace(ins->id, source);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": field 'id': instrument \"", ins->id,
                                                     "\" is already defined in ", it->second));
    }
    std::string id = ins->id;
    registry.by_id_.insert_or_assign(id, *std::move(ins));
  }
  return registry;
}

const Instrument* InstrumentRegistry::Find(std::string_view id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

std::vector<std::string> InstrumentRegistry::Ids() const {
  std::vector<std::string> ids;
  ids.reserve(by_id_.size());
  for (const auto& [id, ins] : by_id_) ids.push_back(id);
  return ids;
}

}  // namespace alliance::analytics
