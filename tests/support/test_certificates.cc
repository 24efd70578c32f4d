// openssl invocations behind test_certificates.h.
#include "tests/support/test_certificates.h"

#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace alliance::testing {
namespace {

absl::Status Run(const std::string& command) {
  if (std::system((command + " >/dev/null 2>&1").c_str()) != 0) {
    return absl::InternalError(absl::StrCat("failed: ", command));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status MakeTestCa(const std::string& dir, const std::string& name) {
  const std::string base = dir + "/" + name;
  return Run(absl::StrCat("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1",
                          " -nodes -keyout ", base, ".key -out ", base,
                          ".pem -days 1 -subj /CN=", name));
}

absl::Status MakeTestLeaf(const std::string& dir, const std::string& name, const std::string& ca,
                          const std::string& cn) {
  const std::string base = dir + "/" + name;
  std::ofstream(base + ".ext") << "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
  absl::Status request =
      Run(absl::StrCat("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes",
                       " -keyout ", base, ".key -out ", base, ".csr -subj /CN=", cn));
  if (!request.ok()) return request;
  const std::string ca_base = dir + "/" + ca;
  return Run(absl::StrCat("openssl x509 -req -in ", base, ".csr -CA ", ca_base, ".pem -CAkey ",
                          ca_base, ".key -CAcreateserial -days 1 -out ", base, ".pem -extfile ",
                          base, ".ext"));
}

}  // namespace alliance::testing
