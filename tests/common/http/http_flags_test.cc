// The --http_* flags: defaults, validation naming the flag, TLS taken from the security flags.
#include "common/http/http_flags.h"

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "common/security.h"
#include "common/strings.h"
#include "gtest/gtest.h"

namespace alliance::http {
namespace {

TEST(HttpFlagsTest, DefaultsAreValid) {
  absl::FlagSaver saver;
  auto options = HttpServerOptionsFromFlags();
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->port, 0);  // no HTTP port unless the binary or the operator sets one
  EXPECT_EQ(options->max_body_bytes, 1u << 20);
  EXPECT_FALSE(options->tls.enabled());
  SetHttpServerFlagDefaults({.http_port = 8080});
  EXPECT_EQ(HttpServerOptionsFromFlags()->port, 8080);
}

TEST(HttpFlagsTest, BadValuesNameTheFlag) {
  struct Case {
    std::function<void()> set;
    std::string flag;
  };
  const std::vector<Case> cases = {
      {[] { absl::SetFlag(&FLAGS_http_port, 70000); }, "--http_port"},
      {[] { absl::SetFlag(&FLAGS_http_max_body_bytes, 0); }, "--http_max_body_bytes"},
      {[] { absl::SetFlag(&FLAGS_http_idle_timeout, absl::ZeroDuration()); },
       "--http_idle_timeout"},
      {[] { absl::SetFlag(&FLAGS_http_read_timeout, absl::InfiniteDuration()); },
       "--http_read_timeout"},
      {[] { absl::SetFlag(&FLAGS_http_max_connections, 0); }, "--http_max_connections"},
      {[] { absl::SetFlag(&FLAGS_http_threads, 0); }, "--http_threads"},
      {[] { absl::SetFlag(&FLAGS_tls_cert_file, "/cert.pem"); }, "--tls_key_file"},
      {[] { absl::SetFlag(&FLAGS_tls_client_ca_file, "/ca.pem"); }, "--tls_client_ca_file"},
  };
  for (const Case& c : cases) {
    absl::FlagSaver saver;
    c.set();
    auto options = HttpServerOptionsFromFlags();
    EXPECT_EQ(options.status().code(), absl::StatusCode::kInvalidArgument) << c.flag;
    EXPECT_TRUE(absl::StrContains(options.status().message(), Absl(c.flag))) << options.status();
  }
}

TEST(HttpFlagsTest, TlsComesFromTheSecurityFlags) {
  absl::FlagSaver saver;
  absl::SetFlag(&FLAGS_tls_cert_file, "/c.pem");
  absl::SetFlag(&FLAGS_tls_key_file, "/c.key");
  absl::SetFlag(&FLAGS_tls_client_ca_file, "/ca.pem");
  absl::SetFlag(&FLAGS_tls_reload_s, 7);
  auto options = HttpServerOptionsFromFlags();
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_TRUE(options->tls.enabled());
  EXPECT_EQ(options->tls.cert_file, "/c.pem");
  EXPECT_EQ(options->tls.key_file, "/c.key");
  EXPECT_EQ(options->tls.client_ca_file, "/ca.pem");
  EXPECT_EQ(options->tls.reload_interval, absl::Seconds(7));
}

}  // namespace
}  // namespace alliance::http
