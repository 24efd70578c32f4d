// Health-only plaintext server; see health_only_server.h.
#include "common/health_only_server.h"

#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace alliance {

std::string ListenAddress(const std::string& host, int port) {
  if (host.find(':') != std::string::npos && host.front() != '[') {
    return absl::StrCat("[", host, "]:", port);
  }
  return absl::StrCat(host, ":", port);
}

absl::Status HealthOnlyServer::Start(const std::string& address,
                                     const std::function<void(grpc::ServerBuilder&)>& configure) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  if (configure) configure(builder);
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
