// A small, bounded CBOR (RFC 8949) decoder for COSE_Sign1 endorsements.
//
// Supported: unsigned/negative integers, byte and text strings, arrays, maps, tags, simple values
// false/true/null/undefined, and half/single/double floats (kept as raw bits). Not supported (the
// input is refused): indefinite lengths, reserved additional-info values 28..30. Limits: nesting depth
// kMaxCborDepth, at most kMaxCborItems items in total, every length checked against the remaining
// input before anything is allocated, so a hostile length never causes a large allocation.
//
// Contract: decode() consumes the whole input or fails with kDataLoss naming the offset. Values own
// their bytes. Thread safety: reentrant; values are plain data.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sealsum::secure::attest {

inline constexpr int kMaxCborDepth = 16;
inline constexpr size_t kMaxCborItems = 4096;
inline constexpr size_t kMaxCborInputBytes = 1u << 20;

struct CborValue {
  enum class Type { kUint, kNint, kBytes, kText, kArray, kMap, kTag, kSimple, kFloat };
  Type type = Type::kUint;
  // kUint: the value; kNint: n where the value is -1 - n; kTag: the tag number; kSimple: the simple
  // value (20 false, 21 true, 22 null, 23 undefined); kFloat: the raw IEEE bits.
  uint64_t num = 0;
  std::vector<uint8_t> bytes;    // kBytes, kText (UTF-8, not validated)
  std::vector<CborValue> items;  // kArray: elements; kMap: key0, value0, key1, ...; kTag: 1 item

  // An integer that fits int64 (kUint / kNint), else nullopt.
  std::optional<int64_t> as_int() const;
  std::string_view as_text() const;  // kText contents (empty for other types)
  size_t map_size() const { return type == Type::kMap ? items.size() / 2 : 0; }
  // Map lookup by integer or text key; nullptr when absent or when this is not a map.
  const CborValue* find(int64_t key) const;
  const CborValue* find(std::string_view key) const;
};

Result<CborValue> cbor_decode(std::span<const uint8_t> data);

// Encoders used to build COSE Sig_structure (definite-length heads, shortest form).
void cbor_put_head(std::vector<uint8_t>& out, int major, uint64_t value);
void cbor_put_bytes(std::vector<uint8_t>& out, std::span<const uint8_t> b);
void cbor_put_text(std::vector<uint8_t>& out, std::string_view s);

}  // namespace sealsum::secure::attest
