// Flag checks of alliance-intake and the bare benchmark server; see server_options.h.
#include "services/intake/server_options.h"

namespace alliance::intake {

absl::Status ValidateServerOptionFlags() { return ValidateGrpcServerFlags(); }

}  // namespace alliance::intake
