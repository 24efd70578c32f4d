// alliancectl's FHIR commands; see fhir_commands.h.
#include "tools/alliancectl/fhir_commands.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "alliance/v1/insights.grpc.pb.h"
#include "alliance/v1/intake.grpc.pb.h"
#include "tools/alliancectl/connection.h"
#include "tools/alliancectl/ctl_flags.h"

namespace alliance::ctl {
namespace {

// Largest file read: far above any QuestionnaireResponse intake accepts (64 KiB).
constexpr std::streamsize kMaxFileBytes = 1 << 20;

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot be read"));
  std::string text(static_cast<size_t>(kMaxFileBytes) + 1, '\0');
  in.read(text.data(), kMaxFileBytes + 1);
  if (in.gcount() > kMaxFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": larger than 1 MiB"));
  }
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

int PrintResource(const alliance::v1::FhirResource& resource) {
  std::printf("%s\n", resource.json().c_str());
  return 0;
}

}  // namespace

int FhirSubmit(const Args& args) {
  if (args.empty()) {
    std::fprintf(stderr, "usage error: fhir-submit takes one or more files\n");
    return 2;
  }
  std::shared_ptr<grpc::Channel> channel = ChannelOrExit(absl::GetFlag(FLAGS_intake));
  auto stub = alliance::v1::FeedbackIntake::NewStub(channel);
  int refused = 0;
  for (const std::string& path : args) {
    absl::StatusOr<std::string> json = ReadFile(path);
    if (!json.ok()) {
      std::printf("%s\tUNREADABLE\t%s\n", path.c_str(),
                  std::string(json.status().message()).c_str());
      ++refused;
      continue;
    }
    alliance::v1::SubmitQuestionnaireResponseRequest request;
    request.set_tenant_id(absl::GetFlag(FLAGS_tenant));
    request.set_questionnaire_response_json(*std::move(json));
    alliance::v1::SubmitFeedbackResponse ack;
    grpc::ClientContext context;
    PrepareUnaryCall(&context);
    grpc::Status status = stub->SubmitQuestionnaireResponse(&context, request, &ack);
    if (status.ok()) {
      std::printf("%s\t%s\t%s\n", path.c_str(), ack.duplicate() ? "duplicate" : "accepted",
                  ack.accepted_id().c_str());
    } else {
      std::printf(
          "%s\t%s\t%s\n", path.c_str(),
          absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())).c_str(),
          status.error_message().c_str());
      ++refused;
    }
  }
  return refused == 0 ? 0 : 1;
}

int FhirQuestionnaire(const Args& args) {
  std::shared_ptr<grpc::Channel> channel = ChannelOrExit(absl::GetFlag(FLAGS_insights));
  alliance::v1::GetFhirQuestionnaireRequest request;
  if (!args.empty()) request.set_instrument_id(args.front());
  alliance::v1::FhirResource resource;
  grpc::ClientContext context;
  PrepareUnaryCall(&context);
  grpc::Status status = alliance::v1::AllianceInsights::NewStub(channel)->GetFhirQuestionnaire(
      &context, request, &resource);
  if (!status.ok()) return CallFailed(status);
  return PrintResource(resource);
}

int FhirBundle(const Args& /*args*/) {
  if (absl::GetFlag(FLAGS_therapist).empty() || absl::GetFlag(FLAGS_client).empty()) {
    std::fprintf(stderr, "usage error: fhir-bundle needs --therapist and --client\n");
    return 2;
  }
  std::shared_ptr<grpc::Channel> channel = ChannelOrExit(absl::GetFlag(FLAGS_insights));
  alliance::v1::GetDyadFhirBundleRequest request;
  request.set_tenant_id(absl::GetFlag(FLAGS_tenant));
  request.set_therapist_id(absl::GetFlag(FLAGS_therapist));
  request.set_client_id(absl::GetFlag(FLAGS_client));
  request.set_type(absl::GetFlag(FLAGS_export) ? alliance::v1::FHIR_BUNDLE_TYPE_TRANSACTION
                                               : alliance::v1::FHIR_BUNDLE_TYPE_SEARCHSET);
  alliance::v1::FhirResource resource;
  grpc::ClientContext context;
  PrepareUnaryCall(&context);
  grpc::Status status = alliance::v1::AllianceInsights::NewStub(channel)->GetDyadFhirBundle(
      &context, request, &resource);
  if (!status.ok()) return CallFailed(status);
  return PrintResource(resource);
}

}  // namespace alliance::ctl
