// The set of instruments a process knows: the built-in definitions plus any an operator adds.
#ifndef ALLIANCE_ANALYTICS_REGISTRY_H_
#define ALLIANCE_ANALYTICS_REGISTRY_H_

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "analytics/instrument.h"

namespace alliance::analytics {

class InstrumentRegistry {
 public:
  // The built-in definitions (WAI-SR, WAI-SR therapist form, SRS, HAq-II, SAI), compiled in
  // from analytics/instruments/*.json.
  static const InstrumentRegistry& BuiltIn();

  // Built-ins plus `documents` (source name, JSON text). A document whose id matches a
  // built-in replaces it; two documents with one id, or any invalid one, is an error naming
  // the source and field.
  static absl::StatusOr<InstrumentRegistry> WithExtra(
      const std::vector<std::pair<std::string, std::string>>& documents);

  // nullptr when unknown.
  const Instrument* Find(std::string_view id) const;
  std::vector<std::string> Ids() const;

 private:
  std::map<std::string, Instrument, std::less<>> by_id_;
};

}  // namespace alliance::analytics

#endif  // ALLIANCE_ANALYTICS_REGISTRY_H_
