// The worker's health endpoint (grpc.health.v1 via gRPC's default health service).
#include "worker/health_server.h"

#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"

namespace alliance::worker {

absl::Status HealthServer::Start(int port) {
  if (port == 0) return absl::OkStatus();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.RegisterCallbackGenericService(&unimplemented_);
  builder.AddListeningPort(absl::StrCat("0.0.0.0:", port), grpc::InsecureServerCredentials(),
                           &bound);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || bound == 0) {
    return absl::UnavailableError(absl::StrCat("health: cannot listen on port ", port));
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
