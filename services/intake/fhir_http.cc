// POST /fhir/QuestionnaireResponse; see fhir_http.h.
#include "services/intake/fhir_http.h"

#include <chrono>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/fhir/capability.h"
#include "common/fhir/questionnaire_response.h"
#include "common/http/http_auth.h"
#include "common/strings.h"
#include "nlohmann/json.hpp"
#include "services/intake/questionnaire_response_intake.h"

namespace alliance::intake {
namespace {

// The error as an OperationOutcome, with the HTTP status of its code.
http::Response OutcomeResponse(const absl::Status& status) {
  const absl::Status shown = http::StatusShownToCaller(status);
  return http::ResponseForStatus(shown, fhir::kFhirJsonContentType,
                                 fhir::OperationOutcomeJson(shown));
}

// 201 with an informational OperationOutcome naming the acknowledgement (200 for a retry).
http::Response AcceptedResponse(const alliance::v1::SubmitFeedbackResponse& ack) {
  nlohmann::json outcome = {
      {"resourceType", "OperationOutcome"},
      {"issue",
       {{{"severity", "information"},
         {"code", "informational"},
         {"diagnostics",
          ack.duplicate() ? "already stored: a retry of an accepted response" : "stored"}}}}};
  http::Response response;
  response.status = ack.duplicate() ? 200 : 201;
  response.content_type = fhir::kFhirJsonContentType;
  response.body = outcome.dump();
  response.headers.emplace_back("X-Alliance-Accepted-Id", ack.accepted_id());
  response.headers.emplace_back("X-Alliance-Partition", absl::StrCat(ack.partition()));
  response.headers.emplace_back("X-Alliance-Stream-Id", ack.stream_id());
  return response;
}

bool IsJsonContentType(std::string_view content_type) {
  const std::string type = absl::AsciiStrToLower(
      absl::StripAsciiWhitespace(Absl(content_type.substr(0, content_type.find(';')))));
  return type == fhir::kFhirJsonContentType || type == "application/json";
}

}  // namespace

void AddFhirRoutes(const IntakeService* service, http::Router& router) {
  // What a FHIR client may do here; public like any FHIR server's, it names no tenant's data.
  router.Handle("GET", "/fhir/metadata", [](http::Request, http::Responder respond) {
    http::Response response;
    response.content_type = fhir::kFhirJsonContentType;
    response.body = fhir::CapabilityStatementJson(fhir::FhirServer::kIntake);
    std::move(respond)(std::move(response));
  });
  router.Handle(
      "POST", "/fhir/QuestionnaireResponse",
      [service](http::Request request, http::Responder respond) {
        const auto start = std::chrono::steady_clock::now();
        IntakeMetrics* metrics = service->metrics();
        // Shared by the paths below; the Responder is move-only and answers once.
        auto responder = std::make_shared<http::Responder>(std::move(respond));
        auto finish = [responder, metrics, start](const absl::Status& status,
                                                  http::Response response) {
          metrics->RecordCall(
              Method::kSubmitQuestionnaireResponse, static_cast<grpc::StatusCode>(status.code()),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
          std::move (*responder)(std::move(response));
        };
        auto fail = [&finish](const absl::Status& status) {
          finish(status, OutcomeResponse(status));
        };
        // The key first: an unknown caller learns nothing about its request.
        // The tenant is the key's; `?tenant=` may name it (and must, with auth disabled).
        const std::string tenant(request.QueryParam("tenant"));
        absl::StatusOr<Principal> caller = service->authorizer().Authorize(
            http::ApiKeyFromHeaders(request), Scope::kSubmit, tenant);
        if (!caller.ok()) return fail(caller.status());
        if (!IsJsonContentType(request.Header("Content-Type"))) {
          return fail(absl::InvalidArgumentError(
              "QuestionnaireResponse: send it as application/fhir+json (or application/json)"));
        }
        const auto deadline =
            std::chrono::system_clock::now() + absl::ToChronoMilliseconds(kHttpSubmitDeadline);
        SubmitQuestionnaireResponse(
            *service, *caller, tenant, request.body, deadline, nullptr,
            [finish](absl::StatusOr<alliance::v1::SubmitFeedbackResponse> ack) {
              if (!ack.ok()) return finish(ack.status(), OutcomeResponse(ack.status()));
              finish(absl::OkStatus(), AcceptedResponse(*ack));
            });
      });
}

}  // namespace alliance::intake
