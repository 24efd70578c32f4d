// Small builders shared by the FHIR mapping files (internal to alliance_fhir): identifiers,
// references by identifier, codings, dateTimes and FHIR ids.
#ifndef ALLIANCE_COMMON_FHIR_FHIR_JSON_H_
#define ALLIANCE_COMMON_FHIR_FHIR_JSON_H_

#include <google/protobuf/timestamp.pb.h>

#include <string>
#include <string_view>

#include "analytics/instrument.h"
#include "nlohmann/json.hpp"

namespace alliance::fhir::internal {

using Json = nlohmann::ordered_json;

Json IdentifierJson(std::string_view system, std::string_view value);
// Reference {type, identifier {system, value}}.
Json ReferenceByIdentifier(std::string_view type, std::string_view system, std::string_view value);
Json CodingJson(std::string_view system, std::string_view code, std::string_view display);

// FHIR dateTime in UTC with seconds (and fractions when non-zero), e.g. "2026-03-01T09:30:00Z".
std::string DateTimeFromTimestamp(const google::protobuf::Timestamp& ts);

// True when `id` fits FHIR's id type ([A-Za-z0-9-.]{1,64}).
bool IsFhirId(std::string_view id);

// The lowercase rater code used in extensions and identifier hashes: "client", "therapist",
// "observer" ("unspecified" otherwise).
std::string_view RaterCode(analytics::Rater rater);

// The dump of a JSON value as FHIR JSON text: UTF-8, invalid sequences replaced.
std::string Dump(const Json& json);

}  // namespace alliance::fhir::internal

#endif  // ALLIANCE_COMMON_FHIR_FHIR_JSON_H_
