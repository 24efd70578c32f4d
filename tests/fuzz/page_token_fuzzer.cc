// libFuzzer target: the opaque strings clients hand back to insights (the ListAlerts and
// ListDyads page tokens and the WatchAlerts cursor). Every input must be refused or decoded
// into something the queries can use: the partition count the service has, no position Redis
// would refuse (an alert walk never stands before 0-0, a cursor never after the last id), and
// a decoded token must survive encoding and decoding again unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "services/insights/tokens.h"

namespace {

constexpr int kPartitions = 4;

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace alliance::insights;
  using alliance::Positions;
  using alliance::StreamId;
  std::string_view input(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<AlertWalk> walk = DecodeAlertPageToken(input, kPartitions);
  if (walk.ok()) {
    Check(walk->size() == kPartitions);
    for (const auto& id : *walk) Check(!id || *id != StreamId{});
    absl::StatusOr<AlertWalk> again =
        DecodeAlertPageToken(EncodeAlertPageToken(*walk), kPartitions);
    Check(again.ok() && *again == *walk);
  }

  absl::StatusOr<std::string> member = DecodeDyadPageToken(input);
  if (member.ok()) {
    Check(!member->empty() && member->find(':') != std::string::npos);
    absl::StatusOr<std::string> again = DecodeDyadPageToken(EncodeDyadPageToken(*member));
    Check(again.ok() && *again == *member);
  }

  absl::StatusOr<Positions> positions = DecodeWatchCursor(input, kPartitions);
  if (positions.ok()) {
    Check(positions->size() == kPartitions);
    for (const StreamId& id : *positions) Check(id.ms != UINT64_MAX || id.seq != UINT64_MAX);
    absl::StatusOr<Positions> again = DecodeWatchCursor(EncodeWatchCursor(*positions), kPartitions);
    Check(again.ok() && *again == *positions);
  }
  return 0;
}
