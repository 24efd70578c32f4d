// The FHIR R4 commands of alliancectl (docs/fhir.md): submit QuestionnaireResponse files
// (FeedbackIntake.SubmitQuestionnaireResponse), print an instrument's Questionnaire and a dyad's
// Observation/Flag Bundle (AllianceInsights.GetFhirQuestionnaire, GetDyadFhirBundle).
#ifndef ALLIANCE_TOOLS_ALLIANCECTL_FHIR_COMMANDS_H_
#define ALLIANCE_TOOLS_ALLIANCECTL_FHIR_COMMANDS_H_

#include "tools/alliancectl/commands.h"

namespace alliance::ctl {

// fhir-submit FILE...: one QuestionnaireResponse (JSON) per file. Prints one line per file
// (accepted, duplicate, or the code and the intake's message naming the FHIRPath); exit 1 if
// any was refused.
int FhirSubmit(const Args& args);
// questionnaire [ID]: the instrument's Questionnaire, or a Bundle of all, as JSON.
int FhirQuestionnaire(const Args& args);
// fhir-bundle (--therapist, --client, --export): the dyad's searchset Bundle, or with --export
// the transaction Bundle of conditional creates, as JSON.
int FhirBundle(const Args& args);

}  // namespace alliance::ctl

#endif  // ALLIANCE_TOOLS_ALLIANCECTL_FHIR_COMMANDS_H_
