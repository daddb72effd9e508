// The sealsum model file: reader and verifier.
//
// FORMAT (version 2). All integers are little-endian. Offsets are in bytes.
//
//   [0, 8)     magic "SEALSUMM"
//   [8, 12)    u32 format version = 2 (this reader also reads version 1, which is version 2
//              without tensor layouts; it refuses any other version: kUnimplemented)
//   [12, 16)   u32 flags = 0 (reserved; the reader refuses non-zero flags)
//   [16, 24)   u64 H = length of the JSON header, 2 <= H <= 64 MiB
//   [24, 24+H) the JSON header (UTF-8, one object; see below)
//   zero bytes up to D = round_up(24 + H, 64), the start of the data section
//   [D, S-32)  the data section: each tensor's bytes at D + offset, offset a multiple of 64;
//              tensors do not overlap; bytes not covered by a tensor are zero padding
//   [S-32, S)  SHA-256 of bytes [0, S-32) (S = file size): the checksum trailer
//
// The JSON header (keys sorted, as nlohmann::json writes them; the writer is deterministic):
//   "format": "sealsum-model", "version": 2 (1 in a version-1 file)
//   "architecture": "t5" | "bart"
//   "config": the Hugging Face config.json object, verbatim
//   "generation_config": generation_config.json, or {} when the checkpoint had none
//   "tokenizer": {} or {"kind": K, "files": [{"name": FILE, "tensor": TENSOR}, ...]} where K and the
//       FILE names are those of tok::TokenizerSource and each TENSOR is a u8 blob tensor holding the
//       file's bytes (see weights/tokenizer_blob.h)
//   "tensors": [{"name", "dtype", "shape", "offset", "nbytes"}, ...] in data order; dtype is one of
//       "f32", "bf16", "i8", "u8"; shape a list of non-negative integers (rank <= 8; [] is a
//       scalar); nbytes == product(shape) * size(dtype). Version 2 only: an optional "layout":
//       "panels" (f32, rank 2 [n, k]) stores a linear weight in the kernels' panel layout
//       (weights/panel_layout.h), nbytes == ceil(n / 32) * 32 * k * 4; absent means row-major.
//       bf16 "panels": the same layout with 2-byte elements (nbytes ceil(n/32)*32*k*2); i8
//       "panels": int8 codes in the VNNI panel layout of weights/panel_layout.h (nbytes
//       ceil(n/32)*32*ceil(k/4)*4), with the per-row f32 scales in the tensor NAME.scale [n].
//       `sealsum convert --dtype` chooses f32 (default), bf16 or int8 for the linear weights.
//       The converter writes every linear weight so (pack at conversion, read in place at load).
//   "aliases": {alias: target} for tied weights; every target is a tensor (not an alias) and no
//       alias is also a tensor name
//   "source": free-form provenance (what was converted, file digests); never paths or times
//
// VERIFICATION (load/from_buffer): before anything is exposed, the reader checks the size bounds,
// magic, version, flags, header length, zero padding, the SHA-256 trailer (so every later check
// runs on bytes the writer produced, or a deliberate forgery), then the header: types of every
// field, known dtypes, names (1..256 printable ASCII bytes, unique), shape products without
// overflow and equal to nbytes, alignment, bounds within the data section, no overlaps, aliases.
// Corruption is kDataLoss naming the file ("what") and the problem; an unsupported version is
// kUnimplemented. load() verifies a plain file through its read-only mapping (weights/mapped_file.h)
// and afterwards refuses it if the file changed meanwhile (inode, size, modification time).
#include "weights/model_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "secure/digest.h"
#include "weights/mapped_file.h"
#include "weights/panel_layout.h"

namespace sealsum::weights {
namespace {

constexpr uint64_t kMaxFileSize = uint64_t{1} << 40;  // 1 TiB: far above any model we run
constexpr size_t kMaxTensors = 1u << 20;
constexpr size_t kMaxRank = 8;
constexpr size_t kMaxName = 256;
constexpr uint64_t kMaxDim = uint64_t{1} << 40;

uint32_t le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t le64(const uint8_t* p) { return uint64_t(le32(p)) | uint64_t(le32(p + 4)) << 32; }

bool valid_name(const std::string& n) {
  if (n.empty() || n.size() > kMaxName) return false;
  return std::all_of(n.begin(), n.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

}  // namespace

const char* dtype_name(DType d) {
  switch (d) {
    case DType::kF32: return "f32";
    case DType::kBF16: return "bf16";
    case DType::kI8: return "i8";
    case DType::kU8: return "u8";
  }
  return "?";
}

size_t dtype_size(DType d) {
  switch (d) {
    case DType::kF32: return 4;
    case DType::kBF16: return 2;
    case DType::kI8: return 1;
    case DType::kU8: return 1;
  }
  return 0;
}

std::optional<DType> dtype_from_name(const std::string& name) {
  for (DType d : {DType::kF32, DType::kBF16, DType::kI8, DType::kU8}) {
    if (name == dtype_name(d)) return d;
  }
  return std::nullopt;
}

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Result<ModelFile> ModelFile::load(const std::string& path, const LoadOptions& options) {
  if (options.map) {
    SEALSUM_ASSIGN_OR_RETURN(auto mapping, MappedFile::open(path, kMaxFileSize));
    ModelFile m;
    m.view_ = mapping->bytes();
    m.mapping_ = std::move(mapping);
    SEALSUM_RETURN_IF_ERROR(m.parse(path));
    // parse() read every byte (checksum); refuse a file rewritten or truncated meanwhile.
    SEALSUM_RETURN_IF_ERROR(m.mapping_->unchanged());
    return m;
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return not_found("cannot open model file '" + path + "': " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return invalid_argument("model file '" + path + "' is not a regular file");
  }
  const uint64_t size = uint64_t(st.st_size);
  if (size > kMaxFileSize) {
    ::close(fd);
    return resource_exhausted("model file '" + path + "' is larger than 1 TiB");
  }
  auto buf = secure::SecretBuffer::allocate(size_t(size));
  if (!buf.ok()) {
    ::close(fd);
    return buf.status().with_context("loading model file '" + path + "'");
  }
  size_t got = 0;
  while (got < size) {
    ssize_t n = ::pread(fd, buf->data() + got, size_t(size) - got, off_t(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return data_loss("model file '" + path + "': read failed after " + std::to_string(got) + " of " +
                       std::to_string(size) + " bytes" + (n < 0 ? std::string(": ") + std::strerror(errno) : ""));
    }
    got += size_t(n);
  }
  ::close(fd);
  return from_buffer(std::move(buf).value(), path);
}

Result<ModelFile> ModelFile::from_buffer(secure::SecretBuffer bytes, const std::string& what) {
  ModelFile m;
  m.bytes_ = std::move(bytes);
  m.view_ = m.bytes_.span();
  SEALSUM_RETURN_IF_ERROR(m.parse(what));
  return m;
}

Status ModelFile::parse(const std::string& what) {
  auto corrupt = [&](const std::string& problem) { return data_loss("model file '" + what + "': " + problem); };
  const uint8_t* p = view_.data();
  const uint64_t size = view_.size();
  if (size < kPreambleSize + 2 + kTrailerSize) {
    return corrupt("too short (" + std::to_string(size) + " bytes) to be a sealsum model file");
  }
  // Tensor pointers are base + 64-byte multiples: the base (page-aligned for both a SecretBuffer
  // and a mapping) must itself be 64-byte aligned for the kernels' aligned loads.
  if (reinterpret_cast<uintptr_t>(p) % kTensorAlignment != 0) {
    return internal_error("model file '" + what + "': buffer is not 64-byte aligned");
  }
  if (std::memcmp(p, kModelMagic, sizeof kModelMagic) != 0) {
    return corrupt("not a sealsum model file (bad magic); a sealed model must be unsealed first");
  }
  const uint32_t version = le32(p + 8);
  if (version < kMinModelFormatVersion || version > kModelFormatVersion) {
    return unimplemented("model file '" + what + "' has format version " + std::to_string(version) +
                         "; this build reads versions " + std::to_string(kMinModelFormatVersion) + " to " +
                         std::to_string(kModelFormatVersion) + " (convert the model again with this build)");
  }
  if (le32(p + 12) != 0) return corrupt("unknown flags 0x" + std::to_string(le32(p + 12)));
  const uint64_t header_len = le64(p + 16);
  if (header_len < 2 || header_len > kMaxHeaderSize || header_len > size - kPreambleSize - kTrailerSize) {
    return corrupt("header length " + std::to_string(header_len) + " is out of bounds for a file of " +
                   std::to_string(size) + " bytes");
  }
  const uint64_t header_end = kPreambleSize + header_len;
  const uint64_t data_start = (header_end + kTensorAlignment - 1) / kTensorAlignment * kTensorAlignment;
  const uint64_t data_end = size - kTrailerSize;
  if (data_start > data_end) return corrupt("truncated: the data section starts past the end of the file");
  for (uint64_t i = header_end; i < data_start; ++i) {
    if (p[i] != 0) return corrupt("non-zero padding after the header");
  }

  // Checksum first: everything below then parses bytes the writer produced.
  secure::Sha256 body, whole;
  constexpr size_t kChunk = 1u << 20;
  for (uint64_t off = 0; off < size; off += kChunk) {
    const size_t n = size_t(std::min<uint64_t>(kChunk, size - off));
    whole.update({p + off, n});
    if (off < data_end) body.update({p + off, size_t(std::min<uint64_t>(n, data_end - off))});
  }
  const secure::Digest256 want = body.finish();
  if (!secure::ct_equal(want, {p + data_end, kTrailerSize})) {
    return corrupt("checksum mismatch: the file is corrupt or truncated");
  }
  sha256_ = whole.finish();

  header_ = nlohmann::json::parse(p + kPreambleSize, p + header_end, nullptr, /*allow_exceptions=*/false);
  if (header_.is_discarded() || !header_.is_object()) return corrupt("the header is not a JSON object");
  auto field = [&](const char* key) -> const nlohmann::json* {
    auto it = header_.find(key);
    return it == header_.end() ? nullptr : &*it;
  };
  const nlohmann::json* fmt = field("format");
  if (fmt == nullptr || !fmt->is_string() || *fmt != "sealsum-model") return corrupt("header field 'format' is not \"sealsum-model\"");
  const nlohmann::json* arch = field("architecture");
  if (arch == nullptr || !arch->is_string()) return corrupt("header field 'architecture' is missing");
  if (*arch != "t5" && *arch != "bart") {
    return unimplemented("model file '" + what + "' has architecture '" + arch->get<std::string>().substr(0, 32) +
                         "'; this build runs t5 and bart");
  }
  for (const char* key : {"config", "generation_config", "tokenizer"}) {
    const nlohmann::json* f = field(key);
    if (f == nullptr || !f->is_object()) return corrupt(std::string("header field '") + key + "' is not an object");
  }
  const nlohmann::json* tensors = field("tensors");
  if (tensors == nullptr || !tensors->is_array()) return corrupt("header field 'tensors' is not a list");
  if (tensors->size() > kMaxTensors) return corrupt("more than " + std::to_string(kMaxTensors) + " tensors");

  struct Span { uint64_t begin, end; size_t index; };
  std::vector<Span> spans;
  tensors_.reserve(tensors->size());
  for (const auto& t : *tensors) {
    const std::string at = "tensor #" + std::to_string(tensors_.size());
    if (!t.is_object()) return corrupt(at + " is not an object");
    auto name = t.find("name"), dtype = t.find("dtype"), shape = t.find("shape"), offset = t.find("offset"),
         nbytes = t.find("nbytes"), layout = t.find("layout");
    if (name == t.end() || !name->is_string() || !valid_name(name->get<std::string>())) {
      return corrupt(at + " has no valid name (1..256 printable ASCII bytes)");
    }
    TensorView v;
    v.name = name->get<std::string>();
    const std::string tn = "tensor '" + v.name + "'";
    if (index_.count(v.name)) return corrupt("duplicate " + tn);
    if (dtype == t.end() || !dtype->is_string()) return corrupt(tn + " has no dtype");
    auto d = dtype_from_name(dtype->get<std::string>());
    if (!d) return corrupt(tn + " has unknown dtype '" + dtype->get<std::string>().substr(0, 16) + "'");
    v.dtype = *d;
    if (shape == t.end() || !shape->is_array() || shape->size() > kMaxRank) {
      return corrupt(tn + " has no shape (a list of at most 8 dimensions)");
    }
    uint64_t numel = 1;
    for (const auto& dim : *shape) {
      if (!dim.is_number_unsigned() || dim.get<uint64_t>() > kMaxDim) return corrupt(tn + " has an invalid dimension");
      const uint64_t x = dim.get<uint64_t>();
      if (__builtin_mul_overflow(numel, x, &numel)) return corrupt(tn + ": shape product overflows");
      v.shape.push_back(int64_t(x));
    }
    if (layout != t.end()) {
      if (version < 2 || !layout->is_string() || *layout != "panels") {
        return corrupt(tn + " has an unknown layout (version 2 knows \"panels\")");
      }
      if (v.dtype == DType::kU8 || v.shape.size() != 2) {
        return corrupt(tn + ": layout \"panels\" needs an f32, bf16 or i8 matrix");
      }
      // Stored rows: n rounded up to whole panels (n <= kMaxDim, so no overflow in the rounding);
      // i8 also pads k to whole groups of kI8KGroup.
      const uint64_t rows = (uint64_t(v.shape[0]) + kPanelWidth - 1) / kPanelWidth * kPanelWidth;
      const uint64_t cols = v.dtype == DType::kI8 ? uint64_t(i8_padded_k(v.shape[1])) : uint64_t(v.shape[1]);
      if (__builtin_mul_overflow(rows, cols, &numel)) return corrupt(tn + ": shape product overflows");
      v.layout = Layout::kPanels;
    }
    uint64_t expect = 0;
    if (__builtin_mul_overflow(numel, uint64_t(dtype_size(v.dtype)), &expect)) return corrupt(tn + ": size overflows");
    if (offset == t.end() || !offset->is_number_unsigned() || nbytes == t.end() || !nbytes->is_number_unsigned()) {
      return corrupt(tn + " has no offset/nbytes");
    }
    const uint64_t off = offset->get<uint64_t>(), nb = nbytes->get<uint64_t>();
    if (nb != expect) {
      return corrupt(tn + ": nbytes " + std::to_string(nb) + " != shape x " + dtype_name(v.dtype) + " size " +
                     std::to_string(expect));
    }
    if (off % kTensorAlignment != 0) return corrupt(tn + ": offset " + std::to_string(off) + " is not 64-byte aligned");
    if (off > data_end - data_start || nb > data_end - data_start - off) {
      return corrupt(tn + ": bytes [" + std::to_string(off) + ", +" + std::to_string(nb) +
                     ") lie outside the data section (truncated file?)");
    }
    v.data = p + data_start + off;
    v.nbytes = size_t(nb);
    spans.push_back({off, off + nb, tensors_.size()});
    index_[v.name] = tensors_.size();
    tensors_.push_back(std::move(v));
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < spans.size(); ++i) {
    if (spans[i].begin < spans[i - 1].end) {
      return corrupt("tensors '" + tensors_[spans[i - 1].index].name + "' and '" + tensors_[spans[i].index].name +
                     "' overlap");
    }
  }

  if (const nlohmann::json* al = field("aliases"); al != nullptr) {
    if (!al->is_object()) return corrupt("header field 'aliases' is not an object");
    for (const auto& [alias, target] : al->items()) {
      if (!valid_name(alias) || !target.is_string()) return corrupt("invalid alias entry");
      const std::string t = target.get<std::string>();
      if (index_.count(alias)) return corrupt("alias '" + alias + "' is also a tensor name");
      auto it = index_.find(t);
      if (it == index_.end() || aliases_.count(t)) {
        return corrupt("alias '" + alias + "' points to '" + t.substr(0, kMaxName) + "', which is not a tensor");
      }
      aliases_[alias] = t;
    }
    for (const auto& [alias, target] : aliases_) index_[alias] = index_.at(target);
  }
  return Status::ok();
}

const std::string& ModelFile::architecture() const { return header_.at("architecture").get_ref<const std::string&>(); }
const nlohmann::json& ModelFile::config() const { return header_.at("config"); }
const nlohmann::json& ModelFile::generation_config() const { return header_.at("generation_config"); }

const TensorView* ModelFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

namespace {
std::string shape_str(const std::vector<int64_t>& s) {
  std::string o = "[";
  for (size_t i = 0; i < s.size(); ++i) o += (i ? ", " : "") + std::to_string(s[i]);
  return o + "]";
}
}  // namespace

Result<const TensorView*> ModelFile::get(const std::string& name, DType dtype, const std::vector<int64_t>& shape) const {
  const TensorView* t = find(name);
  const std::string want = std::string(dtype_name(dtype)) + " " + shape_str(shape);
  if (t == nullptr) return not_found("model file has no tensor '" + name + "' (expected " + want + ")");
  if (t->dtype != dtype || t->shape != shape) {
    return invalid_argument("tensor '" + name + "' is " + dtype_name(t->dtype) + " " + shape_str(t->shape) +
                            ", expected " + want);
  }
  return t;
}

Result<std::span<const uint8_t>> ModelFile::blob(const std::string& name) const {
  const TensorView* t = find(name);
  if (t == nullptr) return not_found("model file has no blob '" + name + "'");
  if (t->dtype != DType::kU8 || t->shape.size() != 1) {
    return invalid_argument("tensor '" + name + "' is not a blob (u8, one dimension)");
  }
  return std::span<const uint8_t>(t->data, t->nbytes);
}

}  // namespace sealsum::weights
