// API-key authentication and scope/tenant authorization for the gRPC services. Keys are
// stored hashed (SHA-256, hex) in a JSON file that a Kubernetes Secret provides:
//   {"keys": [{"id": "dash-1", "sha256": "<hex>", "tenant": "clinic-a",
//              "scopes": ["read", "watch"]}]}
// Callers present a key as "authorization: Bearer <key>" or "x-api-key: <key>". The tenant a
// call may touch comes from its key, never from the request body.
#ifndef ALLIANCE_COMMON_AUTH_H_
#define ALLIANCE_COMMON_AUTH_H_

#include <grpcpp/server_context.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace alliance {

enum class Scope : unsigned { kSubmit = 1, kRead = 2, kWatch = 4, kAdmin = 8 };

// "submit", "read", "watch", "admin": the names the key file and error messages use.
std::string_view ScopeName(Scope scope);

struct Principal {
  std::string key_id;     // safe to log; the key itself never is
  std::string tenant_id;  // the only tenant this caller may read or write
  unsigned scopes = 0;    // bit set of Scope
  bool Has(Scope scope) const { return (scopes & static_cast<unsigned>(scope)) != 0; }
};

// Immutable table of hashed keys.
class ApiKeyTable {
 public:
  // Parses the key file. Errors name `source` and the entry, e.g. "keys.json: keys[2].scopes".
  static absl::StatusOr<ApiKeyTable> Parse(std::string_view json, std::string_view source);
  // UNAUTHENTICATED for an unknown key.
  absl::StatusOr<Principal> Lookup(std::string_view presented_key) const;
  // The same for a key's hash (HashApiKey's form), e.g. one a dashboard session stored.
  absl::StatusOr<Principal> LookupHash(std::string_view key_sha256) const;
  size_t size() const { return by_hash_.size(); }

 private:
  absl::flat_hash_map<std::string, Principal> by_hash_;
};

// Lowercase hex SHA-256 of `key`, the form stored in the key file.
std::string HashApiKey(std::string_view key);

// Checks every call. With auth disabled (an explicit flag; start-up logs a warning) the
// caller may name any tenant and has every scope.
class Authorizer {
 public:
  // Auth disabled.
  Authorizer() = default;
  // Auth on, keys loaded from `key_file` and reloaded when the file changes (polled every
  // `reload_interval`; a bad new file is logged and the previous keys stay).
  static absl::StatusOr<std::unique_ptr<Authorizer>> FromKeyFile(std::string key_file,
                                                                 absl::Duration reload_interval);
  ~Authorizer();

  // Returns the caller's principal for a call that needs `scope` on `requested_tenant`
  // (empty: the key's own tenant). UNAUTHENTICATED: no or unknown key. PERMISSION_DENIED:
  // missing scope (the message names it) or another tenant. Every refusal is logged as
  // `auth_failed` with its reason, the key id when the key is known and the scope (never the
  // key), at most 20 lines a second with a count of those left out.
  absl::StatusOr<Principal> Authorize(const grpc::CallbackServerContext& context, Scope scope,
                                      std::string_view requested_tenant) const {
    return Authorize(context.client_metadata(), scope, requested_tenant);
  }
  absl::StatusOr<Principal> Authorize(
      const std::multimap<grpc::string_ref, grpc::string_ref>& metadata, Scope scope,
      std::string_view requested_tenant) const;
  // The same check for a key the caller already took from its request (the HTTP port:
  // common/http/http_auth.h); empty `presented_key`: no key presented. Same errors and log.
  absl::StatusOr<Principal> Authorize(std::string_view presented_key, Scope scope,
                                      std::string_view requested_tenant) const;
  // The same check for a key known only by its hash (HashApiKey's form), as a dashboard
  // session stores it: checked against the current key file, so a key removed from it is
  // refused (UNAUTHENTICATED) however it was presented. Same errors and log.
  absl::StatusOr<Principal> AuthorizeKeyHash(std::string_view key_sha256, Scope scope,
                                             std::string_view requested_tenant) const;

  bool enabled() const { return enabled_; }
  // Re-reads the key file now (the reload thread calls this too).
  absl::Status Reload();

 private:
  bool enabled_ = false;
  std::string key_file_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const ApiKeyTable> table_ ABSL_GUARDED_BY(mu_);
  std::string loaded_content_hash_ ABSL_GUARDED_BY(mu_);
  absl::Notification stop_;
  std::thread reloader_;
};

}  // namespace alliance

#endif  // ALLIANCE_COMMON_AUTH_H_
