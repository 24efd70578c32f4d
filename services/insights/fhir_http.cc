// The FHIR routes of insights; see fhir_http.h.
#include "services/insights/fhir_http.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/fhir/capability.h"
#include "common/fhir/questionnaire_response.h"
#include "common/http/http_auth.h"
#include "services/insights/access_log.h"
#include "services/insights/fhir_definitions.h"
#include "services/insights/fhir_queries.h"
#include "services/insights/metered_http_call.h"
#include "services/insights/tenant.h"

namespace alliance::insights {
namespace {

// The error as an OperationOutcome, with the HTTP status of its code.
http::Response Outcome(const absl::Status& status) {
  const absl::Status shown = http::StatusShownToCaller(status);
  return http::ResponseForStatus(shown, fhir::kFhirJsonContentType,
                                 fhir::OperationOutcomeJson(shown));
}

http::Response Resource(std::string json) {
  http::Response response;
  response.content_type = fhir::kFhirJsonContentType;
  response.body = std::move(json);
  return response;
}

// The routes' calls answer errors as OperationOutcomes.
class Call : public MeteredHttpCall {
 public:
  Call(ServiceMetrics* metrics, std::string_view method, http::Responder respond)
      : MeteredHttpCall(metrics, method, std::move(respond), &Outcome) {}
};

// Instrument definitions: the same for every tenant, answered on the server thread.
void ServeQuestionnaire(const FhirRouteDeps& deps, const FhirDefinitions& definitions,
                        const http::Request& request, std::string_view instrument_id,
                        http::Responder respond) {
  Call call(deps.metrics, "GetFhirQuestionnaire", std::move(respond));
  absl::Status status =
      deps.authorizer->Authorize(http::ApiKeyFromHeaders(request), Scope::kRead, "").status();
  if (status.ok()) status = CheckId("instrument_id", instrument_id, true);
  if (!status.ok()) return call.Fail(status);
  absl::StatusOr<alliance::v1::FhirResource> resource = definitions.Questionnaire(instrument_id);
  if (!resource.ok()) return call.Fail(resource.status());
  call.Finish(absl::OkStatus(), Resource(std::move(*resource->mutable_json())));
}

void ServeDyadBundle(const FhirRouteDeps& deps, const http::Request& request,
                     alliance::v1::FhirBundleType type, http::Responder respond) {
  auto call = std::make_shared<Call>(deps.metrics, "GetDyadFhirBundle", std::move(respond));
  absl::StatusOr<Caller> caller = ResolveCaller(*deps.authorizer, http::ApiKeyFromHeaders(request),
                                                Scope::kRead, request.QueryParam("tenant"));
  if (!caller.ok()) return call->Fail(caller.status());
  std::string therapist = request.path_params.at(0);
  std::string client = request.path_params.at(1);
  absl::Status invalid = CheckId("therapist_id", therapist, false);
  if (invalid.ok()) invalid = CheckId("client_id", client, false);
  if (!invalid.ok()) return call->Fail(invalid);
  const bool queued = deps.pool->Submit(
      [deps, call, type, caller = *std::move(caller), therapist = std::move(therapist),
       client = std::move(client)](absl::StatusOr<RedisExecutor*> redis) {
        if (!redis.ok()) return call->Fail(redis.status());
        absl::StatusOr<fhir::DyadFhirInput> input = ReadDyadFhirInput(
            **redis, *deps.layout, *deps.registry, caller.tenant, therapist, client);
        if (!input.ok()) return call->Fail(input.status());
        LogAccess("GetDyadFhirBundle", caller, {absl::StrCat(therapist, ":", client)}, {});
        call->Finish(
            absl::OkStatus(),
            Resource(std::move(*DyadBundleResource(*input, type, *deps.registry).mutable_json())));
      });
  if (!queued) call->Fail(absl::ResourceExhaustedError("too many queries queued; retry later"));
}

}  // namespace

void AddFhirRoutes(const FhirRouteDeps& deps, http::Router& router) {
  // The handlers share these, rendered once; they live as long as the router's handlers.
  auto definitions = std::make_shared<const FhirDefinitions>(*deps.registry);
  auto capability = std::make_shared<const std::string>(
      fhir::CapabilityStatementJson(fhir::FhirServer::kInsights));
  // What a FHIR client may do here; public like any FHIR server's, it names no tenant's data.
  router.Handle("GET", "/fhir/metadata", [capability](http::Request, http::Responder respond) {
    std::move(respond)(Resource(*capability));
  });
  router.Handle("GET", "/fhir/Questionnaire",
                [deps, definitions](http::Request request, http::Responder r) {
                  ServeQuestionnaire(deps, *definitions, request, "", std::move(r));
                });
  router.Handle("GET", "/fhir/Questionnaire/{id}",
                [deps, definitions](http::Request request, http::Responder r) {
                  const std::string id = request.path_params.at(0);
                  // An empty id would be the bundle; the route never captures one.
                  ServeQuestionnaire(deps, *definitions, request, id, std::move(r));
                });
  router.Handle(
      "GET", "/fhir/CodeSystem/alliance",
      [deps, definitions](http::Request request, http::Responder r) {
        Call call(deps.metrics, "GetFhirQuestionnaire", std::move(r));
        absl::Status status =
            deps.authorizer->Authorize(http::ApiKeyFromHeaders(request), Scope::kRead, "").status();
        if (!status.ok()) return call.Fail(status);
        call.Finish(absl::OkStatus(), Resource(definitions->code_system()));
      });
  router.Handle("GET", "/fhir/dyads/{therapist_id}/{client_id}",
                [deps](http::Request request, http::Responder r) {
                  ServeDyadBundle(deps, request, alliance::v1::FHIR_BUNDLE_TYPE_SEARCHSET,
                                  std::move(r));
                });
  router.Handle("GET", "/fhir/dyads/{therapist_id}/{client_id}/$export",
                [deps](http::Request request, http::Responder r) {
                  ServeDyadBundle(deps, request, alliance::v1::FHIR_BUNDLE_TYPE_TRANSACTION,
                                  std::move(r));
                });
}

}  // namespace alliance::insights
