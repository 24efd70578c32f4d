// Content hash of a submission, used to tell a retry (same idempotency id, same content) from a
// conflicting reuse of the id (same id, other content).
#ifndef ALLIANCE_SERVICES_INTAKE_CONTENT_HASH_H_
#define ALLIANCE_SERVICES_INTAKE_CONTENT_HASH_H_

#include <string>

#include "alliance/v1/intake.pb.h"

namespace alliance::intake {

// Canonical byte form of every field of `feedback`: fixed field order, length-prefixed strings,
// answers ordered by item, -0.0 folded into 0.0. Independent of protobuf's wire encoding, so a
// library upgrade cannot change the hash of stored records.
std::string CanonicalFeedbackBytes(const alliance::v1::Feedback& feedback);

// 32 hex digits over CanonicalFeedbackBytes (analytics::Hash128Hex).
std::string ContentHash(const alliance::v1::Feedback& feedback);

}  // namespace alliance::intake

#endif  // ALLIANCE_SERVICES_INTAKE_CONTENT_HASH_H_
