// Parsing and checking of CLUSTER SLOTS replies and MOVED / ASK errors; the slot map itself.
#include "store/cluster_map.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/strings.h"
#include "store/cluster_slot.h"

namespace alliance {
namespace {

absl::Status Invalid(std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("cluster slots: ", Absl(what)));
}

std::string_view TypeName(int type) {
  switch (type) {
    case REDIS_REPLY_STRING:
      return "string";
    case REDIS_REPLY_ARRAY:
      return "array";
    case REDIS_REPLY_INTEGER:
      return "integer";
    case REDIS_REPLY_NIL:
      return "nil";
    case REDIS_REPLY_STATUS:
      return "status";
    case REDIS_REPLY_ERROR:
      return "error";
    default:
      return "unknown type";
  }
}

// Element i of an array reply, or nullptr when the tree is malformed there.
const redisReply* ElementAt(const redisReply& array, size_t i) {
  if (array.type != REDIS_REPLY_ARRAY || array.element == nullptr || i >= array.elements) {
    return nullptr;
  }
  return array.element[i];
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A node entry [host, port, id?, ...]; `unknown` is set for an endpoint Redis does not know.
absl::StatusOr<NodeAddress> ParseNode(const redisReply* node, std::string_view replying_host,
                                      std::string* id, bool* unknown) {
  *unknown = false;
  if (node == nullptr || node->type != REDIS_REPLY_ARRAY || node->elements < 2) {
    return Invalid(node == nullptr
                       ? "missing node entry"
                       : absl::StrCat("node entry (", Absl(TypeName(node->type)), " of ",
                                      node->elements, " elements) is not [host, port, ...]"));
  }
  const redisReply* host = ElementAt(*node, 0);
  const redisReply* port = ElementAt(*node, 1);
  if (host == nullptr || (host->type != REDIS_REPLY_STRING && host->type != REDIS_REPLY_NIL)) {
    return Invalid("node host is not a string");
  }
  if (port == nullptr || port->type != REDIS_REPLY_INTEGER) {
    return Invalid("node port is not an integer");
  }
  if (port->integer < 1 || port->integer > 65535) {
    return Invalid(absl::StrCat("node port ", port->integer, " is not in 1..65535"));
  }
  NodeAddress address;
  address.port = static_cast<int>(port->integer);
  if (host->type == REDIS_REPLY_STRING && host->len > 0) {
    address.host.assign(host->str, host->len);
  } else {
    address.host.assign(replying_host);
  }
  if (address.host == "?") *unknown = true;
  if (address.host.empty()) return Invalid("node host is empty and the replying host unknown");
  if (const redisReply* node_id = ElementAt(*node, 2); node_id != nullptr) {
    if (node_id->type != REDIS_REPLY_STRING) return Invalid("node id is not a string");
    id->assign(node_id->str, node_id->len);
  }
  return address;
}

bool IsSlot(long long n) { return n >= 0 && n < kClusterSlots; }

}  // namespace

std::string NodeAddress::ToString() const { return absl::StrCat(host, ":", port); }

absl::StatusOr<NodeAddress> ParseNodeAddress(std::string_view text, std::string_view default_host) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("node address '", Absl(text), "' has no port"));
  }
  std::string_view port_text = text.substr(colon + 1);
  int port = 0;
  if (!AllDigits(port_text) || port_text.size() > 5 || !absl::SimpleAtoi(Absl(port_text), &port) ||
      port < 1 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("node address '", Absl(text), "' has no port in 1..65535"));
  }
  NodeAddress address;
  address.host.assign(colon == 0 ? default_host : text.substr(0, colon));
  address.port = port;
  if (address.host.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("node address '", Absl(text), "' has no host"));
  }
  return address;
}

ClusterMap::ClusterMap() : owner_(kClusterSlots, -1) {}

absl::StatusOr<ClusterMap> ClusterMap::FromClusterSlots(const redisReply& reply,
                                                        std::string_view replying_host) {
  if (reply.type == REDIS_REPLY_ERROR) {
    return Invalid(absl::StrCat("error reply: ", absl::string_view(reply.str, reply.len)));
  }
  if (reply.type != REDIS_REPLY_ARRAY) {
    return Invalid(absl::StrCat("reply is a ", Absl(TypeName(reply.type)), ", not an array"));
  }
  if (reply.elements > 0 && reply.element == nullptr) return Invalid("array without elements");
  ClusterMap map;
  for (size_t r = 0; r < reply.elements; ++r) {
    const redisReply* range = reply.element[r];
    if (range == nullptr || range->type != REDIS_REPLY_ARRAY) {
      return Invalid(absl::StrCat("range ", r, " is not an array"));
    }
    if (range->elements < 3) {
      return Invalid(absl::StrCat("range ", r, " has ", range->elements,
                                  " elements: it needs first, last and at least one node"));
    }
    const redisReply* first = ElementAt(*range, 0);
    const redisReply* last = ElementAt(*range, 1);
    if (first == nullptr || last == nullptr || first->type != REDIS_REPLY_INTEGER ||
        last->type != REDIS_REPLY_INTEGER) {
      return Invalid(absl::StrCat("range ", r, ": slots are not integers"));
    }
    if (!IsSlot(first->integer) || !IsSlot(last->integer) || first->integer > last->integer) {
      return Invalid(absl::StrCat("range ", r, ": slots ", first->integer, "..", last->integer,
                                  " are not a range within 0..", kClusterSlots - 1));
    }
    ClusterShard shard;
    bool unknown = false;
    absl::StatusOr<NodeAddress> primary =
        ParseNode(ElementAt(*range, 2), replying_host, &shard.primary_id, &unknown);
    if (!primary.ok()) return primary.status();
    if (unknown) {
      return Invalid(absl::StrCat("range ", r, ": the primary's endpoint is unknown ('?')"));
    }
    shard.primary = *std::move(primary);
    for (size_t n = 3; n < range->elements; ++n) {
      std::string ignored_id;
      absl::StatusOr<NodeAddress> replica =
          ParseNode(ElementAt(*range, n), replying_host, &ignored_id, &unknown);
      if (!replica.ok()) return replica.status();
      if (!unknown) shard.replicas.push_back(*std::move(replica));
    }
    // The same primary may serve several ranges: one shard entry for it.
    auto same = std::find_if(map.shards_.begin(), map.shards_.end(),
                             [&](const ClusterShard& s) { return s.primary == shard.primary; });
    const size_t index = static_cast<size_t>(same - map.shards_.begin());
    if (same == map.shards_.end()) map.shards_.push_back(std::move(shard));
    for (long long slot = first->integer; slot <= last->integer; ++slot) {
      int16_t& owner = map.owner_[static_cast<size_t>(slot)];
      if (owner != -1) return Invalid(absl::StrCat("slot ", slot, " is in two ranges"));
      owner = static_cast<int16_t>(index);
    }
  }
  return map;
}

const NodeAddress* ClusterMap::PrimaryOf(int slot) const {
  if (!IsSlot(slot) || owner_[static_cast<size_t>(slot)] < 0) return nullptr;
  return &shards_[static_cast<size_t>(owner_[static_cast<size_t>(slot)])].primary;
}

std::span<const NodeAddress> ClusterMap::ReplicasOf(int slot) const {
  if (!IsSlot(slot) || owner_[static_cast<size_t>(slot)] < 0) return {};
  return shards_[static_cast<size_t>(owner_[static_cast<size_t>(slot)])].replicas;
}

void ClusterMap::SetPrimary(int slot, const NodeAddress& primary) {
  if (!IsSlot(slot)) return;
  auto same = std::find_if(shards_.begin(), shards_.end(),
                           [&](const ClusterShard& s) { return s.primary == primary; });
  size_t index = static_cast<size_t>(same - shards_.begin());
  if (same == shards_.end()) {
    // Bounded: at most one shard per slot ever owns anything, and unused ones are reused.
    ClusterShard shard;
    shard.primary = primary;
    std::vector<bool> used(shards_.size(), false);
    for (int16_t owner : owner_) {
      if (owner >= 0) used[static_cast<size_t>(owner)] = true;
    }
    auto unused = std::find(used.begin(), used.end(), false);
    index = static_cast<size_t>(unused - used.begin());
    if (unused == used.end()) {
      shards_.push_back(std::move(shard));
    } else {
      shards_[index] = std::move(shard);
    }
  }
  owner_[static_cast<size_t>(slot)] = static_cast<int16_t>(index);
}

std::vector<NodeAddress> ClusterMap::Primaries() const {
  std::vector<bool> seen(shards_.size(), false);
  std::vector<NodeAddress> primaries;
  for (int16_t owner : owner_) {
    if (owner < 0 || seen[static_cast<size_t>(owner)]) continue;
    seen[static_cast<size_t>(owner)] = true;
    primaries.push_back(shards_[static_cast<size_t>(owner)].primary);
  }
  return primaries;
}

std::vector<NodeAddress> ClusterMap::Nodes() const {
  std::vector<NodeAddress> nodes = Primaries();
  for (const ClusterShard& shard : shards_) {
    for (const NodeAddress& replica : shard.replicas) {
      if (std::find(nodes.begin(), nodes.end(), replica) == nodes.end()) nodes.push_back(replica);
    }
  }
  return nodes;
}

int ClusterMap::covered_slots() const {
  return static_cast<int>(
      std::count_if(owner_.begin(), owner_.end(), [](int16_t owner) { return owner >= 0; }));
}

bool IsRedirect(std::string_view error) {
  return error.starts_with("MOVED ") || error.starts_with("ASK ");
}

absl::StatusOr<Redirect> ParseRedirect(std::string_view error, std::string_view replying_host) {
  auto malformed = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed redirection '", Absl(error.substr(0, 200)), "': ", Absl(why)));
  };
  std::vector<absl::string_view> words = absl::StrSplit(Absl(error), ' ');
  if (words.size() != 3) return malformed("expected '<MOVED|ASK> <slot> <host:port>'");
  Redirect redirect;
  if (words[0] == "MOVED") {
    redirect.kind = RedirectKind::kMoved;
  } else if (words[0] == "ASK") {
    redirect.kind = RedirectKind::kAsk;
  } else {
    return malformed("not MOVED or ASK");
  }
  if (!AllDigits(Std(words[1])) || words[1].size() > 5 ||
      !absl::SimpleAtoi(words[1], &redirect.slot) || !IsSlot(redirect.slot)) {
    return malformed("slot not in 0..16383");
  }
  absl::StatusOr<NodeAddress> node = ParseNodeAddress(Std(words[2]), replying_host);
  if (!node.ok()) return malformed(Std(node.status().message()));
  redirect.node = *std::move(node);
  return redirect;
}

}  // namespace alliance
