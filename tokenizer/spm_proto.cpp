// Protobuf wire-format reader for SentencePiece's ModelProto: see spm_proto.h.
//
// Wire format recap: a message is a sequence of (key, value) records; key = field_number << 3 |
// wire_type as a base-128 varint. Wire types: 0 varint, 1 fixed64, 2 length-delimited (varint
// length, then bytes), 5 fixed32; 3/4 are deprecated groups, which ModelProto never uses and we
// reject. Field numbers used here (sentencepiece_model.proto):
//   ModelProto:      1 pieces (msg, repeated), 2 trainer_spec (msg), 3 normalizer_spec (msg),
//                    5 denormalizer_spec (msg)
//   SentencePiece:   1 piece (string), 2 score (float), 3 type (enum)
//   TrainerSpec:     3 model_type, 24 treat_whitespace_as_suffix, 35 byte_fallback,
//                    40 unk_id, 41 bos_id, 42 eos_id, 43 pad_id (int32 varints)
//   NormalizerSpec:  1 name, 2 precompiled_charsmap, 3 add_dummy_prefix, 4 remove_extra_whitespaces,
//                    5 escape_whitespaces
#include "tokenizer/spm_proto.h"

#include <cstring>

namespace sealsum::tok {
namespace {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

// A cursor over one message's bytes. Every read is bounds-checked; on failure it records a
// message naming the context and refuses further reads.
class WireReader {
 public:
  WireReader(std::string_view bytes, const char* context) : data_(bytes), context_(context) {}

  bool done() const { return pos_ >= data_.size() || !error_.empty(); }
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }

  bool read_varint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (pos_ >= data_.size()) return fail("truncated varint");
      const uint8_t b = static_cast<uint8_t>(data_[pos_++]);
      if (shift == 63 && b > 1) return fail("varint overflows 64 bits");
      result |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return fail("varint longer than 10 bytes");
  }

  // Reads a key; returns false at end of message or on error.
  bool read_key(uint32_t* field, uint32_t* wire) {
    if (done()) return false;
    uint64_t key = 0;
    if (!read_varint(&key)) return false;
    if (key >> 32 != 0 || (key >> 3) == 0) return fail("invalid field key");
    *field = static_cast<uint32_t>(key >> 3);
    *wire = static_cast<uint32_t>(key & 7);
    return true;
  }

  bool read_bytes(std::string_view* out) {
    uint64_t len = 0;
    if (!read_varint(&len)) return false;
    if (len > data_.size() - pos_) return fail("length-delimited field runs past the end");
    *out = data_.substr(pos_, static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return true;
  }

  bool read_fixed32(uint32_t* v) {
    if (data_.size() - pos_ < 4) return fail("truncated fixed32");
    uint32_t x = 0;
    for (int i = 3; i >= 0; --i) x = (x << 8) | static_cast<uint8_t>(data_[pos_ + static_cast<size_t>(i)]);
    pos_ += 4;
    *v = x;
    return true;
  }

  bool skip(uint32_t wire) {
    uint64_t v = 0;
    std::string_view s;
    switch (wire) {
      case kVarint: return read_varint(&v);
      case kFixed64:
        if (data_.size() - pos_ < 8) return fail("truncated fixed64");
        pos_ += 8;
        return true;
      case kLengthDelimited: return read_bytes(&s);
      case kFixed32:
        if (data_.size() - pos_ < 4) return fail("truncated fixed32");
        pos_ += 4;
        return true;
      default: return fail("unsupported wire type " + std::to_string(wire));
    }
  }

  bool expect(uint32_t wire, uint32_t want, const char* field) {
    if (wire == want) return true;
    return fail(std::string("field ") + field + " has wire type " + std::to_string(wire) + ", expected " +
                std::to_string(want));
  }

  bool fail(const std::string& what) {
    if (error_.empty()) error_ = std::string(context_) + ": " + what;
    return false;
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  const char* context_;
  std::string error_;
};

// int32 fields are varints of the sign-extended 64-bit value; proto semantics truncate.
int32_t as_int32(uint64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(v & 0xFFFFFFFFu)); }

Status parse_piece(std::string_view bytes, SpmPiece* piece) {
  WireReader r(bytes, "spiece.model piece");
  uint32_t field = 0, wire = 0;
  while (r.read_key(&field, &wire)) {
    if (field == 1) {
      std::string_view s;
      if (!r.expect(wire, kLengthDelimited, "piece") || !r.read_bytes(&s)) break;
      if (s.size() >= kMaxSpmPieceBytes) r.fail("piece longer than 8000 bytes");
      piece->piece.assign(s);
    } else if (field == 2) {
      uint32_t bits = 0;
      if (!r.expect(wire, kFixed32, "score") || !r.read_fixed32(&bits)) break;
      std::memcpy(&piece->score, &bits, sizeof bits);
    } else if (field == 3) {
      uint64_t v = 0;
      if (!r.expect(wire, kVarint, "type") || !r.read_varint(&v)) break;
      if (v < 1 || v > 6) {
        r.fail("unknown piece type " + std::to_string(static_cast<int64_t>(v)));
        break;
      }
      piece->type = static_cast<SpmPieceType>(static_cast<int>(v));
    } else if (!r.skip(wire)) {
      break;
    }
  }
  if (r.failed()) return data_loss(r.error() + "; the file is corrupt or not a SentencePiece model");
  return Status::ok();
}

Status parse_trainer_spec(std::string_view bytes, SpmModelProto* m) {
  WireReader r(bytes, "spiece.model trainer_spec");
  uint32_t field = 0, wire = 0;
  while (r.read_key(&field, &wire)) {
    const bool wanted = field == 3 || field == 24 || field == 35 || (field >= 40 && field <= 43);
    if (!wanted) {
      if (!r.skip(wire)) break;
      continue;
    }
    uint64_t v = 0;
    if (!r.expect(wire, kVarint, "trainer_spec scalar") || !r.read_varint(&v)) break;
    switch (field) {
      case 3:
        if (v < 1 || v > 4) {
          r.fail("unknown model_type " + std::to_string(static_cast<int64_t>(v)));
          break;
        }
        m->model_type = static_cast<SpmModelType>(static_cast<int>(v));
        break;
      case 24: m->treat_whitespace_as_suffix = v != 0; break;
      case 35: m->byte_fallback = v != 0; break;
      case 40: m->unk_id = as_int32(v); break;
      case 41: m->bos_id = as_int32(v); break;
      case 42: m->eos_id = as_int32(v); break;
      case 43: m->pad_id = as_int32(v); break;
      default: break;
    }
  }
  if (r.failed()) return data_loss(r.error() + "; the file is corrupt or not a SentencePiece model");
  return Status::ok();
}

Status parse_normalizer_spec(std::string_view bytes, SpmModelProto* m) {
  WireReader r(bytes, "spiece.model normalizer_spec");
  uint32_t field = 0, wire = 0;
  while (r.read_key(&field, &wire)) {
    if (field == 1 || field == 2) {
      std::string_view s;
      if (!r.expect(wire, kLengthDelimited, field == 1 ? "name" : "precompiled_charsmap") || !r.read_bytes(&s)) break;
      (field == 1 ? m->normalizer_name : m->precompiled_charsmap).assign(s);
    } else if (field >= 3 && field <= 5) {
      uint64_t v = 0;
      if (!r.expect(wire, kVarint, "normalizer_spec flag") || !r.read_varint(&v)) break;
      bool* target = field == 3 ? &m->add_dummy_prefix : field == 4 ? &m->remove_extra_whitespaces
                                                                    : &m->escape_whitespaces;
      *target = v != 0;
    } else if (!r.skip(wire)) {
      break;
    }
  }
  if (r.failed()) return data_loss(r.error() + "; the file is corrupt or not a SentencePiece model");
  return Status::ok();
}

}  // namespace

Result<SpmModelProto> parse_spm_model_proto(std::string_view bytes) {
  SpmModelProto m;
  WireReader r(bytes, "spiece.model");
  uint32_t field = 0, wire = 0;
  while (r.read_key(&field, &wire)) {
    if (field == 1 || field == 2 || field == 3 || field == 5) {
      std::string_view sub;
      if (!r.expect(wire, kLengthDelimited, "ModelProto message") || !r.read_bytes(&sub)) break;
      if (field == 1) {
        if (m.pieces.size() >= kMaxSpmPieces) {
          return resource_exhausted("spiece.model has more than " + std::to_string(kMaxSpmPieces) + " pieces");
        }
        SpmPiece piece;
        if (Status st = parse_piece(sub, &piece); !st.is_ok()) {
          return st.with_context("piece " + std::to_string(m.pieces.size()));
        }
        m.pieces.push_back(std::move(piece));
      } else if (field == 2) {
        SEALSUM_RETURN_IF_ERROR(parse_trainer_spec(sub, &m));
      } else if (field == 3) {
        SEALSUM_RETURN_IF_ERROR(parse_normalizer_spec(sub, &m));
      } else {
        m.has_denormalizer = true;
      }
    } else if (!r.skip(wire)) {
      break;
    }
  }
  if (r.failed()) return data_loss(r.error() + "; the file is corrupt or not a SentencePiece model");
  if (m.pieces.empty()) return data_loss("spiece.model has no pieces; the file is corrupt or not a SentencePiece model");
  return m;
}

}  // namespace sealsum::tok
