// ListInstruments: maps the instrument registry (built-in definitions plus --instruments_dir)
// to the API's Instrument messages, so a client can build a form without the server's files.
#ifndef ALLIANCE_SERVICES_INSIGHTS_INSTRUMENTS_RPC_H_
#define ALLIANCE_SERVICES_INSIGHTS_INSTRUMENTS_RPC_H_

#include "alliance/v1/insights.pb.h"
#include "analytics/instrument.h"
#include "analytics/registry.h"

namespace alliance::insights {

// One definition, field for field.
alliance::v1::Instrument ToProto(const analytics::Instrument& instrument);

// Every instrument of `registry`, ordered by id.
alliance::v1::ListInstrumentsResponse ListInstruments(
    const analytics::InstrumentRegistry& registry);

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_INSTRUMENTS_RPC_H_
