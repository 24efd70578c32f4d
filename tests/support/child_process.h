// Test fixture support: runs one of our binaries as a child process with its output in a log
// file, so integration tests exercise the real deployables (flags, signals, exit codes).
#ifndef ALLIANCE_TESTS_SUPPORT_CHILD_PROCESS_H_
#define ALLIANCE_TESTS_SUPPORT_CHILD_PROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace alliance::testing {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();  // SIGKILLs a process still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts `binary` with `args`; stdout and stderr go to `log_path`. The child's environment is
  // the test's plus ALLIANCE_LISTEN_HOST=127.0.0.1: services bind loopback unless `args` say
  // otherwise.
  absl::Status Start(const std::string& binary, const std::vector<std::string>& args,
                     const std::string& log_path);
  // Sends a signal (SIGTERM, SIGKILL...).
  void Signal(int sig);
  // Waits up to `timeout` for exit; returns the exit code (128+signal when killed by one).
  std::optional<int> Wait(absl::Duration timeout);
  // SIGKILL and reap.
  void Kill();
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }
  // The log file's contents (for assertions and for failure messages).
  std::string ReadLog() const;

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

// Waits until something accepts TCP connections on 127.0.0.1:port.
absl::Status WaitForPort(int port, absl::Duration timeout);

// Path of a built binary, e.g. BinaryPath("alliance-intake"), from ALLIANCE_BIN_DIR.
std::string BinaryPath(const std::string& name);

// Path inside the source tree, e.g. SourcePath("scripts/sample_cohort.py").
std::string SourcePath(const std::string& relative);

}  // namespace alliance::testing

#endif  // ALLIANCE_TESTS_SUPPORT_CHILD_PROCESS_H_
