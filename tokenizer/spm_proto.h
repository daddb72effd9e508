// A bounded, checked reader for SentencePiece's serialized ModelProto (spiece.model).
//
// Only the fields sealsum needs are decoded (pieces, the trainer_spec fields that change encoding,
// and the normalizer_spec); every other field is skipped by wire type. The reader never reads past
// the input, rejects malformed varints (more than 10 bytes), lengths beyond the enclosing message,
// group wire types and out-of-range enum values, and caps the number and size of pieces. Proto2
// semantics: a repeated occurrence of a scalar field overwrites it, of a message field merges.
//
// Thread safety: pure function over caller-owned bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sealsum::tok {

// ModelProto.SentencePiece.Type.
enum class SpmPieceType : int { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

struct SpmPiece {
  std::string piece;
  float score = 0.0f;
  SpmPieceType type = SpmPieceType::kNormal;
};

// TrainerSpec.ModelType.
enum class SpmModelType : int { kUnigram = 1, kBpe = 2, kWord = 3, kChar = 4 };

struct SpmModelProto {
  std::vector<SpmPiece> pieces;
  // trainer_spec (defaults as in sentencepiece_model.proto).
  SpmModelType model_type = SpmModelType::kUnigram;
  int32_t unk_id = 0, bos_id = 1, eos_id = 2, pad_id = -1;
  bool byte_fallback = false;
  bool treat_whitespace_as_suffix = false;
  // normalizer_spec.
  std::string normalizer_name;
  std::string precompiled_charsmap;
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
  bool escape_whitespaces = true;
  // ModelProto.denormalizer_spec is present (sealsum does not run denormalization).
  bool has_denormalizer = false;
};

inline constexpr size_t kMaxSpmPieces = 1u << 20;      // far above any real vocabulary
inline constexpr size_t kMaxSpmPieceBytes = 8000;      // sentencepiece's own limit (exclusive)

// Parses a serialized ModelProto. Fails with kDataLoss naming the field on malformed bytes.
Result<SpmModelProto> parse_spm_model_proto(std::string_view bytes);

}  // namespace sealsum::tok
