// Test fixture support: a throw-away certificate authority and leaf certificates made with the
// openssl command line, for TLS and mTLS tests. Files land in `dir` as <name>.pem / <name>.key.
#ifndef ALLIANCE_TESTS_SUPPORT_TEST_CERTIFICATES_H_
#define ALLIANCE_TESTS_SUPPORT_TEST_CERTIFICATES_H_

#include <string>

#include "absl/status/status.h"

namespace alliance::testing {

// A self-signed CA valid for one day: dir/<name>.pem and dir/<name>.key.
absl::Status MakeTestCa(const std::string& dir, const std::string& name);

// A leaf for common name `cn` (SAN localhost and 127.0.0.1) signed by the CA `ca` in `dir`.
// A leaf signed by another CA than the one a peer trusts is made the same way.
absl::Status MakeTestLeaf(const std::string& dir, const std::string& name, const std::string& ca,
                          const std::string& cn);

// Like MakeTestLeaf, but valid only from 2020-01-01 to 2020-01-02: expired, with a CA that is
// valid now (`openssl ca`, which can set past dates, with a throw-away database in `dir`).
absl::Status MakeExpiredTestLeaf(const std::string& dir, const std::string& name,
                                 const std::string& ca, const std::string& cn);

}  // namespace alliance::testing

#endif  // ALLIANCE_TESTS_SUPPORT_TEST_CERTIFICATES_H_
