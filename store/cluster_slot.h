// Redis Cluster key slots: CRC16 (the XMODEM variant the Cluster specification names) of the
// key, or of its hash tag, modulo 16384. Alliance's partition keys carry a {pN} tag
// (store/keys.h), so every key of a partition lands in one slot.
#ifndef ALLIANCE_STORE_CLUSTER_SLOT_H_
#define ALLIANCE_STORE_CLUSTER_SLOT_H_

#include <cstdint>
#include <string_view>

namespace alliance {

inline constexpr int kClusterSlots = 16384;

// CRC16/XMODEM: polynomial 0x1021, initial value 0, no reflection, no final xor.
uint16_t Crc16(std::string_view data);

// The part of `key` that is hashed: the text between the first '{' and the first '}' after it
// when that text is not empty, else the whole key.
std::string_view HashTagOf(std::string_view key);

// Slot of a key, 0..16383.
int KeySlot(std::string_view key);

}  // namespace alliance

#endif  // ALLIANCE_STORE_CLUSTER_SLOT_H_
