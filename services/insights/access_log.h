// Access log of the read side: one JSON line (event "access") per call that returned dyads or
// alerts, saying who (API key id), which tenant, which RPC and which dyad or alert ids. Ids
// are pseudonymous; scores, answers and free text never appear.
#ifndef ALLIANCE_SERVICES_INSIGHTS_ACCESS_LOG_H_
#define ALLIANCE_SERVICES_INSIGHTS_ACCESS_LOG_H_

#include <string>
#include <string_view>
#include <vector>

#include "services/insights/tenant.h"

namespace alliance::insights {

// `dyads` as "therapist:client"; `alerts` as alert ids. Writes nothing when both are empty
// and `always` is false (a list that returned nothing read nothing).
void LogAccess(std::string_view method, const Caller& caller, const std::vector<std::string>& dyads,
               const std::vector<std::string>& alerts, bool always = false);

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_ACCESS_LOG_H_
