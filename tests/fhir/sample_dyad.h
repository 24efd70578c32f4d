// A realistic hand-made dyad for the FHIR tests and the resource writer: six sessions rated by
// the client (WAI-SR) and the therapist (WAI-SR-T), a client rupture at session 4 that was not
// repaired (rupture and unrepaired alerts open) and a dyad-level disengagement alert at
// session 6. Scores are the sums of the answers a person would give; nothing is computed here.
#ifndef ALLIANCE_TESTS_FHIR_SAMPLE_DYAD_H_
#define ALLIANCE_TESTS_FHIR_SAMPLE_DYAD_H_

#include <string>

#include "common/fhir/dyad_bundle.h"

namespace alliance::fhir::testing {

inline void AddSubscale(alliance::v1::TimelinePoint* point, const std::string& name, double score,
                        double pomp) {
  alliance::v1::SubscaleScore* sub = point->add_subscales();
  sub->set_name(name);
  sub->set_score(score);
  sub->set_pomp(pomp);
}

// WAI-SR total 12..60; subscales of 4 items each, 4..20.
inline alliance::v1::TimelinePoint* AddWaiPoint(DyadFhirInput& input, int session,
                                                alliance::v1::Rater rater, double task, double bond,
                                                double goal) {
  alliance::v1::TimelinePoint* point = input.timeline.add_points();
  point->set_session_number(session);
  // Weekly sessions from 2026-03-02T09:30:00Z.
  point->mutable_session_time()->set_seconds(1772443800 + (session - 1) * 7 * 86400);
  point->set_rater(rater);
  point->set_instrument_id(rater == alliance::v1::RATER_CLIENT ? "wai-sr" : "wai-sr-t");
  point->set_session_id("sess-" + std::to_string(session));
  point->set_idempotency_id(std::string(rater == alliance::v1::RATER_CLIENT ? "c" : "t") +
                            "-2026-" + std::to_string(session));
  double total = task + bond + goal;
  point->set_total(total);
  point->set_pomp((total - 12) / 48 * 100);
  AddSubscale(point, "task", task, (task - 4) / 16 * 100);
  AddSubscale(point, "bond", bond, (bond - 4) / 16 * 100);
  AddSubscale(point, "goal", goal, (goal - 4) / 16 * 100);
  return point;
}

inline alliance::v1::Alert MakeAlert(const DyadFhirInput& input, const std::string& id,
                                     alliance::v1::AlertKind kind, alliance::v1::Rater rater,
                                     const std::string& instrument, int session) {
  alliance::v1::Alert alert;
  alert.set_alert_id(id);
  alert.set_tenant_id(input.tenant_id);
  alert.set_therapist_id(input.therapist_id);
  alert.set_client_id(input.client_id);
  alert.set_rater(rater);
  alert.set_instrument_id(instrument);
  alert.set_kind(kind);
  alert.set_severity(kind == alliance::v1::ALERT_KIND_UNREPAIRED ? alliance::v1::SEVERITY_CRITICAL
                                                                 : alliance::v1::SEVERITY_HIGH);
  alert.set_session_number(session);
  alert.mutable_session_time()->set_seconds(1772443800 + (session - 1) * 7 * 86400);
  alert.set_status(alliance::v1::ALERT_STATUS_OPEN);
  return alert;
}

inline DyadFhirInput SampleDyad() {
  DyadFhirInput input;
  input.tenant_id = "clinic-north";
  input.therapist_id = "th-05";
  input.client_id = "cl-0042";
  const double client[6][3] = {{16, 17, 16}, {17, 17, 17}, {17, 18, 17},
                               {12, 11, 13}, {13, 12, 13}, {13, 12, 12}};
  const double therapist[6][3] = {{14, 15, 14}, {15, 15, 14}, {15, 15, 15},
                                  {12, 13, 12}, {13, 13, 13}, {13, 13, 12}};
  for (int s = 1; s <= 6; ++s) {
    AddWaiPoint(input, s, alliance::v1::RATER_CLIENT, client[s - 1][0], client[s - 1][1],
                client[s - 1][2]);
    AddWaiPoint(input, s, alliance::v1::RATER_THERAPIST, therapist[s - 1][0], therapist[s - 1][1],
                therapist[s - 1][2]);
  }
  alliance::v1::Alert rupture =
      MakeAlert(input, "3f1c0b7e9a2d4c6e8b0a1f2e3d4c5b6a", alliance::v1::ALERT_KIND_RUPTURE,
                alliance::v1::RATER_CLIENT, "wai-sr", 4);
  rupture.set_reason(alliance::v1::REASON_RELIABLE_DROP);
  rupture.set_episode_id(rupture.alert_id());
  rupture.set_subscale_fell_most("bond");
  alliance::v1::Alert unrepaired =
      MakeAlert(input, "7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d", alliance::v1::ALERT_KIND_UNREPAIRED,
                alliance::v1::RATER_CLIENT, "wai-sr", 6);
  unrepaired.set_reason(alliance::v1::REASON_EPISODE_FOLLOW_UP);
  unrepaired.set_episode_id(rupture.alert_id());
  alliance::v1::Alert disengagement =
      MakeAlert(input, "0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b", alliance::v1::ALERT_KIND_DISENGAGEMENT,
                alliance::v1::RATER_UNSPECIFIED, "", 6);
  disengagement.set_reason(alliance::v1::REASON_NO_RATING_DURING_RUPTURE);
  input.open_alerts = {rupture, unrepaired, disengagement};
  return input;
}

}  // namespace alliance::fhir::testing

#endif  // ALLIANCE_TESTS_FHIR_SAMPLE_DYAD_H_
