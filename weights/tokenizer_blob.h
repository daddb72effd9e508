// Tokenizer files embedded in a model file.
//
// Choice: weights/ depends on tokenizer/'s header type tok::TokenizerSource (and links
// sealsum_tokenizer, which depends on common/ only), so the engine rebuilds exactly the source the
// converter embedded and calls tok::load_tokenizer() on it.
//
// Storage: each file of the source becomes a u8 blob tensor named "tokenizer/<file name>" and the
// header's "tokenizer" entry is {"kind": K, "files": [{"name": FILE, "tensor": TENSOR}, ...]}.
#pragma once

#include "tokenizer/tokenizer.h"
#include "weights/model_file.h"

namespace sealsum::weights {

inline constexpr size_t kMaxTokenizerFiles = 8;
// True for a plain file name: 1..128 printable ASCII characters, no '/' or '\\', not "." or "..".
bool plain_tokenizer_file_name(const std::string& n);

// Writer side (tokenizer_embed.cpp, in sealsum_weights_writer: the converter's, not the TEE's).
// Adds the source's files as blobs and sets the tokenizer entry. kInvalidArgument when a file name
// is not a plain printable-ASCII name or the source is empty; otherwise the writer's validate().
Status embed_tokenizer(ModelWriter& w, const tok::TokenizerSource& src);

// Reader side (tokenizer_blob.cpp). Rebuilds the embedded source. kNotFound when the model has no tokenizer; kDataLoss when the
// entry is malformed or names a missing / non-blob tensor.
Result<tok::TokenizerSource> tokenizer_source(const ModelFile& m);

}  // namespace sealsum::weights
