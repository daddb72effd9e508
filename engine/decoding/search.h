// Internal to engine/decoding: the two searches behind generate(). Both expect validated params
// (validate_params with the session's vocab_size) and a session with rows() == 1.
#pragma once

#include "engine/decoding/generation.h"

namespace sealsum::decoding {

Result<GenerateOutput> greedy_search(DecoderSession& session, const GenerationParams& params);
Result<GenerateOutput> beam_search(DecoderSession& session, const GenerationParams& params);

}  // namespace sealsum::decoding
