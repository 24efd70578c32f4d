// Maps absl::Status to grpc::Status at the service edge (the codes share their numbers).
#ifndef ALLIANCE_COMMON_GRPC_STATUS_H_
#define ALLIANCE_COMMON_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include <string>

#include "absl/status/status.h"

namespace alliance {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace alliance

#endif  // ALLIANCE_COMMON_GRPC_STATUS_H_
