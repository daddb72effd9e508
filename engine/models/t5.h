// T5 internals exposed for unit tests (the model itself is built through models/seq2seq.h).
#pragma once

#include <cstdint>

namespace sealsum::models {

// Hugging Face T5Attention._relative_position_bucket for one offset (key position − query
// position), computed in float32 as torch does. bidirectional: the encoder; false: the decoder.
int64_t t5_relative_bucket(int64_t offset, bool bidirectional, int64_t num_buckets, int64_t max_distance);

}  // namespace sealsum::models
