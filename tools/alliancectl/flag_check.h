// Checks alliancectl's command line before absl parses it, so that an unknown flag or an
// illegal value is a usage error (exit 2, as documented) rather than absl's exit 1.
#ifndef ALLIANCE_TOOLS_ALLIANCECTL_FLAG_CHECK_H_
#define ALLIANCE_TOOLS_ALLIANCECTL_FLAG_CHECK_H_

#include "absl/status/status.h"

namespace alliance::ctl {

// common/process.h's CheckCommandLineFlags (the same check for every binary): INVALID_ARGUMENT
// naming the first unknown flag, missing value or value the flag's type rejects; OK when --help
// is asked for. alliancectl prints it as a usage error.
absl::Status CheckCommandLine(int argc, char** argv);

}  // namespace alliance::ctl

#endif  // ALLIANCE_TOOLS_ALLIANCECTL_FLAG_CHECK_H_
