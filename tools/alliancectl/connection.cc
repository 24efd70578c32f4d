// Channel credentials and API key of alliancectl; see connection.h.
#include "tools/alliancectl/connection.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/process.h"
#include "tools/alliancectl/ctl_flags.h"

namespace alliance::ctl {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& flag, const std::string& path) {
  absl::StatusOr<std::string> pem = ReadFileToString(path);
  if (!pem.ok())
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": cannot read ", path));
  return pem;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(const std::string& address) {
  const std::string ca = absl::GetFlag(FLAGS_tls_ca_file);
  const std::string cert = absl::GetFlag(FLAGS_tls_cert_file);
  const std::string key = absl::GetFlag(FLAGS_tls_key_file);
  if (cert.empty() != key.empty()) {
    return absl::InvalidArgumentError("--tls_cert_file and --tls_key_file go together");
  }
  if (ca.empty() && cert.empty() && !absl::GetFlag(FLAGS_tls)) {
    return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  }
  grpc::SslCredentialsOptions options;  // empty roots: the system's trust store
  if (!ca.empty()) {
    absl::StatusOr<std::string> pem = ReadPem("tls_ca_file", ca);
    if (!pem.ok()) return pem.status();
    options.pem_root_certs = *std::move(pem);
  }
  if (!cert.empty()) {
    absl::StatusOr<std::string> chain = ReadPem("tls_cert_file", cert);
    if (!chain.ok()) return chain.status();
    absl::StatusOr<std::string> private_key = ReadPem("tls_key_file", key);
    if (!private_key.ok()) return private_key.status();
    options.pem_cert_chain = *std::move(chain);
    options.pem_private_key = *std::move(private_key);
  }
  return grpc::CreateChannel(address, grpc::SslCredentials(options));
}

absl::StatusOr<std::string> ApiKey() {
  if (std::string file = absl::GetFlag(FLAGS_api_key_file); !file.empty()) {
    absl::StatusOr<std::string> content = ReadFileToString(file);
    if (!content.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--api_key_file: cannot read ", file));
    }
    std::string key = content->substr(0, content->find('\n'));
    absl::StripAsciiWhitespace(&key);
    if (key.empty()) return absl::InvalidArgumentError("--api_key_file: the file is empty");
    return key;
  }
  const char* env = std::getenv("ALLIANCE_API_KEY");
  return std::string(env == nullptr ? "" : env);
}

void AddApiKey(grpc::ClientContext* context) {
  // main() checked ApiKey() already; an error here cannot happen twice differently.
  absl::StatusOr<std::string> key = ApiKey();
  if (key.ok() && !key->empty()) context->AddMetadata("authorization", "Bearer " + *key);
}

std::shared_ptr<grpc::Channel> ChannelOrExit(const std::string& address) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = OpenChannel(address);
  if (channel.ok()) return *channel;
  std::fprintf(stderr, "usage error: %s\n", std::string(channel.status().message()).c_str());
  std::exit(2);
}

void PrepareUnaryCall(grpc::ClientContext* context) {
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::milliseconds(absl::GetFlag(FLAGS_timeout_ms)));
  AddApiKey(context);
}

int CallFailed(const grpc::Status& status) {
  std::fprintf(stderr, "error: %s: %s\n",
               absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())).c_str(),
               status.error_message().c_str());
  return 1;
}

}  // namespace alliance::ctl
