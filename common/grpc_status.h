// Maps absl::Status to grpc::Status at the service edge (the codes share their numbers), and
// names the codes as metrics and logs spell them.
#ifndef ALLIANCE_COMMON_GRPC_STATUS_H_
#define ALLIANCE_COMMON_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include <array>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace alliance {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

// Every gRPC status code, in number order (0 OK .. 16 UNAUTHENTICATED).
inline constexpr int kGrpcCodeCount = 17;

// "OK", "INVALID_ARGUMENT", ..., "UNAUTHENTICATED": the canonical name of `code`, as the
// `code` label of every request metric says it; "UNKNOWN" for a number outside 0..16.
inline std::string_view GrpcCodeName(grpc::StatusCode code) {
  static constexpr std::array<std::string_view, kGrpcCodeCount> kNames = {"OK",
                                                                          "CANCELLED",
                                                                          "UNKNOWN",
                                                                          "INVALID_ARGUMENT",
                                                                          "DEADLINE_EXCEEDED",
                                                                          "NOT_FOUND",
                                                                          "ALREADY_EXISTS",
                                                                          "PERMISSION_DENIED",
                                                                          "RESOURCE_EXHAUSTED",
                                                                          "FAILED_PRECONDITION",
                                                                          "ABORTED",
                                                                          "OUT_OF_RANGE",
                                                                          "UNIMPLEMENTED",
                                                                          "INTERNAL",
                                                                          "UNAVAILABLE",
                                                                          "DATA_LOSS",
                                                                          "UNAUTHENTICATED"};
  const int n = static_cast<int>(code);
  return n >= 0 && n < kGrpcCodeCount ? kNames[static_cast<size_t>(n)] : "UNKNOWN";
}

}  // namespace alliance

#endif  // ALLIANCE_COMMON_GRPC_STATUS_H_
