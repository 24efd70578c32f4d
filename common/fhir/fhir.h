// Canonical URLs of Alliance's FHIR R4 mapping (docs/fhir.md): the base, the identifier systems
// and the extension URLs shared by the Questionnaire, QuestionnaireResponse, Observation and
// Flag mappings. Changing any of them breaks every stored reference a platform holds.
#ifndef ALLIANCE_COMMON_FHIR_FHIR_H_
#define ALLIANCE_COMMON_FHIR_FHIR_H_

namespace alliance::fhir {

// Canonical base of every Alliance FHIR URL.
inline constexpr char kBase[] = "https://alliance.health/fhir";
// Content type of FHIR R4 resources in JSON.
inline constexpr char kFhirJsonContentType[] = "application/fhir+json";

// Identifier systems (Identifier.system).
inline constexpr char kClientSystem[] = "https://alliance.health/fhir/sid/client";
inline constexpr char kTherapistSystem[] = "https://alliance.health/fhir/sid/therapist";
inline constexpr char kObserverSystem[] = "https://alliance.health/fhir/sid/observer";
inline constexpr char kSessionSystem[] = "https://alliance.health/fhir/sid/session";
// QuestionnaireResponse.identifier: the submission's idempotency id.
inline constexpr char kSubmissionSystem[] = "https://alliance.health/fhir/sid/submission";
// The accepted id intake answers with (derived from tenant and idempotency id).
inline constexpr char kSubmissionAcceptedIdSystem[] =
    "https://alliance.health/fhir/sid/submission-accepted-id";
inline constexpr char kObservationSystem[] = "https://alliance.health/fhir/sid/observation";
inline constexpr char kFlagSystem[] = "https://alliance.health/fhir/sid/flag";

// Extensions defined by Alliance.
// QuestionnaireResponse: the session's 1-based number in the dyad's treatment (valuePositiveInt).
inline constexpr char kSessionNumberExtension[] =
    "https://alliance.health/fhir/StructureDefinition/session-number";
// QuestionnaireResponse: the dyad's therapist when the author is not the therapist
// (valueReference with identifier, therapist system).
inline constexpr char kTherapistExtension[] =
    "https://alliance.health/fhir/StructureDefinition/therapist";
// Questionnaire.item: the item is reverse-scored (valueBoolean true).
inline constexpr char kReverseScoredExtension[] =
    "https://alliance.health/fhir/StructureDefinition/reverse-scored";
// Questionnaire.item: answers are min + n * step (valueDecimal).
inline constexpr char kAnswerStepExtension[] =
    "https://alliance.health/fhir/StructureDefinition/answer-step";
// Questionnaire.item (flat form only): a subscale the item belongs to (valueCode, repeats).
inline constexpr char kSubscaleExtension[] =
    "https://alliance.health/fhir/StructureDefinition/subscale";
// Questionnaire (repeats: the raters allowed) and Observation (the rater): valueCode "client",
// "therapist" or "observer".
inline constexpr char kRaterExtension[] = "https://alliance.health/fhir/StructureDefinition/rater";

// The Alliance CodeSystem.
inline constexpr char kCodeSystemUrl[] = "https://alliance.health/fhir/CodeSystem/alliance";

// Standard (HL7) URLs used by the mapping.
inline constexpr char kMinValueExtension[] = "http://hl7.org/fhir/StructureDefinition/minValue";
inline constexpr char kMaxValueExtension[] = "http://hl7.org/fhir/StructureDefinition/maxValue";
inline constexpr char kMaxDecimalPlacesExtension[] =
    "http://hl7.org/fhir/StructureDefinition/maxDecimalPlaces";
inline constexpr char kFlagDetailExtension[] =
    "http://hl7.org/fhir/StructureDefinition/flag-detail";
inline constexpr char kObservationCategorySystem[] =
    "http://terminology.hl7.org/CodeSystem/observation-category";
inline constexpr char kFlagCategorySystem[] = "http://terminology.hl7.org/CodeSystem/flag-category";

}  // namespace alliance::fhir

#endif  // ALLIANCE_COMMON_FHIR_FHIR_H_
