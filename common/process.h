// Process start-up and shutdown shared by the binaries: flags with environment-variable
// equivalents, waiting for SIGTERM/SIGINT, and the exit codes every binary uses.
#ifndef ALLIANCE_COMMON_PROCESS_H_
#define ALLIANCE_COMMON_PROCESS_H_

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace alliance {

// Exit codes of every Alliance binary (docs/operations.md, Probes and shutdown).
inline constexpr int kExitOk = 0;                // clean stop (SIGTERM drained in time)
inline constexpr int kExitRuntimeFailure = 1;    // cannot listen, shutdown over its bound...
inline constexpr int kExitBadConfiguration = 2;  // bad flags, files or partition count

// kExitBadConfiguration for what only a change of configuration fixes (INVALID_ARGUMENT,
// NOT_FOUND, PERMISSION_DENIED, FAILED_PRECONDITION, OUT_OF_RANGE), else kExitRuntimeFailure.
int ExitCodeFor(const absl::Status& status);

// Logs `event` with the status' message at error level and returns ExitCodeFor(status).
int FailStartup(std::string_view event, const absl::Status& status);

// From now on, exits the process with kExitRuntimeFailure (logging "shutdown_timed_out") if it
// is still running after `bound`: a shutdown never hangs a rollout.
void ArmShutdownWatchdog(absl::Duration bound);

// Walks argv the way absl::ParseCommandLine does (--name=value, --name value, --bool,
// --nobool, "--" ends the flags) and returns INVALID_ARGUMENT naming the first unknown flag,
// missing value or value the flag's type rejects (absl's parser would exit 1 on them). OK when
// --help is asked for (help wins over everything else). Values it checks are parsed into the
// flags; absl parses them again right after, to the same result.
absl::Status CheckCommandLineFlags(int argc, char** argv);

// Parses flags. Every flag `--foo_bar` defined in our sources may also be set by the
// environment variable ALLIANCE_FOO_BAR; the command line wins over the environment.
// A bad value in either, or an unknown flag, prints a message naming it and exits
// kExitBadConfiguration (absl's own parser would exit 1). Returns positional arguments.
// `--help` (or -h) prints `usage` and the binary's flags and exits 0; `--version` prints
// common/build_info.h's VersionLine and exits 0; `--helpfull` is absl's full listing.
std::vector<char*> ParseFlagsWithEnv(int argc, char** argv, const char* usage);

// `usage`, then every flag the binary defines with its environment variable, default and help.
void PrintFlagsHelp(std::ostream& out, const char* usage);

// Environment variable name for a flag: "redis_port" -> "ALLIANCE_REDIS_PORT".
std::string EnvNameForFlag(const std::string& flag_name);

// Blocks SIGTERM and SIGINT in the calling thread and every thread it starts later; call at
// the top of main, before any thread exists.
void BlockShutdownSignals();

// Waits until SIGTERM or SIGINT arrives (or `timeout` passes; infinite by default) and
// returns true if a signal arrived.
bool WaitForShutdownSignal(absl::Duration timeout = absl::InfiniteDuration());

// Reads a whole file (e.g. a password or key file). NOT_FOUND / PERMISSION_DENIED naming it.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

}  // namespace alliance

#endif  // ALLIANCE_COMMON_PROCESS_H_
