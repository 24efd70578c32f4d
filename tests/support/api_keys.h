// Test support: writes an API key file (hashed keys, the format of common/auth.h) so that
// integration tests run the services with authentication on, and builds call metadata.
#ifndef ALLIANCE_TESTS_SUPPORT_API_KEYS_H_
#define ALLIANCE_TESTS_SUPPORT_API_KEYS_H_

#include <grpcpp/client_context.h>

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace alliance::testing {

struct TestKey {
  std::string id;
  std::string key;  // the secret a client presents
  std::string tenant;
  std::vector<std::string> scopes;
};

// Writes `keys` (hashed) to `path`, atomically (write then rename, like a Secret update).
absl::Status WriteApiKeyFile(const std::string& path, const std::vector<TestKey>& keys);

// Sends `key` with a call ("authorization: Bearer <key>"); nothing for an empty key.
void UseKey(grpc::ClientContext& context, const std::string& key);

}  // namespace alliance::testing

#endif  // ALLIANCE_TESTS_SUPPORT_API_KEYS_H_
