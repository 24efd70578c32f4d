// Health-only plaintext server; see health_only_server.h.
#include "common/health_only_server.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/reflection.h"
#include "common/server_transport.h"

namespace alliance {

// A health check request is a service name: a few hundred bytes at most.
constexpr size_t kMaxHealthRequestBytes = 4096;

absl::Status HealthOnlyServer::Start(const std::string& address) {
  grpc::ServerBuilder builder;
  ApplyServerTransportFromFlags(builder, kMaxHealthRequestBytes);
  ServeReflection(builder, false);
  builder.RegisterCallbackGenericService(&no_api_);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port_);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    server_.reset();
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address));
  }
  return absl::OkStatus();
}

void HealthOnlyServer::Shutdown(absl::Time deadline) {
  if (server_ != nullptr) server_->Shutdown(absl::ToChronoTime(deadline));
}

}  // namespace alliance
