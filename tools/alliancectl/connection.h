// How alliancectl reaches the services: channel credentials (plaintext, TLS, or mTLS from
// --tls_ca_file / --tls_cert_file / --tls_key_file) and the API key sent with every call
// ("authorization: Bearer <key>", from --api_key_file or ALLIANCE_API_KEY).
#ifndef ALLIANCE_TOOLS_ALLIANCECTL_CONNECTION_H_
#define ALLIANCE_TOOLS_ALLIANCECTL_CONNECTION_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace alliance::ctl {

// Channel to `address` with the credentials the TLS flags ask for.
absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(const std::string& address);

// OpenChannel, or, when the channel cannot be built (an unreadable certificate), the reason as
// a usage error and exit 2.
std::shared_ptr<grpc::Channel> ChannelOrExit(const std::string& address);

// The API key: the first line of --api_key_file, else $ALLIANCE_API_KEY, else empty.
absl::StatusOr<std::string> ApiKey();

// Adds the API key (if any) to a call.
void AddApiKey(grpc::ClientContext* context);

// Deadline (--timeout_ms) and API key of a unary call.
void PrepareUnaryCall(grpc::ClientContext* context);

// Prints "error: CODE: message" on stderr; returns 1, the exit code of a failed call.
int CallFailed(const grpc::Status& status);

}  // namespace alliance::ctl

#endif  // ALLIANCE_TOOLS_ALLIANCECTL_CONNECTION_H_
