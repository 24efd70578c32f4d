// Flags of alliancectl (each also settable as ALLIANCE_<NAME>, e.g. ALLIANCE_TENANT).
#ifndef ALLIANCE_TOOLS_ALLIANCECTL_CTL_FLAGS_H_
#define ALLIANCE_TOOLS_ALLIANCECTL_CTL_FLAGS_H_

#include <cstdint>
#include <string>

#include "absl/flags/declare.h"
#include "absl/time/time.h"

ABSL_DECLARE_FLAG(std::string, intake);
ABSL_DECLARE_FLAG(std::string, insights);
ABSL_DECLARE_FLAG(std::string, tenant);
ABSL_DECLARE_FLAG(bool, json);
ABSL_DECLARE_FLAG(int32_t, timeout_ms);
ABSL_DECLARE_FLAG(std::string, therapist);
ABSL_DECLARE_FLAG(std::string, client);
ABSL_DECLARE_FLAG(std::string, idempotency_id);
ABSL_DECLARE_FLAG(std::string, session_id);
ABSL_DECLARE_FLAG(int32_t, session_number);
ABSL_DECLARE_FLAG(std::string, session_time);
ABSL_DECLARE_FLAG(std::string, rater);
ABSL_DECLARE_FLAG(std::string, instrument);
ABSL_DECLARE_FLAG(std::string, answers);
ABSL_DECLARE_FLAG(std::string, file);
ABSL_DECLARE_FLAG(int32_t, chunk);
ABSL_DECLARE_FLAG(bool, summary);
ABSL_DECLARE_FLAG(bool, at_risk);
ABSL_DECLARE_FLAG(bool, open_rupture);
ABSL_DECLARE_FLAG(bool, unrepaired);
ABSL_DECLARE_FLAG(int32_t, page_size);
ABSL_DECLARE_FLAG(std::string, page_token);
ABSL_DECLARE_FLAG(bool, all_pages);
ABSL_DECLARE_FLAG(std::string, min_severity);
ABSL_DECLARE_FLAG(std::string, kinds);
ABSL_DECLARE_FLAG(std::string, status);
ABSL_DECLARE_FLAG(std::string, cursor);
ABSL_DECLARE_FLAG(int32_t, count);
ABSL_DECLARE_FLAG(absl::Duration, for);
ABSL_DECLARE_FLAG(bool, heartbeats);
ABSL_DECLARE_FLAG(bool, export);
ABSL_DECLARE_FLAG(std::string, actor);
ABSL_DECLARE_FLAG(std::string, reason);
ABSL_DECLARE_FLAG(std::string, until);
ABSL_DECLARE_FLAG(std::string, api_key_file);
ABSL_DECLARE_FLAG(bool, tls);
ABSL_DECLARE_FLAG(std::string, tls_ca_file);
ABSL_DECLARE_FLAG(std::string, tls_cert_file);
ABSL_DECLARE_FLAG(std::string, tls_key_file);
ABSL_DECLARE_FLAG(std::string, key_id);
ABSL_DECLARE_FLAG(std::string, scopes);

#endif  // ALLIANCE_TOOLS_ALLIANCECTL_CTL_FLAGS_H_
