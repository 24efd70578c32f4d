// The worker's health endpoint (grpc.health.v1 via gRPC's default health service).
#include "worker/health_server.h"

#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"

namespace alliance::worker {

absl::Status HealthServer::Start(const std::string& host, int port) {
  if (port == 0) return absl::OkStatus();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.RegisterCallbackGenericService(&unimplemented_);
  // IPv6 literals need brackets in a gRPC address.
  const bool ipv6 = host.find(':') != std::string::npos && host.front() != '[';
  const std::string address =
      ipv6 ? absl::StrCat("[", host, "]:", port) : absl::StrCat(host, ":", port);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &bound);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || bound == 0) {
    return absl::UnavailableError(absl::StrCat("health: cannot listen on ", address));
  }
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  health->SetServingStatus("liveness", true);
  health->SetServingStatus("", false);
  return absl::OkStatus();
}

void HealthServer::SetRedisUp(bool up) {
  if (server_ == nullptr) return;
  server_->GetHealthCheckService()->SetServingStatus("", up);
}

void HealthServer::Stop() {
  if (server_ == nullptr) return;
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server_.reset();
}

}  // namespace alliance::worker
