// Batched reads of stored dyad records (see dyad_record_batch.h).
#include "store/dyad_record_batch.h"

#include "store/windowed_pipeline.h"

namespace alliance {
namespace {

constexpr size_t kWindow = 256;  // MGETs in flight

}  // namespace

absl::StatusOr<std::vector<absl::StatusOr<std::optional<StoredDyad>>>> ReadStoredDyads(
    RedisExecutor& redis, const KeyLayout& layout, std::span<const DyadAddress> dyads) {
  std::vector<absl::StatusOr<std::optional<StoredDyad>>> out;
  out.reserve(dyads.size());
  absl::Status s = RunWindowed(
      redis, dyads.size(), kWindow,
      [&](size_t i, KeyedCommand& command) {
        const DyadAddress& d = dyads[i];
        command.key = layout.DyadState(d.partition, d.tenant, d.therapist, d.client);
        command.args = {"MGET", command.key,
                        layout.DyadLog(d.partition, d.tenant, d.therapist, d.client)};
      },
      [&](size_t, const redisReply& reply) -> absl::Status {
        absl::StatusOr<std::optional<StoredDyad>> stored = ParseStoredDyad(reply);
        if (!stored.ok() && stored.status().code() != absl::StatusCode::kDataLoss) {
          return stored.status();
        }
        out.push_back(std::move(stored));
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return out;
}

}  // namespace alliance
