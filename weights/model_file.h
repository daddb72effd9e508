// The sealsum model file: one self-describing file per model (weights, config, tokenizer).
//
// Format (version 2; version 1 files are still read), all integers little-endian: magic "SEALSUMM", u32 version, u32 flags, u64
// header length, a JSON header, 64-byte-aligned tensors, a SHA-256 trailer. model_file.cpp's
// header comment is the authoritative layout.
//
// Contract: ModelFile holds its bytes in one of two homes. Bytes handed to from_buffer (a sealed
// model decrypted by the caller) stay in their SecretBuffer (weights are secrets of the model
// owner: locked where possible, never in core dumps, wiped on free). A plaintext file opened by
// load() is memory-mapped read-only by default (weights/mapped_file.h: one copy, shared with the
// page cache; its header states the SIGBUS trade-off of a file truncated in place), or read into a
// SecretBuffer with LoadOptions{.map = false}. Either way the ModelFile keeps its bytes alive
// for its own lifetime (the mapping through a shared_ptr), the tensor pointers never move when
// the ModelFile is moved, and loading verifies the checksum and every tensor entry (dtype, shape,
// offset, size, alignment, bounds) before anything is exposed; a corrupt file fails with kDataLoss
// naming the file and the problem. Read-only after load, so concurrent readers are safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "secure/digest.h"
#include "secure/secret_buffer.h"

namespace sealsum::weights {

enum class DType : uint8_t { kF32, kBF16, kI8, kU8 };
const char* dtype_name(DType d);  // "f32", "bf16", "i8", "u8": the names used in the header
size_t dtype_size(DType d);
// Inverse of dtype_name(); nullopt for an unknown name.
std::optional<DType> dtype_from_name(const std::string& name);

// Format constants (see model_file.cpp).
inline constexpr char kModelMagic[8] = {'S', 'E', 'A', 'L', 'S', 'U', 'M', 'M'};
inline constexpr uint32_t kModelFormatVersion = 2;     // what the writer produces
inline constexpr uint32_t kMinModelFormatVersion = 1;  // oldest version the reader accepts
inline constexpr size_t kTensorAlignment = 64;
inline constexpr size_t kPreambleSize = 24;  // magic, version, flags, header length
inline constexpr size_t kTrailerSize = 32;   // SHA-256 of every byte before it
inline constexpr size_t kMaxHeaderSize = 64u << 20;

// How a tensor's elements are ordered in the file. kPanels (format version 2, rank 2, f32 / bf16 /
// i8): the linear-weight panel layouts of weights/panel_layout.h, read in place by the kernels.
enum class Layout : uint8_t { kRowMajor, kPanels };

struct TensorView {
  std::string name;
  DType dtype;
  Layout layout = Layout::kRowMajor;
  std::vector<int64_t> shape;
  const uint8_t* data;  // into the ModelFile's buffer, 64-byte aligned
  size_t nbytes;
  int64_t numel() const;
  const float* f32() const { return reinterpret_cast<const float*>(data); }
};

class MappedFile;

struct LoadOptions {
  // true: map the file read-only (regular files only); false: read it into a SecretBuffer.
  bool map = true;
};

class ModelFile {
 public:
  // Maps (or reads) and verifies a plaintext model file. A file that changed while being loaded is
  // refused (kDataLoss); a path that is not a regular file is kInvalidArgument.
  static Result<ModelFile> load(const std::string& path, const LoadOptions& options = {});
  // Verifies and adopts bytes already in memory (e.g. decrypted from a sealed file).
  static Result<ModelFile> from_buffer(secure::SecretBuffer bytes, const std::string& what);

  // "t5" or "bart".
  const std::string& architecture() const;
  // The Hugging Face config.json, generation_config.json (or {}) and tokenizer entry of the header.
  const nlohmann::json& config() const;
  const nlohmann::json& generation_config() const;
  const nlohmann::json& header() const { return header_; }

  const TensorView* find(const std::string& name) const;  // nullptr if absent; resolves aliases
  // find(), or kNotFound / kInvalidArgument naming the tensor and the expected dtype/shape (any
  // layout: callers that read elements must check TensorView::layout).
  Result<const TensorView*> get(const std::string& name, DType dtype, const std::vector<int64_t>& shape) const;
  const std::vector<TensorView>& tensors() const { return tensors_; }
  // Raw bytes of an embedded blob (dtype u8 tensor), e.g. the tokenizer files.
  Result<std::span<const uint8_t>> blob(const std::string& name) const;
  // Hex SHA-256 of the whole file as stored (identifies the model in logs/metrics).
  // SHA-256 of the whole file (trailer included): what `sha256sum` prints and what attestation
  // binds as the model digest (secure/attest/model_binding.h).
  const secure::Digest256& sha256() const { return sha256_; }
  std::string sha256_hex() const { return secure::to_hex(sha256_); }
  // alias -> target (tied weights), as in the header.
  const std::map<std::string, std::string>& aliases() const { return aliases_; }
  // The whole verified file (e.g. to re-seal it); valid as long as the ModelFile (a SecretBuffer's
  // bytes are wiped with it).
  std::span<const uint8_t> bytes() const { return view_; }
  // Whether the bytes are a read-only mapping of the file (load() with map) rather than a buffer.
  bool mapped() const { return mapping_ != nullptr; }

 private:
  Status parse(const std::string& what);

  secure::SecretBuffer bytes_;                  // read or adopted bytes; empty when mapped
  std::shared_ptr<const MappedFile> mapping_;   // the mapped file; null when buffered
  std::span<const uint8_t> view_;               // the file's bytes, in bytes_ or mapping_
  nlohmann::json header_;
  std::vector<TensorView> tensors_;
  std::map<std::string, size_t> index_;  // name or alias -> tensors_ index
  std::map<std::string, std::string> aliases_;
  secure::Digest256 sha256_{};
};

// Writes model files. Tensors are copied in as they are added (so sources may be freed).
// Output is deterministic: tensors in the order added, the header's JSON keys sorted, no times or
// paths. add_* never fail: a bad call (duplicate name, bytes that do not match dtype x shape, an
// alias of a missing tensor) is remembered, and validate()/stream()/write() report the first one.
// Not thread-safe.
class ModelWriter {
 public:
  ModelWriter(std::string architecture, nlohmann::json config, nlohmann::json generation_config);
  void add_tensor(const std::string& name, DType dtype, std::vector<int64_t> shape, std::span<const uint8_t> bytes);
  // Same, adopting the bytes (no copy).
  void add_tensor(const std::string& name, DType dtype, std::vector<int64_t> shape, std::vector<uint8_t>&& bytes);
  // A float32 linear weight W [n, k] given row-major (n*k floats), stored in the panel layout
  // (weights/panel_layout.h) that the kernels read in place.
  // dtype bf16 or i8 stores the quantized panel forms instead (weights/panel_layout.h); i8 also
  // adds the scales tensor NAME.scale (f32 [n]), placed after every tensor added with add_tensor /
  // add_linear_weight so that consecutive linear weights stay back to back (fused q|k|v views).
  void add_linear_weight(const std::string& name, int64_t n, int64_t k, std::span<const float> row_major,
                         DType dtype = DType::kF32);
  void add_alias(const std::string& alias, const std::string& target);  // tied weights
  void set_tokenizer(const nlohmann::json& tokenizer_entry);             // see model_file.cpp
  void set_source(const nlohmann::json& source);                          // provenance, free-form
  // First recorded misuse, or ok.
  Status validate() const;
  // Size in bytes of the serialised file.
  uint64_t serialized_size() const;
  // Produces the file's bytes in order, in pieces, ending with the checksum trailer; stops at the
  // first failing sink call and returns its Status. This is the seam for sealing: hand the pieces
  // to an encrypting writer instead of a plaintext file.
  Status stream(const std::function<Status(std::span<const uint8_t>)>& sink) const;
  // Serialises to bytes (header, aligned tensors, checksum); empty when validate() fails.
  std::vector<uint8_t> serialize() const;
  // Writes atomically (temp file in the same directory, fsync, rename) to path.
  Status write(const std::string& path) const;

 private:
  std::string header_json() const;
  Status error_;
  struct Entry {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
    Layout layout = Layout::kRowMajor;
  };
  std::string architecture_;
  nlohmann::json config_, generation_, tokenizer_, source_;
  std::vector<Entry> entries_;
  std::vector<Entry> tail_;  // written after entries_ (the i8 scales)
  std::vector<const Entry*> ordered() const;
  std::map<std::string, size_t> names_;  // tensor name -> entries_ index
  std::map<std::string, std::string> aliases_;
};

}  // namespace sealsum::weights
