// API key files for tests; see api_keys.h.
#include "tests/support/api_keys.h"

#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/auth.h"

namespace alliance::testing {

absl::Status WriteApiKeyFile(const std::string& path, const std::vector<TestKey>& keys) {
  std::string json = "{\"keys\": [";
  for (size_t i = 0; i < keys.size(); ++i) {
    const TestKey& k = keys[i];
    absl::StrAppend(&json, i == 0 ? "" : ",", "{\"id\":\"", k.id, "\",\"sha256\":\"",
                    HashApiKey(k.key), "\",\"tenant\":\"", k.tenant, "\",\"scopes\":[");
    for (size_t s = 0; s < k.scopes.size(); ++s) {
      absl::StrAppend(&json, s == 0 ? "" : ",", "\"", k.scopes[s], "\"");
    }
    json += "]}";
  }
  json += "]}\n";
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << json;
    if (!out.good()) return absl::InternalError(absl::StrCat("cannot write ", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename ", tmp));
  }
  return absl::OkStatus();
}

void UseKey(grpc::ClientContext& context, const std::string& key) {
  if (!key.empty()) context.AddMetadata("authorization", "Bearer " + key);
}

}  // namespace alliance::testing
