// Shared pieces of the worker's integration tests: feeding feedback entries in the documented
// stream format, generating realistic rating series, starting alliance-worker processes,
// waiting for the consumer group to drain, and the oracle that recomputes every dyad offline
// from the submitted ratings and compares it with what the workers stored and emitted. The
// reads and the oracle work on a single Redis and on a Redis Cluster alike (KeyedCommand).
#ifndef ALLIANCE_TESTS_WORKER_WORKER_FIXTURE_H_
#define ALLIANCE_TESTS_WORKER_WORKER_FIXTURE_H_

#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "alliance/internal/v1/records.pb.h"
#include "store/cluster_client.h"
#include "store/keys.h"
#include "store/redis_connection.h"
#include "tests/support/child_process.h"

namespace alliance::testing {

// One command on the Redis that holds `key`: the one connection of a single Redis, or the
// primary of the key's slot on a cluster.
using KeyedCommand = std::function<absl::StatusOr<RedisReplyPtr>(
    std::string_view key, const std::vector<std::string_view>& args)>;
KeyedCommand OnConnection(RedisConnection& redis);
KeyedCommand OnCluster(ClusterClient& cluster);

// One submission as the tests feed it.
struct Submission {
  std::string tenant, therapist, client, accepted_id, instrument_id;
  int session_number = 0;
  int rater = 1;                // alliance.v1.Rater
  std::vector<double> answers;  // by item
};

// The serialized FeedbackEntry of a submission.
std::string EncodeEntry(const Submission& s);

// XADDs submissions to their partitions' feedback streams (pipelined), in the documented
// format: v, tenant, accepted_id, entry.
absl::Status Feed(RedisConnection& redis, const KeyLayout& layout,
                  const std::vector<Submission>& submissions);

// XADDs raw field/value pairs to a partition's feedback stream.
absl::Status FeedRaw(RedisConnection& redis, const KeyLayout& layout, int partition,
                     const std::vector<std::pair<std::string, std::string>>& fields);

// Answers of one rating at `level_pomp` (0-100) with per-item noise, on the instrument's
// scale and step. The instrument must be known to the built-in registry.
std::vector<double> AnswersAt(const std::string& instrument_id, double level_pomp, double noise,
                              std::mt19937& rng);

// `sessions` ratings of one client over time: stable dyads, V-shaped ruptures that are
// repaired, declines that are not, and ceiling-effect noise, chosen by `rng`.
std::vector<Submission> ClientSeries(const std::string& tenant, const std::string& therapist,
                                     const std::string& client, const std::string& instrument_id,
                                     int sessions, std::mt19937& rng);

// The shape of a many-dyad workload (see Workload).
struct WorkloadShape {
  int dyads = 1200;
  int sessions = 25;
  int tenants = 4;
  int therapists = 97;
  int duplicates = 300;  // ratings sent again, as an intake retry would
};

// ClientSeries for `shape.dyads` dyads (every third on WAI-SR, the others on SRS), ordered
// session by session as a clinic's week after week would arrive, plus `shape.duplicates`
// repeated ratings.
std::vector<Submission> Workload(uint32_t seed, const WorkloadShape& shape);

// Common flags of a worker process against `redis_port`.
std::vector<std::string> WorkerArgs(int redis_port, int partitions, const std::string& id);

// Starts alliance-worker with `args`, logging to a file under the test's temp folder.
absl::Status StartWorker(ChildProcess& process, const std::vector<std::string>& args,
                         const std::string& log_name);

// Waits (bounded) until every feedback stream's group has lag 0 and nothing pending.
absl::Status WaitForDrained(const RedisEndpoint& endpoint, const KeyLayout& layout,
                            absl::Duration timeout);

// The same through `redis` (a cluster: one read per partition stream and poll; a call that
// fails, as during a failover, counts as not drained yet).
absl::Status WaitForDrained(const KeyedCommand& redis, const KeyLayout& layout,
                            absl::Duration timeout);

// The stored record of a dyad (NOT_FOUND when absent).
absl::StatusOr<internal::v1::DyadRecord> ReadRecord(RedisConnection& redis, const KeyLayout& layout,
                                                    const std::string& tenant,
                                                    const std::string& therapist,
                                                    const std::string& client);

absl::StatusOr<internal::v1::DyadRecord> ReadRecord(const KeyedCommand& redis,
                                                    const KeyLayout& layout,
                                                    const std::string& tenant,
                                                    const std::string& therapist,
                                                    const std::string& client);

// Every entry of a stream as field maps, in order.
absl::StatusOr<std::vector<std::map<std::string, std::string>>> ReadStream(RedisConnection& redis,
                                                                           const std::string& key);
absl::StatusOr<std::vector<std::map<std::string, std::string>>> ReadStream(
    const KeyedCommand& redis, const std::string& key);

// A worker that died after taking delivery of every entry of every partition, as consumer
// `consumer` of the worker group (created here): all entries delivered, none acknowledged.
absl::Status DeliverAllToDeadConsumer(RedisConnection& redis, const KeyLayout& layout,
                                      const std::string& consumer);

// Names of the consumers in the worker group of `stream`.
absl::StatusOr<std::set<std::string>> ConsumerNames(RedisConnection& redis,
                                                    const std::string& stream);

// Recomputes every dyad from `submitted` (duplicates allowed) and checks, with gtest
// expectations: each stored record holds exactly the submitted ratings and its picture
// equals the recomputation; the record's alerts are exactly the recomputed ones; and every
// recomputed alert appears exactly once in the alert streams, with nothing else there.
void ExpectMatchesOracle(RedisConnection& redis, const KeyLayout& layout,
                         const std::vector<Submission>& submitted);
void ExpectMatchesOracle(const KeyedCommand& redis, const KeyLayout& layout,
                         const std::vector<Submission>& submitted);

// Connects, retrying for up to `timeout` (Redis may be restarting).
absl::StatusOr<std::unique_ptr<RedisConnection>> ConnectWithRetry(const RedisEndpoint& endpoint,
                                                                  absl::Duration timeout);

}  // namespace alliance::testing

#endif  // ALLIANCE_TESTS_WORKER_WORKER_FIXTURE_H_
