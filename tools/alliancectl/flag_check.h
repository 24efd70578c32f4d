// Checks alliancectl's command line before absl parses it, so that an unknown flag or an
// illegal value is a usage error (exit 2, as documented) rather than absl's exit 1.
#ifndef ALLIANCE_TOOLS_ALLIANCECTL_FLAG_CHECK_H_
#define ALLIANCE_TOOLS_ALLIANCECTL_FLAG_CHECK_H_

#include "absl/status/status.h"

namespace alliance::ctl {

// Walks argv the way absl::ParseCommandLine does (--name=value, --name value, --bool,
// --nobool, "--" ends the flags) and returns INVALID_ARGUMENT naming the first unknown flag,
// missing value or value the flag's type rejects. Returns OK when --help is asked for (help
// wins over everything else). Values it checks are parsed into the flags; absl parses them
// again right after, to the same result.
absl::Status CheckCommandLine(int argc, char** argv);

}  // namespace alliance::ctl

#endif  // ALLIANCE_TOOLS_ALLIANCECTL_FLAG_CHECK_H_
