// Process start-up and shutdown shared by the binaries: flags with environment-variable
// equivalents, and waiting for SIGTERM/SIGINT.
#ifndef ALLIANCE_COMMON_PROCESS_H_
#define ALLIANCE_COMMON_PROCESS_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace alliance {

// Parses flags. Every flag `--foo_bar` defined in our sources may also be set by the
// environment variable ALLIANCE_FOO_BAR; the command line wins over the environment.
// A bad environment value is an error naming the variable. Returns positional arguments.
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
