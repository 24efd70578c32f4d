// CSV and JSON lines parsing of feedback submissions.
#include "tools/alliancectl/submissions.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/strings.h"

namespace alliance::ctl {

absl::StatusOr<alliance::v1::Rater> ParseRater(std::string_view text) {
  std::string lower = absl::AsciiStrToLower(Absl(text));
  if (lower == "client") return alliance::v1::RATER_CLIENT;
  if (lower == "therapist") return alliance::v1::RATER_THERAPIST;
  if (lower == "observer") return alliance::v1::RATER_OBSERVER;
  return absl::InvalidArgumentError(
      absl::StrCat("rater: '", Absl(text), "' is not client, therapist or observer"));
}

absl::Status ParseAnswers(std::string_view text, alliance::v1::Feedback* feedback) {
  int item = 0;
  for (absl::string_view part : absl::StrSplit(Absl(text), ' ', absl::SkipEmpty())) {
    double value = 0;
    if (!absl::SimpleAtod(part, &value)) {
      return absl::InvalidArgumentError(absl::StrCat("answers: '", part, "' is not a number"));
    }
    alliance::v1::ItemAnswer* answer = feedback->add_answers();
    answer->set_item(++item);
    answer->set_value(value);
  }
  if (item == 0) return absl::InvalidArgumentError("answers: none given");
  return absl::OkStatus();
}

absl::StatusOr<alliance::v1::Feedback> ParseCsvLine(std::string_view line,
                                                    std::string_view default_tenant) {
  std::vector<std::string> cols = absl::StrSplit(Absl(line), ',');
  if (cols.size() != 10) {
    return absl::InvalidArgumentError(absl::StrCat("expected 10 columns, found ", cols.size()));
  }
  for (std::string& c : cols) c = std::string(absl::StripAsciiWhitespace(c));
  alliance::v1::Feedback f;
  f.set_tenant_id(cols[0].empty() ? std::string(default_tenant) : cols[0]);
  f.set_idempotency_id(cols[1]);
  f.set_therapist_id(cols[2]);
  f.set_client_id(cols[3]);
  f.set_session_id(cols[4]);
  int session_number = 0;
  if (!absl::SimpleAtoi(cols[5], &session_number)) {
    return absl::InvalidArgumentError("session_number: not an integer");
  }
  f.set_session_number(session_number);
  if (!google::protobuf::util::TimeUtil::FromString(cols[6], f.mutable_session_time())) {
    return absl::InvalidArgumentError("session_time: not RFC 3339");
  }
  absl::StatusOr<alliance::v1::Rater> rater = ParseRater(cols[7]);
  if (!rater.ok()) return rater.status();
  f.set_rater(*rater);
  f.set_instrument_id(cols[8]);
  if (absl::Status s = ParseAnswers(cols[9], &f); !s.ok()) return s;
  return f;
}

absl::StatusOr<alliance::v1::Feedback> ParseJsonLine(std::string_view line,
                                                     std::string_view default_tenant) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("not JSON: ", e.what()));
  }
  if (!doc.is_object()) return absl::InvalidArgumentError("not a JSON object");
  // Friendly forms: answers as plain numbers, rater as a short word.
  if (doc.contains("answers") && doc["answers"].is_array()) {
    nlohmann::json items = nlohmann::json::array();
    int item = 0;
    for (const auto& a : doc["answers"]) {
      if (a.is_number()) {
        items.push_back({{"item", ++item}, {"value", a.get<double>()}});
      } else {
        items.push_back(a);
      }
    }
    doc["answers"] = items;
  }
  if (doc.contains("rater") && doc["rater"].is_string()) {
    absl::StatusOr<alliance::v1::Rater> rater = ParseRater(doc["rater"].get<std::string>());
    if (rater.ok()) doc["rater"] = alliance::v1::Rater_Name(*rater);
  }
  alliance::v1::Feedback f;
  auto status = google::protobuf::util::JsonStringToMessage(doc.dump(), &f);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("not a Feedback: ", status.ToString()));
  }
  if (f.tenant_id().empty()) f.set_tenant_id(std::string(default_tenant));
  return f;
}

absl::StatusOr<std::vector<alliance::v1::Feedback>> ReadSubmissionFile(
    const std::string& path, std::string_view default_tenant) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  const bool csv = path.size() >= 4 && path.substr(path.size() - 4) == ".csv";
  std::vector<alliance::v1::Feedback> out;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::string_view text = Std(absl::StripAsciiWhitespace(line));
    if (text.empty() || text[0] == '#') continue;
    if (csv && text.starts_with("tenant_id,")) continue;
    absl::StatusOr<alliance::v1::Feedback> f =
        csv ? ParseCsvLine(text, default_tenant) : ParseJsonLine(text, default_tenant);
    if (!f.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", number, ": ", f.status().message()));
    }
    out.push_back(*std::move(f));
  }
  return out;
}

}  // namespace alliance::ctl
