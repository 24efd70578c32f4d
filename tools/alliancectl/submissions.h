// Reading feedback submissions for `alliancectl submit`: from flags, a CSV file or a JSON
// lines file. Errors name the line and the column.
#ifndef ALLIANCE_TOOLS_ALLIANCECTL_SUBMISSIONS_H_
#define ALLIANCE_TOOLS_ALLIANCECTL_SUBMISSIONS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "alliance/v1/intake.pb.h"

namespace alliance::ctl {

// One CSV line: tenant_id,idempotency_id,therapist_id,client_id,session_id,session_number,
// session_time(RFC 3339),rater(client|therapist|observer),instrument_id,answers(space
// separated, in item order). An empty tenant_id takes `default_tenant`.
absl::StatusOr<alliance::v1::Feedback> ParseCsvLine(std::string_view line,
                                                    std::string_view default_tenant);

// One JSON line: alliance.v1.Feedback as proto3 JSON, where "answers" may also be a plain
// array of numbers in item order, and "rater" may be "client", "therapist" or "observer".
absl::StatusOr<alliance::v1::Feedback> ParseJsonLine(std::string_view line,
                                                     std::string_view default_tenant);

// Every submission of a file (.csv, or JSON lines otherwise). Blank lines, lines starting
// with '#' and a CSV header line are skipped.
absl::StatusOr<std::vector<alliance::v1::Feedback>> ReadSubmissionFile(
    const std::string& path, std::string_view default_tenant);

// "client" | "therapist" | "observer".
absl::StatusOr<alliance::v1::Rater> ParseRater(std::string_view text);

// Space-separated answers in item order -> ItemAnswers numbered from 1.
absl::Status ParseAnswers(std::string_view text, alliance::v1::Feedback* feedback);

}  // namespace alliance::ctl

#endif  // ALLIANCE_TOOLS_ALLIANCECTL_SUBMISSIONS_H_
