// API-key table, hashing, and per-call authorization behind auth.h.
#include "common/auth.h"

#include <openssl/evp.h>

#include <atomic>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/process.h"
#include "common/strings.h"
#include "nlohmann/json.hpp"

namespace alliance {
namespace {

absl::StatusOr<unsigned> ParseScope(const std::string& name) {
  if (name == "submit") return static_cast<unsigned>(Scope::kSubmit);
  if (name == "read") return static_cast<unsigned>(Scope::kRead);
  if (name == "watch") return static_cast<unsigned>(Scope::kWatch);
  if (name == "admin") return static_cast<unsigned>(Scope::kAdmin);
  return absl::InvalidArgumentError(absl::StrCat("unknown scope '", name, "'"));
}

// Auth failures are logged for the on-call (who was refused and why; the key itself never), at
// most kAuthFailureLogsPerSecond lines a second per process, so that a caller spraying bad keys
// cannot flood the log; the next line carries how many were left out.
constexpr int64_t kAuthFailureLogsPerSecond = 20;

void LogAuthFailure(std::string_view reason, std::string_view key_id, Scope scope) {
  static std::atomic<int64_t> window_second{0};
  static std::atomic<int64_t> logged_in_window{0};
  static std::atomic<int64_t> suppressed{0};
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  int64_t window = window_second.load(std::memory_order_relaxed);
  if (window != now && window_second.compare_exchange_strong(window, now)) {
    logged_in_window.store(0, std::memory_order_relaxed);
  }
  if (logged_in_window.fetch_add(1, std::memory_order_relaxed) >= kAuthFailureLogsPerSecond) {
    suppressed.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  LogWarning("auth_failed", {{"reason", reason},
                             {"key_id", key_id},
                             {"scope", ScopeName(scope)},
                             {"suppressed_before", suppressed.exchange(0)}});
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// The presented key from metadata, or empty.
std::string_view PresentedKey(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    std::string_view value(it->second.data(), it->second.size());
    constexpr std::string_view kBearer = "Bearer ";
    if (value.substr(0, kBearer.size()) == kBearer) return value.substr(kBearer.size());
  }
  if (auto it = metadata.find("x-api-key"); it != metadata.end()) {
    return std::string_view(it->second.data(), it->second.size());
  }
  return {};
}

}  // namespace

std::string_view ScopeName(Scope scope) {
  switch (scope) {
    case Scope::kSubmit:
      return "submit";
    case Scope::kRead:
      return "read";
    case Scope::kWatch:
      return "watch";
    case Scope::kAdmin:
      return "admin";
  }
  return "unknown";
}

std::string HashApiKey(std::string_view key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(key.data(), key.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex;
  hex.reserve(length * 2);
  char buf[3];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", digest[i]);
    hex.append(buf, 2);
  }
  return hex;
}

absl::StatusOr<ApiKeyTable> ApiKeyTable::Parse(std::string_view json, std::string_view source) {
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  auto error = [&](std::string_view field, std::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat(Absl(source), ": field '", Absl(field), "': ", Absl(what)));
  };
  if (doc.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat(Absl(source), ": not valid JSON"));
  }
  if (!doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array()) {
    return error("keys", "must be an array");
  }
  ApiKeyTable table;
  const auto& keys = doc["keys"];
  for (size_t i = 0; i < keys.size(); ++i) {
    const auto& k = keys[i];
    std::string at = absl::StrCat("keys[", i, "]");
    if (!k.is_object()) return error(at, "must be an object");
    for (const char* field : {"id", "sha256", "tenant"}) {
      if (!k.contains(field) || !k[field].is_string() || k[field].get<std::string>().empty()) {
        return error(absl::StrCat(at, ".", field), "must be a non-empty string");
      }
    }
    std::string hash = k["sha256"].get<std::string>();
    if (hash.size() != 64 || !IsLowerHex(hash)) {
      return error(absl::StrCat(at, ".sha256"), "must be 64 lowercase hex digits");
    }
    Principal principal;
    principal.key_id = k["id"].get<std::string>();
    principal.tenant_id = k["tenant"].get<std::string>();
    if (!k.contains("scopes") || !k["scopes"].is_array() || k["scopes"].empty()) {
      return error(absl::StrCat(at, ".scopes"), "must be a non-empty array");
    }
    for (const auto& s : k["scopes"]) {
      absl::StatusOr<unsigned> scope = s.is_string()
                                           ? ParseScope(s.get<std::string>())
                                           : absl::InvalidArgumentError("scopes must be strings");
      if (!scope.ok()) return error(absl::StrCat(at, ".scopes"), Std(scope.status().message()));
      principal.scopes |= *scope;
    }
    if (!table.by_hash_.emplace(hash, std::move(principal)).second) {
      return error(absl::StrCat(at, ".sha256"), "duplicate key");
    }
  }
  return table;
}

absl::StatusOr<Principal> ApiKeyTable::Lookup(std::string_view presented_key) const {
  return LookupHash(HashApiKey(presented_key));
}

absl::StatusOr<Principal> ApiKeyTable::LookupHash(std::string_view key_sha256) const {
  auto it = by_hash_.find(Absl(key_sha256));
  if (it == by_hash_.end()) return absl::UnauthenticatedError("unknown API key");
  return it->second;
}

absl::StatusOr<std::unique_ptr<Authorizer>> Authorizer::FromKeyFile(
    std::string key_file, absl::Duration reload_interval) {
  auto authorizer = std::make_unique<Authorizer>();
  authorizer->enabled_ = true;
  authorizer->key_file_ = std::move(key_file);
  if (absl::Status s = authorizer->Reload(); !s.ok()) return s;
  Authorizer* self = authorizer.get();
  self->reloader_ = std::thread([self, reload_interval] {
    while (!self->stop_.WaitForNotificationWithTimeout(reload_interval)) {
      if (absl::Status s = self->Reload(); !s.ok()) {
        LogWarning("api_keys_reload_failed", {{"error", Std(s.message())}});
      }
    }
  });
  return authorizer;
}

Authorizer::~Authorizer() {
  stop_.Notify();
  if (reloader_.joinable()) reloader_.join();
}

absl::Status Authorizer::Reload() {
  absl::StatusOr<std::string> content = ReadFileToString(key_file_);
  if (!content.ok()) return content.status();
  std::string content_hash = HashApiKey(*content);
  {
    absl::MutexLock lock(&mu_);
    if (content_hash == loaded_content_hash_) return absl::OkStatus();
  }
  absl::StatusOr<ApiKeyTable> table = ApiKeyTable::Parse(*content, key_file_);
  if (!table.ok()) return table.status();
  size_t count = table->size();
  {
    absl::MutexLock lock(&mu_);
    table_ = std::make_shared<const ApiKeyTable>(*std::move(table));
    loaded_content_hash_ = content_hash;
  }
  LogInfo("api_keys_loaded", {{"keys", static_cast<int64_t>(count)}});
  return absl::OkStatus();
}

absl::StatusOr<Principal> Authorizer::Authorize(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata, Scope scope,
    std::string_view requested_tenant) const {
  return Authorize(PresentedKey(metadata), scope, requested_tenant);
}

absl::StatusOr<Principal> Authorizer::Authorize(std::string_view key, Scope scope,
                                                std::string_view requested_tenant) const {
  if (enabled_ && key.empty()) {
    LogAuthFailure("missing_key", "", scope);
    return absl::UnauthenticatedError("missing API key");
  }
  return AuthorizeKeyHash(enabled_ ? HashApiKey(key) : std::string(), scope, requested_tenant);
}

absl::StatusOr<Principal> Authorizer::AuthorizeKeyHash(std::string_view key_sha256, Scope scope,
                                                       std::string_view requested_tenant) const {
  if (!enabled_) {
    Principal anyone;
    anyone.key_id = "auth-disabled";
    anyone.tenant_id = std::string(requested_tenant);
    anyone.scopes = ~0u;
    return anyone;
  }
  if (key_sha256.empty()) {
    LogAuthFailure("missing_key", "", scope);
    return absl::UnauthenticatedError("missing API key");
  }
  std::shared_ptr<const ApiKeyTable> table;
  {
    absl::MutexLock lock(&mu_);
    table = table_;
  }
  absl::StatusOr<Principal> principal = table->LookupHash(key_sha256);
  if (!principal.ok()) {
    LogAuthFailure("unknown_key", "", scope);
    return principal.status();
  }
  if (!principal->Has(scope)) {
    LogAuthFailure("missing_scope", principal->key_id, scope);
    return absl::PermissionDeniedError(absl::StrCat(
        "API key lacks scope \"", Absl(ScopeName(scope)), "\", which this call needs"));
  }
  if (!requested_tenant.empty() && requested_tenant != principal->tenant_id) {
    LogAuthFailure("other_tenant", principal->key_id, scope);
    return absl::PermissionDeniedError("API key is not valid for this tenant");
  }
  return principal;
}

}  // namespace alliance
