// Bounded CBOR decoder (see cbor.h).
//
// Every data item starts with a head byte: the top 3 bits are the major type (0 uint, 1 negative
// int, 2 byte string, 3 text string, 4 array, 5 map, 6 tag, 7 simple/float), the low 5 bits the
// "additional information": < 24 is the argument itself, 24..27 mean a 1/2/4/8-byte big-endian
// argument follows, 31 is indefinite length (refused here), 28..30 are reserved (refused). For
// strings the argument is a byte length, for arrays/maps an element/pair count.
//
// Hostile-input defences: lengths are compared with the bytes that remain before any allocation; an
// array/map count is compared with the bytes that remain too (each element needs at least one byte);
// recursion depth and the total item count are capped.
#include "secure/attest/cbor.h"

namespace sealsum::secure::attest {
namespace {

class Decoder {
 public:
  explicit Decoder(std::span<const uint8_t> d) : d_(d) {}

  Status item(CborValue& out, int depth) {
    if (depth > kMaxCborDepth) return fail("nesting deeper than " + std::to_string(kMaxCborDepth));
    if (++items_ > kMaxCborItems) return fail("more than " + std::to_string(kMaxCborItems) + " items");
    if (pos_ >= d_.size()) return fail("truncated (expected a data item)");
    uint8_t head = d_[pos_++];
    int major = head >> 5;
    uint8_t ai = head & 31;
    uint64_t arg = 0;
    if (ai < 24) {
      arg = ai;
    } else if (ai <= 27) {
      size_t n = size_t(1) << (ai - 24);
      if (d_.size() - pos_ < n) return fail("truncated argument");
      for (size_t i = 0; i < n; ++i) arg = arg << 8 | d_[pos_++];
    } else if (ai == 31) {
      return fail("indefinite-length items are not supported");
    } else {
      return fail("reserved additional information " + std::to_string(ai));
    }
    out.num = arg;
    switch (major) {
      case 0: out.type = CborValue::Type::kUint; return Status::ok();
      case 1: out.type = CborValue::Type::kNint; return Status::ok();
      case 2:
      case 3: {
        out.type = major == 2 ? CborValue::Type::kBytes : CborValue::Type::kText;
        if (arg > d_.size() - pos_) return fail("string length " + std::to_string(arg) + " exceeds the input");
        out.bytes.assign(d_.begin() + long(pos_), d_.begin() + long(pos_ + arg));
        pos_ += size_t(arg);
        out.num = 0;
        return Status::ok();
      }
      case 4:
      case 5: {
        out.type = major == 4 ? CborValue::Type::kArray : CborValue::Type::kMap;
        uint64_t n = major == 4 ? arg : arg * 2;
        if (arg > d_.size() - pos_ || n > d_.size() - pos_ || n > kMaxCborItems - items_) {
          return fail("container count " + std::to_string(arg) + " exceeds the input");
        }
        out.items.resize(size_t(n));
        for (auto& v : out.items) SEALSUM_RETURN_IF_ERROR(item(v, depth + 1));
        out.num = 0;
        return Status::ok();
      }
      case 6:
        out.type = CborValue::Type::kTag;
        out.items.resize(1);
        return item(out.items[0], depth + 1);
      default:  // 7
        if (ai < 24 || ai == 24) {
          if (ai == 24 && arg < 32) return fail("non-canonical simple value");
          out.type = CborValue::Type::kSimple;
        } else {
          out.type = CborValue::Type::kFloat;
        }
        return Status::ok();
    }
  }

  size_t pos() const { return pos_; }
  Status fail(const std::string& what) const {
    return data_loss("CBOR: " + what + " at offset " + std::to_string(pos_));
  }

 private:
  std::span<const uint8_t> d_;
  size_t pos_ = 0;
  size_t items_ = 0;
};

}  // namespace

std::optional<int64_t> CborValue::as_int() const {
  if (type == Type::kUint && num <= uint64_t(INT64_MAX)) return int64_t(num);
  if (type == Type::kNint && num <= uint64_t(INT64_MAX)) return -1 - int64_t(num);
  return std::nullopt;
}

std::string_view CborValue::as_text() const {
  if (type != Type::kText) return {};
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

const CborValue* CborValue::find(int64_t key) const {
  if (type != Type::kMap) return nullptr;
  for (size_t i = 0; i + 1 < items.size(); i += 2) {
    if (items[i].as_int() == key) return &items[i + 1];
  }
  return nullptr;
}

const CborValue* CborValue::find(std::string_view key) const {
  if (type != Type::kMap) return nullptr;
  for (size_t i = 0; i + 1 < items.size(); i += 2) {
    if (items[i].type == Type::kText && items[i].as_text() == key) return &items[i + 1];
  }
  return nullptr;
}

Result<CborValue> cbor_decode(std::span<const uint8_t> data) {
  if (data.size() > kMaxCborInputBytes) {
    return resource_exhausted("CBOR input is " + std::to_string(data.size()) + " bytes; limit " +
                              std::to_string(kMaxCborInputBytes));
  }
  Decoder dec(data);
  CborValue v;
  SEALSUM_RETURN_IF_ERROR(dec.item(v, 0));
  if (dec.pos() != data.size()) {
    return data_loss("CBOR: " + std::to_string(data.size() - dec.pos()) + " trailing bytes after the item");
  }
  return v;
}

void cbor_put_head(std::vector<uint8_t>& out, int major, uint64_t value) {
  uint8_t m = uint8_t(major << 5);
  if (value < 24) {
    out.push_back(uint8_t(m | value));
    return;
  }
  int n = value <= 0xFF ? 1 : value <= 0xFFFF ? 2 : value <= 0xFFFFFFFFull ? 4 : 8;
  out.push_back(uint8_t(m | (n == 1 ? 24 : n == 2 ? 25 : n == 4 ? 26 : 27)));
  for (int i = n - 1; i >= 0; --i) out.push_back(uint8_t(value >> (8 * i)));
}

void cbor_put_bytes(std::vector<uint8_t>& out, std::span<const uint8_t> b) {
  cbor_put_head(out, 2, b.size());
  out.insert(out.end(), b.begin(), b.end());
}

void cbor_put_text(std::vector<uint8_t>& out, std::string_view s) {
  cbor_put_head(out, 3, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

}  // namespace sealsum::secure::attest
