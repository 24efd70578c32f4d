// Flags from the environment, shutdown signals and small file helpers for every binary.
#include "common/process.h"

#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/build_info.h"
#include "common/log.h"

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

// Flags absl's parser handles itself (usage and flag files); they are not always found by
// FindCommandLineFlag, so they pass unchecked.
bool IsAbslBuiltIn(absl::string_view name) {
  for (absl::string_view builtin :
       {"help", "helpfull", "helpshort", "helppackage", "helpon", "helpmatch", "version",
        "only_check_args", "flagfile", "fromenv", "tryfromenv", "undefok"}) {
    if (name == builtin) return true;
  }
  return false;
}

}  // namespace

absl::Status CheckCommandLineFlags(int argc, char** argv) {
  // Help wins over everything else.
  for (int i = 1; i < argc; ++i) {
    if (absl::string_view(argv[i]) == "--") break;
    if (absl::string_view(argv[i]) == "--helpfull") return absl::OkStatus();
  }
  if (AsksForHelp(argc, argv)) return absl::OkStatus();
  for (int i = 1; i < argc; ++i) {  // bounded by argc
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-') continue;  // positional ("-" alone too)
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    const size_t eq = arg.find('=');
    const std::string name(arg.substr(0, eq));
    const bool has_value = eq != absl::string_view::npos;
    const std::string value = has_value ? std::string(arg.substr(eq + 1)) : "";
    // Their values come in the same argument or the next one; absl reads both forms.
    if (IsAbslBuiltIn(name)) continue;
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr && absl::StartsWith(name, "no")) {
      // --nofoo sets the bool flag foo to false; it takes no value.
      absl::CommandLineFlag* negated = absl::FindCommandLineFlag(name.substr(2));
      if (negated != nullptr && negated->IsOfType<bool>()) {
        if (has_value) {
          return absl::InvalidArgumentError(absl::StrCat("--", name, " takes no value"));
        }
        continue;
      }
    }
    if (flag == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    std::string text = value;
    if (!has_value) {
      if (flag->IsOfType<bool>()) continue;
      if (i + 1 >= argc) {
        return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
      }
      text = argv[++i];
    }
    std::string error;
    if (!flag->ParseFrom(text, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, "=", text, ": ", error.empty() ? "illegal value" : error));
    }
  }
  return absl::OkStatus();
}

void PrintFlagsHelp(std::ostream& out, const char* usage) {
  out << usage << "\n\nFlags (each may also be set as the environment variable shown; the "
      << "command line wins):\n";
  std::map<std::string, const absl::CommandLineFlag*> sorted;
  for (auto& [name, flag] : absl::GetAllFlags()) {
    if (IsAllianceFlag(*flag)) sorted.emplace(std::string(name), flag);
  }
  for (const auto& [name, flag] : sorted) {
    // Before parsing, the current value is the binary's default: common/grpc_server_bootstrap.h
    // sets per-binary defaults of shared flags that way.
    out << "  --" << name << " (" << EnvNameForFlag(name) << ")  default: \""
        << flag->CurrentValue() << "\"\n      " << flag->Help() << "\n";
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
      std::exit(kExitBadConfiguration);
    }
  }
  // absl's parser exits 1 on an unknown flag or a value it cannot parse; check first so that
  // bad flags exit kExitBadConfiguration like every other configuration error.
  if (absl::Status s = CheckCommandLineFlags(argc, argv); !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    std::exit(kExitBadConfiguration);
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

int ExitCodeFor(const absl::Status& status) {
  if (status.ok()) return kExitOk;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return kExitBadConfiguration;
    default:
      return kExitRuntimeFailure;
  }
}

int FailStartup(std::string_view event, const absl::Status& status) {
  LogError(event, {{"error", std::string_view(status.message().data(), status.message().size())},
                   {"exit_code", int64_t{ExitCodeFor(status)}}});
  return ExitCodeFor(status);
}

void ArmShutdownWatchdog(absl::Duration bound) {
  std::thread([bound] {
    absl::SleepFor(bound);
    LogError("shutdown_timed_out", {{"seconds", absl::ToDoubleSeconds(bound)}});
    _exit(kExitRuntimeFailure);
  }).detach();
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
