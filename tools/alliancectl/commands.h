// The subcommands of alliancectl. Each returns the process exit code: 0 on success, 1 when a
// call failed (the error is printed on stderr), 2 for bad usage.
#ifndef ALLIANCE_TOOLS_ALLIANCECTL_COMMANDS_H_
#define ALLIANCE_TOOLS_ALLIANCECTL_COMMANDS_H_

#include <string>
#include <vector>

namespace alliance::ctl {

using Args = std::vector<std::string>;  // positional arguments after the subcommand

int Submit(const Args& args);
int ShowDyad(const Args& args);
int ListDyads(const Args& args);
int Timeline(const Args& args);
int ListAlerts(const Args& args);
int Watch(const Args& args);
int Acknowledge(const Args& args);
int Resolve(const Args& args);
// Snoozes an alert (SnoozeAlert): --actor, --reason and --for or --until.
int Snooze(const Args& args);
// Therapist summaries (GetTherapistSummary / ListTherapistSummaries); with a therapist id, that
// therapist's (tools/alliancectl/therapists.cc).
int Therapists(const Args& args);
// Reads an API key on stdin and prints its key file entry (sha256, never the key).
int HashKey(const Args& args);
// Erases one client's data (DeleteClientData, admin key): --client.
int DeleteClient(const Args& args);
// Lists the instruments the service scores with (ListInstruments); with an instrument id, that
// instrument's items.
int Instruments(const Args& args);

}  // namespace alliance::ctl

#endif  // ALLIANCE_TOOLS_ALLIANCECTL_COMMANDS_H_
