// Flags from the environment, shutdown signals and small file helpers for every binary.
#include "common/process.h"

#include <signal.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/build_info.h"

namespace alliance {

std::string EnvNameForFlag(const std::string& flag_name) {
  std::string env = "ALLIANCE_";
  for (char c : flag_name)
    env.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return env;
}

namespace {

// Only our own flags: absl's internal ones keep their usual behaviour.
bool IsAllianceFlag(const absl::CommandLineFlag& flag) {
  return !absl::StrContains(flag.Filename(), "absl/");
}

std::string ProgramName(const char* argv0) {
  const std::string path = argv0 == nullptr ? "alliance" : argv0;
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool AsksForHelp(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") return false;
    if (arg == "--help" || arg == "-help" || arg == "-h") return true;
  }
  return false;
}

}  // namespace

void PrintFlagsHelp(std::ostream& out, const char* usage) {
  out << usage << "\n\nFlags (each may also be set as the environment variable shown; the "
      << "command line wins):\n";
  std::map<std::string, const absl::CommandLineFlag*> sorted;
  for (auto& [name, flag] : absl::GetAllFlags()) {
    if (IsAllianceFlag(*flag)) sorted.emplace(std::string(name), flag);
  }
  for (const auto& [name, flag] : sorted) {
    out << "  --" << name << " (" << EnvNameForFlag(name) << ")  default: \""
        << flag->DefaultValue() << "\"\n      " << flag->Help() << "\n";
  }
  out << "\n  --version  prints the version and source revision\n";
}

std::vector<char*> ParseFlagsWithEnv(int argc, char** argv, const char* usage) {
  absl::SetProgramUsageMessage(usage);
  const std::string program = ProgramName(argc > 0 ? argv[0] : nullptr);
  absl::FlagsUsageConfig config;
  config.version_string = [program] { return VersionLine(program) + "\n"; };
  absl::SetFlagsUsageConfig(config);
  // absl's --help lists only flags defined in a file named like the program (none of ours, so
  // "No flags matched") and exits 1; this lists every flag the binary has, and exits 0.
  if (AsksForHelp(argc, argv)) {
    PrintFlagsHelp(std::cout, usage);
    std::exit(0);
  }
  for (auto& [name, flag] : absl::GetAllFlags()) {
    if (!IsAllianceFlag(*flag)) continue;
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
