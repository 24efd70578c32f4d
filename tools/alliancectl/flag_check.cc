// The usage check of alliancectl's flags (see flag_check.h for why it exists): the one every
// binary uses, common/process.h.
#include "tools/alliancectl/flag_check.h"

#include "common/process.h"

namespace alliance::ctl {

absl::Status CheckCommandLine(int argc, char** argv) { return CheckCommandLineFlags(argc, argv); }

}  // namespace alliance::ctl
