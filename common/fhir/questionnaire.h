// Instruments as FHIR R4 Questionnaire resources, a searchset Bundle of them, and the Alliance
// CodeSystem (docs/fhir.md, "Questionnaire" and "CodeSystem"). Pure: no I/O.
#ifndef ALLIANCE_COMMON_FHIR_QUESTIONNAIRE_H_
#define ALLIANCE_COMMON_FHIR_QUESTIONNAIRE_H_

#include <string>
#include <string_view>

#include "analytics/instrument.h"
#include "analytics/registry.h"
#include "common/fhir/fhir.h"

namespace alliance::fhir {

// Canonical URL of an instrument's Questionnaire: kBase + "/Questionnaire/" + id.
std::string QuestionnaireUrl(std::string_view instrument_id);

// Questionnaire.version: 12 hex digits of a stable hash of what defines the form and what an
// answer means (id, item count, range, step, reverse items, subscales and their items, raters).
// Names, cutoffs and psychometrics do not enter it: they change no answer.
std::string QuestionnaireVersion(const analytics::Instrument& instrument);

// True when the Questionnaire nests items in one `group` per subscale: every item belongs to
// exactly one subscale. Otherwise the items are a flat list and each names its subscales with
// kSubscaleExtension.
bool QuestionnaireUsesGroups(const analytics::Instrument& instrument);

// linkId of a subscale's group item: "subscale-" + name.
std::string SubscaleGroupLinkId(std::string_view subscale_name);

// Codes of the Alliance CodeSystem: "<instrument>.total", "<instrument>.<subscale>", and the
// alert kinds "rupture", "repaired", "unrepaired", "disengagement", "reengaged".
std::string TotalCode(std::string_view instrument_id);
std::string SubscaleCode(std::string_view instrument_id, std::string_view subscale_name);

// The Questionnaire resource (JSON) for one instrument.
std::string QuestionnaireJson(const analytics::Instrument& instrument);

// A searchset Bundle of every instrument's Questionnaire, ordered by id.
std::string QuestionnaireBundleJson(const analytics::InstrumentRegistry& registry);

// The Alliance CodeSystem resource; its url is kCodeSystemUrl.
std::string CodeSystemJson(const analytics::InstrumentRegistry& registry);

}  // namespace alliance::fhir

#endif  // ALLIANCE_COMMON_FHIR_QUESTIONNAIRE_H_
