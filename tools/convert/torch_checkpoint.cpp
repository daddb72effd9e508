// pytorch_model.bin reader (see torch_checkpoint.h).
//
// A torch zip holds <prefix>/data.pkl (the pickled state dict), <prefix>/data/<key> (one raw
// little-endian storage per key), <prefix>/version and, since torch 1.10, <prefix>/byteorder. A
// tensor is a strided view: element (i0, .., ik) lives at storage[offset + sum(i_j * stride_j)].
// Before reading we prove offset + sum((size_j - 1) * stride_j) < storage numel with overflow
// checks, and that the storage entry holds exactly numel * element-size bytes.
#include "tools/convert/torch_checkpoint.h"

#include <cstring>

#include "tools/convert/file_io.h"
#include "tools/convert/torch_pickle.h"
#include "tools/convert/zip_reader.h"

namespace sealsum::convert {
namespace {

constexpr uint64_t kMaxCheckpoint = uint64_t{64} << 30;  // 64 GiB
constexpr uint64_t kMaxNumel = uint64_t{1} << 34;

float load_elem(const uint8_t* p, TorchDType d) {
  switch (d) {
    case TorchDType::kF32: {
      float f;
      std::memcpy(&f, p, 4);
      return f;
    }
    case TorchDType::kF16: return f16_to_f32(uint16_t(p[0] | p[1] << 8));
    case TorchDType::kBF16: return bf16_to_f32(uint16_t(p[0] | p[1] << 8));
  }
  return 0;
}

// Gathers a strided view of `storage` into contiguous f32 bytes.
Result<std::vector<uint8_t>> gather(const TorchTensorRef& t, std::span<const uint8_t> storage) {
  const std::string tn = "tensor '" + t.name + "'";
  uint64_t numel = 1;
  for (int64_t d : t.shape) {
    if (__builtin_mul_overflow(numel, uint64_t(d), &numel) || numel > kMaxNumel) return data_loss(tn + " is too large");
  }
  std::vector<uint8_t> out(size_t(numel) * 4);
  if (numel == 0) return out;
  uint64_t last = uint64_t(t.storage_offset), term = 0;
  for (size_t k = 0; k < t.shape.size(); ++k) {
    if (__builtin_mul_overflow(uint64_t(t.shape[k] - 1), uint64_t(t.stride[k]), &term) ||
        __builtin_add_overflow(last, term, &last)) {
      return data_loss(tn + ": strides overflow");
    }
  }
  if (last >= t.storage_numel) {
    return data_loss(tn + " reads element " + std::to_string(last) + " of a storage of " +
                     std::to_string(t.storage_numel));
  }
  const size_t es = torch_dtype_size(t.dtype);
  bool contiguous = true;
  int64_t expect = 1;
  for (size_t k = t.shape.size(); k-- > 0;) {
    if (t.shape[k] != 1 && t.stride[k] != expect) contiguous = false;
    expect *= t.shape[k];
  }
  const uint8_t* base = storage.data() + size_t(t.storage_offset) * es;
  if (contiguous && t.dtype == TorchDType::kF32) {
    std::memcpy(out.data(), base, out.size());
    return out;
  }
  // Odometer over the index space (row-major), tracking the storage position incrementally.
  std::vector<int64_t> idx(t.shape.size(), 0);
  uint64_t at = 0;  // element offset from base
  for (uint64_t n = 0; n < numel; ++n) {
    const float v = load_elem(base + at * es, t.dtype);
    std::memcpy(out.data() + n * 4, &v, 4);
    for (size_t k = t.shape.size(); k-- > 0;) {
      if (++idx[k] < t.shape[k]) {
        at += uint64_t(t.stride[k]);
        break;
      }
      at -= uint64_t(t.stride[k]) * uint64_t(t.shape[k] - 1);
      idx[k] = 0;
    }
  }
  return out;
}

}  // namespace

Result<StateDict> parse_torch_checkpoint(std::span<const uint8_t> bytes, const std::string& what,
                                         const std::function<void(size_t, size_t)>& progress) {
  auto ctx = [&](const Status& s) { return s.with_context("'" + what + "'"); };
  if (bytes.size() >= 2 && bytes[0] == 0x80 && bytes[1] <= 5) {
    return unimplemented("'" + what + "' is in the legacy torch serialization format (torch < 1.6); re-save it with "
                         "a current torch (torch.save(model.state_dict(), path)) or as model.safetensors");
  }
  if (bytes.size() >= 262 && std::memcmp(bytes.data() + 257, "ustar", 5) == 0) {
    return unimplemented("'" + what + "' is a legacy tar-format torch checkpoint; re-save it with a current torch");
  }
  if (bytes.size() < 4 || std::memcmp(bytes.data(), "PK\x03\x04", 4) != 0) {
    return data_loss("'" + what + "' is not a torch zip checkpoint (no zip signature; truncated or another format?)");
  }
  auto zip = ZipArchive::open(bytes, what);
  if (!zip.ok()) return zip.status();
  const ZipEntry* pkl = nullptr;
  std::string prefix;
  for (const auto& e : zip->entries()) {
    const size_t slash = e.name.find('/');
    if (slash != std::string::npos && e.name.substr(slash) == "/data.pkl") {
      if (pkl != nullptr) return data_loss("'" + what + "' holds more than one data.pkl");
      pkl = &e;
      prefix = e.name.substr(0, slash + 1);
    }
  }
  if (pkl == nullptr) return data_loss("'" + what + "' has no <name>/data.pkl entry; is it a torch checkpoint?");
  if (const ZipEntry* bo = zip->find(prefix + "byteorder"); bo != nullptr) {
    auto d = zip->data(*bo);
    if (std::string(d.begin(), d.end()) != "little") {
      return unimplemented("'" + what + "' stores big-endian tensors; re-save it on a little-endian machine");
    }
  }
  auto refs = parse_torch_pickle(zip->data(*pkl));
  if (!refs.ok()) return ctx(refs.status().with_context(pkl->name));
  StateDict out;
  out.reserve(refs->size());
  for (const auto& t : *refs) {
    const ZipEntry* e = zip->find(prefix + "data/" + t.storage_key);
    if (e == nullptr) return data_loss("'" + what + "': storage '" + t.storage_key + "' of tensor '" + t.name + "' is missing");
    uint64_t need = 0;
    if (__builtin_mul_overflow(t.storage_numel, uint64_t(torch_dtype_size(t.dtype)), &need) || need != e->size) {
      return data_loss("'" + what + "': storage '" + t.storage_key + "' holds " + std::to_string(e->size) +
                       " bytes, the pickle declares " + std::to_string(t.storage_numel) + " elements");
    }
    auto data = gather(t, zip->data(*e));
    if (!data.ok()) return ctx(data.status());
    out.push_back({t.name, t.shape, std::move(data).value()});
    if (progress) progress(out.size(), refs->size());
  }
  return out;
}

Result<StateDict> read_torch_checkpoint(const std::string& path, const std::function<void(size_t, size_t)>& progress) {
  SEALSUM_ASSIGN_OR_RETURN(const std::vector<uint8_t> bytes, read_file_bytes(path, kMaxCheckpoint));
  return parse_torch_checkpoint(bytes, path, progress);
}

}  // namespace sealsum::convert
