// Registry-to-proto mapping of ListInstruments.
#include "services/insights/instruments_rpc.h"

#include <string>

namespace alliance::insights {
namespace {

void FillCutoff(const analytics::Cutoff& in, alliance::v1::Cutoff* out) {
  out->set_value(in.value);
  out->set_direction(in.direction == analytics::CutoffDirection::kAtOrBelow
                         ? alliance::v1::CUTOFF_DIRECTION_AT_OR_BELOW
                         : alliance::v1::CUTOFF_DIRECTION_BELOW);
}

}  // namespace

alliance::v1::Instrument ToProto(const analytics::Instrument& instrument) {
  alliance::v1::Instrument out;
  out.set_id(instrument.id);
  out.set_name(instrument.name);
  // analytics::Rater values match alliance.v1.Rater (analytics/instrument.h).
  for (analytics::Rater rater : instrument.raters) {
    out.add_raters(static_cast<alliance::v1::Rater>(rater));
  }
  out.set_item_count(instrument.item_count);
  out.set_item_min(instrument.item_min);
  out.set_item_max(instrument.item_max);
  out.set_step(instrument.step);
  for (int item : instrument.reverse_items) out.add_reverse_items(item);
  for (const analytics::Subscale& subscale : instrument.subscales) {
    alliance::v1::InstrumentSubscale* s = out.add_subscales();
    s->set_name(subscale.name);
    for (int item : subscale.items) s->add_items(item);
    s->set_factor(subscale.factor);
    if (subscale.cutoff) FillCutoff(*subscale.cutoff, s->mutable_cutoff());
  }
  if (instrument.total_cutoff) FillCutoff(*instrument.total_cutoff, out.mutable_total_cutoff());
  out.set_total_min(instrument.TotalMin());
  out.set_total_max(instrument.TotalMax());
  out.set_population_sd(instrument.population_sd);
  out.set_reliability(instrument.reliability);
  if (instrument.item_check_below) out.set_item_check_below(*instrument.item_check_below);
  for (const std::string& field : instrument.check_fields) out.add_check_fields(field);
  out.set_references(instrument.references);
  return out;
}

alliance::v1::ListInstrumentsResponse ListInstruments(
    const analytics::InstrumentRegistry& registry) {
  alliance::v1::ListInstrumentsResponse response;
  for (const std::string& id : registry.Ids()) {
    if (const analytics::Instrument* instrument = registry.Find(id)) {
      *response.add_instruments() = ToProto(*instrument);
    }
  }
  return response;
}

}  // namespace alliance::insights
