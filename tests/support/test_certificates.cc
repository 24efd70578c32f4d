// openssl invocations behind test_certificates.h.
#include "tests/support/test_certificates.h"

#include <cstdlib>
#include <filesystem>
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

// A key and certificate request for `cn` at base.key / base.csr, and the SAN extension file
// base.ext both kinds of leaf use.
absl::Status MakeRequest(const std::string& base, const std::string& cn) {
  std::ofstream(base + ".ext") << "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
  return Run(absl::StrCat("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes",
                          " -keyout ", base, ".key -out ", base, ".csr -subj /CN=", cn));
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
  if (absl::Status request = MakeRequest(base, cn); !request.ok()) return request;
  const std::string ca_base = dir + "/" + ca;
  return Run(absl::StrCat("openssl x509 -req -in ", base, ".csr -CA ", ca_base, ".pem -CAkey ",
                          ca_base, ".key -CAcreateserial -days 1 -out ", base, ".pem -extfile ",
                          base, ".ext"));
}

absl::Status MakeExpiredTestLeaf(const std::string& dir, const std::string& name,
                                 const std::string& ca, const std::string& cn) {
  const std::string base = dir + "/" + name;
  if (absl::Status request = MakeRequest(base, cn); !request.ok()) return request;
  // `openssl x509 -req` only signs from now on; `openssl ca` takes any dates but wants a
  // configuration, an index and a serial file.
  std::ofstream(base + ".index").close();
  std::ofstream(base + ".serial") << "01\n";
  std::error_code ignored;
  std::filesystem::create_directory(base + ".issued", ignored);  // openssl ca's copy of it
  std::ofstream(base + ".cnf") << "[ca]\ndefault_ca = expired\n[expired]\n"
                               << "database = " << base << ".index\n"
                               << "serial = " << base << ".serial\n"
                               << "new_certs_dir = " << base << ".issued\n"
                               << "default_md = sha256\npolicy = any\nunique_subject = no\n"
                               << "[any]\ncommonName = supplied\n";
  const std::string ca_base = dir + "/" + ca;
  return Run(absl::StrCat("openssl ca -batch -notext -config ", base, ".cnf -cert ", ca_base,
                          ".pem -keyfile ", ca_base, ".key -in ", base, ".csr -out ", base,
                          ".pem -startdate 20200101000000Z -enddate 20200102000000Z -extfile ",
                          base, ".ext"));
}

}  // namespace alliance::testing
