// ModelWriter: produces sealsum model files (layout: weights/model_file.cpp).
//
// The bytes are a pure function of the calls made (tensor order as added, header keys sorted, no
// times or paths), so converting the same inputs twice gives identical files. write() is atomic:
// the bytes go to a fresh temp file (mode 0600: weights are secrets) in the target's directory,
// which is fsync'd and renamed over the target; on any failure the temp file is removed and the
// target is untouched.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "common/atomic_file.h"
#include "secure/digest.h"
#include "weights/model_file.h"
#include "weights/panel_layout.h"

namespace sealsum::weights {
namespace {

uint64_t align_up(uint64_t x) { return (x + kTensorAlignment - 1) / kTensorAlignment * kTensorAlignment; }

void put_le(std::vector<uint8_t>& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(uint8_t(v >> (8 * i)));
}

}  // namespace

ModelWriter::ModelWriter(std::string architecture, nlohmann::json config, nlohmann::json generation_config)
    : architecture_(std::move(architecture)),
      config_(std::move(config)),
      generation_(std::move(generation_config)),
      tokenizer_(nlohmann::json::object()),
      source_(nlohmann::json::object()) {
  if (!config_.is_object()) error_ = invalid_argument("model config must be a JSON object");
  if (generation_.is_null()) generation_ = nlohmann::json::object();
  if (!generation_.is_object()) error_ = invalid_argument("generation config must be a JSON object");
}

void ModelWriter::add_tensor(const std::string& name, DType dtype, std::vector<int64_t> shape,
                             std::span<const uint8_t> bytes) {
  add_tensor(name, dtype, std::move(shape), std::vector<uint8_t>(bytes.begin(), bytes.end()));
}

void ModelWriter::add_tensor(const std::string& name, DType dtype, std::vector<int64_t> shape,
                             std::vector<uint8_t>&& bytes) {
  if (!error_.is_ok()) return;
  uint64_t numel = 1;
  for (int64_t d : shape) {
    if (d < 0 || __builtin_mul_overflow(numel, uint64_t(d), &numel)) {
      error_ = invalid_argument("tensor '" + name + "' has an invalid shape");
      return;
    }
  }
  bool printable = true;
  for (char c : name) printable = printable && c > 0x20 && c < 0x7f;
  if (name.empty() || name.size() > 256 || !printable) {
    error_ = invalid_argument("tensor name '" + name.substr(0, 64) + "' must be 1..256 printable ASCII bytes");
  } else if (names_.count(name) || aliases_.count(name)) {
    error_ = invalid_argument("tensor '" + name + "' added twice");
  } else if (shape.size() > 8) {
    error_ = invalid_argument("tensor '" + name + "' has more than 8 dimensions");
  } else if (numel * dtype_size(dtype) != bytes.size()) {
    error_ = invalid_argument("tensor '" + name + "': " + std::to_string(bytes.size()) + " bytes given, shape x " +
                              dtype_name(dtype) + " needs " + std::to_string(numel * dtype_size(dtype)));
  }
  if (!error_.is_ok()) return;
  names_[name] = entries_.size();
  entries_.push_back({name, dtype, std::move(shape), std::move(bytes)});
}

void ModelWriter::add_linear_weight(const std::string& name, int64_t n, int64_t k, std::span<const float> row_major,
                                    DType dtype) {
  if (!error_.is_ok()) return;
  if (n < 0 || k < 0 || n > (int64_t{1} << 40) / std::max<int64_t>(k, 1) ||
      row_major.size() != static_cast<size_t>(n * k)) {
    error_ = invalid_argument("linear weight '" + name + "': " + std::to_string(row_major.size()) +
                              " floats given for shape [" + std::to_string(n) + ", " + std::to_string(k) + "]");
    return;
  }
  std::vector<uint8_t> bytes;
  std::vector<float> scales;
  int64_t stored_k = k;
  if (dtype == DType::kF32) {
    const std::vector<float> panels = to_panels(row_major, n, k);
    bytes.resize(panels.size() * sizeof(float));
    std::memcpy(bytes.data(), panels.data(), bytes.size());
  } else if (dtype == DType::kBF16) {
    const std::vector<uint16_t> panels = to_bf16_panels(row_major, n, k);
    bytes.resize(panels.size() * sizeof(uint16_t));
    std::memcpy(bytes.data(), panels.data(), bytes.size());
  } else if (dtype == DType::kI8) {
    I8Panels q = quantize_i8_panels(row_major, n, k);
    bytes.resize(q.codes.size());
    std::memcpy(bytes.data(), q.codes.data(), bytes.size());
    scales = std::move(q.scales);
    stored_k = i8_padded_k(k);
  } else {
    error_ = invalid_argument("linear weight '" + name + "': dtype " + dtype_name(dtype) + " is not f32, bf16 or i8");
    return;
  }
  // Checked as an ordinary tensor of the padded shape, then marked as the logical [n, k] in panels.
  const int64_t rows = k == 0 ? 0 : n == 0 ? 0 : (n + kPanelWidth - 1) / kPanelWidth * kPanelWidth;
  add_tensor(name, dtype, {rows, stored_k}, std::move(bytes));
  if (!error_.is_ok()) return;
  Entry& e = entries_.back();
  e.shape = {n, k};
  e.layout = Layout::kPanels;
  if (dtype == DType::kI8) {
    const std::string sname = name + kScaleSuffix;
    add_tensor(sname, DType::kF32, {n}, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(scales.data()),
                                                                 scales.size() * sizeof(float)));
    if (!error_.is_ok()) return;
    // names_ only records that the name is taken; the entry moves to the tail.
    tail_.push_back(std::move(entries_.back()));
    entries_.pop_back();
  }
}

std::vector<const ModelWriter::Entry*> ModelWriter::ordered() const {
  std::vector<const Entry*> out;
  out.reserve(entries_.size() + tail_.size());
  for (const Entry& e : entries_) out.push_back(&e);
  for (const Entry& e : tail_) out.push_back(&e);
  return out;
}

void ModelWriter::add_alias(const std::string& alias, const std::string& target) {
  if (!error_.is_ok()) return;
  bool printable = !alias.empty() && alias.size() <= 256;
  for (char c : alias) printable = printable && c > 0x20 && c < 0x7f;
  if (!printable) {
    error_ = invalid_argument("alias name '" + alias.substr(0, 64) + "' must be 1..256 printable ASCII bytes");
  } else if (names_.count(alias) || aliases_.count(alias)) {
    error_ = invalid_argument("alias '" + alias + "' is already a tensor or alias");
  } else if (!names_.count(target)) {
    error_ = invalid_argument("alias '" + alias + "' points to '" + target + "', which is not a tensor (add it first)");
  } else {
    aliases_[alias] = target;
  }
}

void ModelWriter::set_tokenizer(const nlohmann::json& tokenizer_entry) { tokenizer_ = tokenizer_entry; }
void ModelWriter::set_source(const nlohmann::json& source) { source_ = source; }

Status ModelWriter::validate() const {
  if (!error_.is_ok()) return error_;
  if (architecture_ != "t5" && architecture_ != "bart") {
    return invalid_argument("architecture '" + architecture_ + "' is not t5 or bart");
  }
  if (!tokenizer_.is_object()) return invalid_argument("tokenizer entry must be a JSON object");
  return Status::ok();
}

std::string ModelWriter::header_json() const {
  nlohmann::json tensors = nlohmann::json::array();
  uint64_t off = 0;
  for (const Entry* ep : ordered()) {
    const Entry& e = *ep;
    off = align_up(off);
    tensors.push_back({{"name", e.name},
                       {"dtype", dtype_name(e.dtype)},
                       {"shape", e.shape},
                       {"offset", off},
                       {"nbytes", uint64_t(e.bytes.size())}});
    if (e.layout == Layout::kPanels) tensors.back()["layout"] = "panels";
    off += e.bytes.size();
  }
  nlohmann::json aliases = nlohmann::json::object();
  for (const auto& [a, t] : aliases_) aliases[a] = t;
  nlohmann::json h = {{"format", "sealsum-model"},
                      {"version", kModelFormatVersion},
                      {"architecture", architecture_},
                      {"config", config_},
                      {"generation_config", generation_},
                      {"tokenizer", tokenizer_},
                      {"tensors", std::move(tensors)},
                      {"aliases", std::move(aliases)},
                      {"source", source_}};
  // Compact, keys sorted (nlohmann objects are ordered maps); invalid UTF-8 replaced, never throws.
  return h.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

uint64_t ModelWriter::serialized_size() const {
  uint64_t off = 0;
  for (const Entry* e : ordered()) off = align_up(off) + e->bytes.size();
  return align_up(kPreambleSize + header_json().size()) + off + kTrailerSize;
}

Status ModelWriter::stream(const std::function<Status(std::span<const uint8_t>)>& sink) const {
  SEALSUM_RETURN_IF_ERROR(validate());
  const std::string header = header_json();
  if (header.size() > kMaxHeaderSize) return resource_exhausted("model header exceeds 64 MiB");
  secure::Sha256 sha;
  auto emit = [&](std::span<const uint8_t> b) -> Status {
    sha.update(b);
    return sink(b);
  };
  std::vector<uint8_t> pre(kModelMagic, kModelMagic + sizeof kModelMagic);
  put_le(pre, kModelFormatVersion, 4);
  put_le(pre, 0, 4);
  put_le(pre, header.size(), 8);
  pre.insert(pre.end(), header.begin(), header.end());
  pre.resize(align_up(pre.size()), 0);
  SEALSUM_RETURN_IF_ERROR(emit(pre));
  static const uint8_t kZeros[kTensorAlignment] = {};
  uint64_t off = 0;
  for (const Entry* ep : ordered()) {
    const Entry& e = *ep;
    const uint64_t pad = align_up(off) - off;
    if (pad) SEALSUM_RETURN_IF_ERROR(emit({kZeros, size_t(pad)}));
    SEALSUM_RETURN_IF_ERROR(emit(e.bytes));
    off += pad + e.bytes.size();
  }
  const secure::Digest256 d = sha.finish();
  return sink(d);
}

std::vector<uint8_t> ModelWriter::serialize() const {
  std::vector<uint8_t> out;
  if (!validate().is_ok()) return out;
  out.reserve(size_t(serialized_size()));
  Status st = stream([&](std::span<const uint8_t> b) {
    out.insert(out.end(), b.begin(), b.end());
    return Status::ok();
  });
  if (!st.is_ok()) out.clear();
  return out;
}

Status ModelWriter::write(const std::string& path) const {
  SEALSUM_RETURN_IF_ERROR(validate());
  // Temporary file beside `path`, fsync, rename, directory fsync; removed on any failure.
  SEALSUM_ASSIGN_OR_RETURN(AtomicFile out, AtomicFile::create(path));
  SEALSUM_RETURN_IF_ERROR(stream([&](std::span<const uint8_t> b) { return out.write(b); }));
  return out.commit().status();
}

}  // namespace sealsum::weights
