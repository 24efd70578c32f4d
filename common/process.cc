// Flags from the environment, shutdown signals and small file helpers for every binary.
#include "common/process.h"

#include <signal.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace alliance {

std::string EnvNameForFlag(const std::string& flag_name) {
  std::string env = "ALLIANCE_";
  for (char c : flag_name)
    env.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return env;
}

std::vector<char*> ParseFlagsWithEnv(int argc, char** argv, const char* usage) {
  absl::SetProgramUsageMessage(usage);
  for (auto& [name, flag] : absl::GetAllFlags()) {
    // Only our own flags: absl's and gRPC's internal ones keep their usual behaviour.
    if (absl::StrContains(flag->Filename(), "absl/")) continue;
    std::string env_name = EnvNameForFlag(std::string(name));
    const char* value = std::getenv(env_name.c_str());
    if (value == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      std::fprintf(stderr, "invalid value of %s: %s\n", env_name.c_str(), error.c_str());
      std::exit(2);
    }
  }
  return absl::ParseCommandLine(argc, argv);
}

void BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

bool WaitForShutdownSignal(absl::Duration timeout) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  if (timeout == absl::InfiniteDuration()) {
    int sig = 0;
    return sigwait(&set, &sig) == 0;
  }
  timespec ts = absl::ToTimespec(timeout);
  return sigtimedwait(&set, nullptr, &ts) > 0;
}

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == EACCES) return absl::PermissionDeniedError(absl::StrCat("cannot read ", path));
    return absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace alliance
