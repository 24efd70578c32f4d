// Builders of fhir_json.h.
#include "common/fhir/fhir_json.h"

#include <cstdio>
#include <ctime>

namespace alliance::fhir::internal {

Json IdentifierJson(std::string_view system, std::string_view value) {
  Json id = Json::object();
  id["system"] = std::string(system);
  id["value"] = std::string(value);
  return id;
}

Json ReferenceByIdentifier(std::string_view type, std::string_view system, std::string_view value) {
  Json ref = Json::object();
  ref["type"] = std::string(type);
  ref["identifier"] = IdentifierJson(system, value);
  return ref;
}

Json CodingJson(std::string_view system, std::string_view code, std::string_view display) {
  Json coding = Json::object();
  coding["system"] = std::string(system);
  coding["code"] = std::string(code);
  if (!display.empty()) coding["display"] = std::string(display);
  return coding;
}

std::string DateTimeFromTimestamp(const google::protobuf::Timestamp& ts) {
  std::time_t seconds = static_cast<std::time_t>(ts.seconds());
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  std::string out(buf);
  if (ts.nanos() > 0 && ts.nanos() <= 999'999'999) {
    std::snprintf(buf, sizeof buf, ".%09d", ts.nanos());
    std::string fraction(buf);
    while (fraction.back() == '0') fraction.pop_back();
    out += fraction;
  }
  out += "Z";
  return out;
}

bool IsFhirId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string_view RaterCode(analytics::Rater rater) {
  switch (rater) {
    case analytics::Rater::kClient:
      return "client";
    case analytics::Rater::kTherapist:
      return "therapist";
    case analytics::Rater::kObserver:
      return "observer";
    default:
      return "unspecified";
  }
}

std::string Dump(const Json& json) {
  return json.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace alliance::fhir::internal
