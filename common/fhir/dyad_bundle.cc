// Observations and Flags of a dyad (dyad_bundle.h), as a searchset or a transaction Bundle.
#include "common/fhir/dyad_bundle.h"

#include <cstdio>
#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "analytics/hash.h"
#include "common/fhir/fhir_json.h"
#include "common/fhir/questionnaire.h"
#include "common/strings.h"

namespace alliance::fhir {
namespace {

using internal::Json;

analytics::Rater NativeRater(alliance::v1::Rater rater) {
  return static_cast<analytics::Rater>(rater);
}

std::string_view KindCode(alliance::v1::AlertKind kind) {
  switch (kind) {
    case alliance::v1::ALERT_KIND_RUPTURE:
      return "rupture";
    case alliance::v1::ALERT_KIND_REPAIRED:
      return "repaired";
    case alliance::v1::ALERT_KIND_UNREPAIRED:
      return "unrepaired";
    case alliance::v1::ALERT_KIND_DISENGAGEMENT:
      return "disengagement";
    case alliance::v1::ALERT_KIND_REENGAGED:
      return "reengaged";
    default:
      return "";
  }
}

std::string_view SeverityText(alliance::v1::Severity severity) {
  switch (severity) {
    case alliance::v1::SEVERITY_INFO:
      return "info";
    case alliance::v1::SEVERITY_WARNING:
      return "warning";
    case alliance::v1::SEVERITY_HIGH:
      return "high";
    case alliance::v1::SEVERITY_CRITICAL:
      return "critical";
    default:
      return "unspecified";
  }
}

std::string InstrumentTitle(const analytics::InstrumentRegistry& registry, std::string_view id) {
  const analytics::Instrument* ins = registry.Find(id);
  return ins != nullptr && !ins->name.empty() ? ins->name : std::string(id);
}

Json ScoreQuantity(double value) {
  Json q = Json::object();
  q["value"] = value;
  q["unit"] = "score";
  q["system"] = "http://unitsofmeasure.org";
  q["code"] = "{score}";
  return q;
}

// The performer of a point: the client or the therapist by identifier; an observer has no id
// on the timeline, so only the kind is said.
Json Performer(const DyadFhirInput& input, alliance::v1::Rater rater) {
  switch (rater) {
    case alliance::v1::RATER_CLIENT:
      return internal::ReferenceByIdentifier("Patient", kClientSystem, input.client_id);
    case alliance::v1::RATER_THERAPIST:
      return internal::ReferenceByIdentifier("Practitioner", kTherapistSystem, input.therapist_id);
    default: {
      Json ref = Json::object();
      ref["type"] = "Practitioner";
      ref["display"] = "observer";
      return ref;
    }
  }
}

// One resource of the dyad with the identifier it is found and created by.
struct Resource {
  std::string type;  // "Observation" or "Flag"
  std::string system;
  std::string value;
  Json json;
  // Flags: the identifiers of the Observations of the alert's session, in order.
  std::vector<std::string> evidence;
};

using SeriesKey = std::tuple<int, int, std::string>;  // session number, rater, instrument

std::vector<Resource> Build(const DyadFhirInput& input,
                            const analytics::InstrumentRegistry& registry) {
  std::vector<Resource> out;
  std::map<SeriesKey, std::string> observation_of;
  std::multimap<int, std::string> observations_of_session;
  std::map<SeriesKey, int> occurrences;
  for (const alliance::v1::TimelinePoint& point : input.timeline.points()) {
    SeriesKey key{point.session_number(), static_cast<int>(point.rater()), point.instrument_id()};
    int occurrence = occurrences[key]++;
    Resource r;
    r.type = "Observation";
    r.system = kObservationSystem;
    r.value = ObservationIdentifierValue(input, point, occurrence);
    if (occurrence == 0) observation_of[key] = r.value;
    observations_of_session.emplace(point.session_number(), r.value);

    std::string title = InstrumentTitle(registry, point.instrument_id());
    Json& o = r.json;
    o = Json::object();
    o["resourceType"] = "Observation";
    Json ext = Json::array();
    if (point.session_number() >= 1) {
      ext.push_back(
          Json{{"url", kSessionNumberExtension}, {"valuePositiveInt", point.session_number()}});
    }
    ext.push_back(Json{{"url", kRaterExtension},
                       {"valueCode", internal::RaterCode(NativeRater(point.rater()))}});
    o["extension"] = std::move(ext);
    o["identifier"] = Json::array({internal::IdentifierJson(r.system, r.value)});
    o["status"] = "final";
    o["category"] =
        Json::array({Json{{"coding", Json::array({internal::CodingJson(kObservationCategorySystem,
                                                                       "survey", "Survey")})}}});
    o["code"] =
        Json{{"coding", Json::array({internal::CodingJson(
                            kCodeSystemUrl, TotalCode(point.instrument_id()), title + " total")})},
             {"text", title + " total"}};
    o["subject"] = internal::ReferenceByIdentifier("Patient", kClientSystem, input.client_id);
    // Ratings stored before the timeline carried these ids have them empty: left out then.
    if (!point.session_id().empty()) {
      o["encounter"] =
          internal::ReferenceByIdentifier("Encounter", kSessionSystem, point.session_id());
    }
    o["effectiveDateTime"] = internal::DateTimeFromTimestamp(point.session_time());
    o["performer"] = Json::array({Performer(input, point.rater())});
    o["valueQuantity"] = ScoreQuantity(point.total());
    if (point.subscales_size() > 0) {
      Json components = Json::array();
      for (const alliance::v1::SubscaleScore& sub : point.subscales()) {
        components.push_back(Json{
            {"code",
             Json{{"coding", Json::array({internal::CodingJson(
                                 kCodeSystemUrl, SubscaleCode(point.instrument_id(), sub.name()),
                                 title + ": " + sub.name())})}}},
            {"valueQuantity", ScoreQuantity(sub.score())}});
      }
      o["component"] = std::move(components);
    }
    if (!point.idempotency_id().empty()) {
      o["derivedFrom"] = Json::array({internal::ReferenceByIdentifier(
          "QuestionnaireResponse", kSubmissionSystem, point.idempotency_id())});
    }
    out.push_back(std::move(r));
  }

  for (const alliance::v1::Alert& alert : input.open_alerts) {
    Resource r;
    r.type = "Flag";
    r.system = kFlagSystem;
    r.value = alert.alert_id();
    // The Observation of the alert's own series at its session; for a dyad-level alert (no
    // rater or instrument) every Observation of that session.
    SeriesKey key{alert.session_number(), static_cast<int>(alert.rater()), alert.instrument_id()};
    if (auto it = observation_of.find(key); it != observation_of.end()) {
      r.evidence.push_back(it->second);
    } else if (alert.rater() == alliance::v1::RATER_UNSPECIFIED || alert.instrument_id().empty()) {
      auto [lo, hi] = observations_of_session.equal_range(alert.session_number());
      for (auto it = lo; it != hi; ++it) r.evidence.push_back(it->second);
    }
    std::string_view kind = KindCode(alert.kind());
    std::string text = absl::StrCat("Alliance ", kind.empty() ? "alert" : Absl(kind));
    if (!alert.instrument_id().empty()) {
      absl::StrAppend(&text, " on ", InstrumentTitle(registry, alert.instrument_id()));
    }
    if (alert.rater() != alliance::v1::RATER_UNSPECIFIED) {
      absl::StrAppend(&text, " (", Absl(internal::RaterCode(NativeRater(alert.rater()))),
                      " ratings)");
    }
    absl::StrAppend(&text, ", session ", alert.session_number(), ", severity ",
                    Absl(SeverityText(alert.severity())));
    if (!alert.subscale_fell_most().empty()) {
      absl::StrAppend(&text, "; fell most: ", alert.subscale_fell_most());
    }
    Json& f = r.json;
    f = Json::object();
    f["resourceType"] = "Flag";
    f["identifier"] = Json::array({internal::IdentifierJson(r.system, r.value)});
    f["status"] = "active";
    f["category"] = Json::array(
        {Json{{"coding",
               Json::array({internal::CodingJson(kFlagCategorySystem, "clinical", "Clinical")})}}});
    Json code = Json::object();
    if (!kind.empty()) {
      code["coding"] = Json::array({internal::CodingJson(
          kCodeSystemUrl, kind, absl::StrCat("Alliance alert: ", Absl(kind)))});
    }
    code["text"] = text;
    f["code"] = std::move(code);
    f["subject"] = internal::ReferenceByIdentifier("Patient", kClientSystem, input.client_id);
    if (alert.has_session_time()) {
      f["period"] = Json{{"start", internal::DateTimeFromTimestamp(alert.session_time())}};
    }
    out.push_back(std::move(r));
  }
  return out;
}

// The flag-detail extensions of a Flag, each referencing one Observation: by identifier in a
// searchset, by fullUrl in a transaction.
void AddEvidence(Resource& r, bool by_full_url) {
  if (r.evidence.empty()) return;
  Json ext = Json::array();
  for (const std::string& value : r.evidence) {
    Json ref = Json::object();
    if (by_full_url) {
      ref["reference"] = DeterministicUrnUuid(kObservationSystem, value);
      ref["type"] = "Observation";
    } else {
      ref = internal::ReferenceByIdentifier("Observation", kObservationSystem, value);
    }
    ext.push_back(Json{{"url", kFlagDetailExtension}, {"valueReference", std::move(ref)}});
  }
  // extension goes first among the Flag's elements, as FHIR's JSON examples order them.
  Json ordered = Json::object();
  ordered["resourceType"] = r.json["resourceType"];
  ordered["extension"] = std::move(ext);
  for (auto it = r.json.begin(); it != r.json.end(); ++it) {
    if (it.key() != "resourceType") ordered[it.key()] = it.value();
  }
  r.json = std::move(ordered);
}

}  // namespace

std::string ObservationIdentifierValue(const DyadFhirInput& input,
                                       const alliance::v1::TimelinePoint& point, int occurrence) {
  std::string session = std::to_string(point.session_number());
  std::string_view rater = internal::RaterCode(NativeRater(point.rater()));
  if (occurrence <= 0) {
    return analytics::Hash128Hex({"alliance.fhir.observation.v1", input.tenant_id,
                                  input.therapist_id, input.client_id, session, rater,
                                  point.instrument_id()});
  }
  std::string nth = std::to_string(occurrence);
  return analytics::Hash128Hex({"alliance.fhir.observation.v1", input.tenant_id, input.therapist_id,
                                input.client_id, session, rater, point.instrument_id(), nth});
}

std::string DeterministicUrnUuid(std::string_view system, std::string_view value) {
  std::string hex = analytics::Hash128Hex({"alliance.fhir.uuid.v1", system, value});
  hex[12] = '8';  // version 8 (custom)
  static constexpr char kVariant[] = "89ab";
  char c = hex[16];
  int nibble = c <= '9' ? c - '0' : c - 'a' + 10;
  hex[16] = kVariant[nibble & 3];  // variant 10xx
  return absl::StrCat("urn:uuid:", hex.substr(0, 8), "-", hex.substr(8, 4), "-", hex.substr(12, 4),
                      "-", hex.substr(16, 4), "-", hex.substr(20, 12));
}

std::string DyadBundleJson(const DyadFhirInput& input,
                           const analytics::InstrumentRegistry& registry) {
  std::vector<Resource> resources = Build(input, registry);
  Json bundle = Json::object();
  bundle["resourceType"] = "Bundle";
  bundle["type"] = "searchset";
  bundle["total"] = resources.size();
  Json entries = Json::array();
  for (Resource& r : resources) {
    AddEvidence(r, /*by_full_url=*/false);
    Json entry = Json::object();
    entry["fullUrl"] = DeterministicUrnUuid(r.system, r.value);
    entry["resource"] = std::move(r.json);
    entry["search"] = Json{{"mode", "match"}};
    entries.push_back(std::move(entry));
  }
  bundle["entry"] = std::move(entries);
  return internal::Dump(bundle);
}

std::string DyadTransactionJson(const DyadFhirInput& input,
                                const analytics::InstrumentRegistry& registry) {
  std::vector<Resource> resources = Build(input, registry);
  Json bundle = Json::object();
  bundle["resourceType"] = "Bundle";
  bundle["type"] = "transaction";
  Json entries = Json::array();
  for (Resource& r : resources) {
    AddEvidence(r, /*by_full_url=*/true);
    Json entry = Json::object();
    entry["fullUrl"] = DeterministicUrnUuid(r.system, r.value);
    entry["resource"] = std::move(r.json);
    entry["request"] = Json{{"method", "POST"},
                            {"url", r.type},
                            {"ifNoneExist", absl::StrCat("identifier=", r.system, "|", r.value)}};
    entries.push_back(std::move(entry));
  }
  bundle["entry"] = std::move(entries);
  return internal::Dump(bundle);
}

}  // namespace alliance::fhir
