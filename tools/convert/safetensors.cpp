// safetensors reader (see safetensors.h).
#include "tools/convert/safetensors.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "tools/convert/file_io.h"

namespace sealsum::convert {
namespace {

constexpr uint64_t kMaxHeader = 100u << 20;  // the reference implementation's own limit
constexpr uint64_t kMaxFile = uint64_t{64} << 30;
constexpr uint64_t kMaxNumel = uint64_t{1} << 34;

}  // namespace

Result<StateDict> parse_safetensors(std::span<const uint8_t> bytes, const std::string& what) {
  auto corrupt = [&](const std::string& why) { return data_loss("safetensors file '" + what + "': " + why); };
  if (bytes.size() < 8) return corrupt("too short (truncated?)");
  uint64_t n = 0;
  for (int k = 7; k >= 0; --k) n = n << 8 | bytes[size_t(k)];
  if (n < 2 || n > kMaxHeader || n > bytes.size() - 8) {
    return corrupt("header length " + std::to_string(n) + " is out of bounds (truncated?)");
  }
  const nlohmann::json h = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + long(n), nullptr, false);
  if (h.is_discarded() || !h.is_object()) return corrupt("header is not a JSON object");
  const uint8_t* data = bytes.data() + 8 + n;
  const uint64_t data_len = bytes.size() - 8 - n;
  struct Span { uint64_t begin, end; std::string name; };
  std::vector<Span> spans;
  StateDict out;
  for (const auto& [name, t] : h.items()) {
    if (name == "__metadata__") continue;
    const std::string tn = "tensor '" + name + "'";
    if (!t.is_object() || !t.contains("dtype") || !t["dtype"].is_string() || !t.contains("shape") ||
        !t["shape"].is_array() || t["shape"].size() > 8 || !t.contains("data_offsets") ||
        !t["data_offsets"].is_array() || t["data_offsets"].size() != 2 || !t["data_offsets"][0].is_number_unsigned() ||
        !t["data_offsets"][1].is_number_unsigned()) {
      return corrupt(tn + " lacks dtype / shape / data_offsets");
    }
    const std::string dt = t["dtype"].get<std::string>();
    size_t es = 0;
    if (dt == "F32") es = 4;
    else if (dt == "F16" || dt == "BF16") es = 2;
    else return unimplemented("safetensors file '" + what + "': " + tn + " has dtype " + dt.substr(0, 16) +
                              "; the converter reads F32, F16 and BF16");
    SourceTensor st;
    st.name = name;
    uint64_t numel = 1;
    for (const auto& d : t["shape"]) {
      if (!d.is_number_unsigned()) return corrupt(tn + " has an invalid dimension");
      if (__builtin_mul_overflow(numel, d.get<uint64_t>(), &numel) || numel > kMaxNumel) return corrupt(tn + " is too large");
      st.shape.push_back(int64_t(d.get<uint64_t>()));
    }
    const uint64_t b = t["data_offsets"][0].get<uint64_t>(), e = t["data_offsets"][1].get<uint64_t>();
    if (b > e || e > data_len) return corrupt(tn + ": data_offsets [" + std::to_string(b) + ", " + std::to_string(e) + "] lie outside the data (truncated?)");
    if (e - b != numel * es) {
      return corrupt(tn + ": " + std::to_string(e - b) + " bytes for shape x " + dt + " = " + std::to_string(numel * es));
    }
    spans.push_back({b, e, name});
    st.f32.resize(size_t(numel) * 4);
    const uint8_t* p = data + b;
    if (es == 4) {
      // A zero-element tensor has an empty buffer whose data() may be null: memcpy needs non-null.
      if (!st.f32.empty()) std::memcpy(st.f32.data(), p, st.f32.size());
    } else {
      for (uint64_t k = 0; k < numel; ++k) {
        const uint16_t x = uint16_t(p[2 * k] | p[2 * k + 1] << 8);
        const float f = dt == "F16" ? f16_to_f32(x) : bf16_to_f32(x);
        std::memcpy(st.f32.data() + 4 * k, &f, 4);
      }
    }
    out.push_back(std::move(st));
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  for (size_t k = 1; k < spans.size(); ++k) {
    if (spans[k].begin < spans[k - 1].end) return corrupt("tensors '" + spans[k - 1].name + "' and '" + spans[k].name + "' overlap");
  }
  return out;
}

Result<StateDict> read_safetensors(const std::string& path) {
  SEALSUM_ASSIGN_OR_RETURN(const std::vector<uint8_t> bytes, read_file_bytes(path, kMaxFile));
  return parse_safetensors(bytes, path);
}

Result<StateDict> read_safetensors_index(const std::string& index_path,
                                         const std::function<void(size_t, size_t)>& progress) {
  SEALSUM_ASSIGN_OR_RETURN(const nlohmann::json index, read_json_object(index_path));
  auto bad = [&](const std::string& why) { return data_loss("safetensors index '" + index_path + "': " + why); };
  auto wm = index.find("weight_map");
  if (wm == index.end() || !wm->is_object() || wm->empty()) return bad("no 'weight_map' object");
  std::map<std::string, std::string> where;  // tensor -> shard
  std::set<std::string> shards;
  for (const auto& [name, shard] : wm->items()) {
    if (!shard.is_string()) return bad("weight_map['" + name + "'] is not a file name");
    const std::string s = shard.get<std::string>();
    if (s.empty() || s == "." || s == ".." || s.find('/') != std::string::npos || s.find('\\') != std::string::npos) {
      return bad("shard name '" + s + "' is not a plain file name");
    }
    where[name] = s;
    shards.insert(s);
  }
  const std::filesystem::path dir = std::filesystem::path(index_path).parent_path();
  StateDict out;
  std::set<std::string> seen;
  size_t done = 0;
  for (const auto& s : shards) {
    SEALSUM_ASSIGN_OR_RETURN(StateDict part, read_safetensors((dir / s).string()));
    for (auto& t : part) {
      auto it = where.find(t.name);
      if (it == where.end() || it->second != s) return bad("tensor '" + t.name + "' is in shard '" + s + "', not where weight_map says");
      if (!seen.insert(t.name).second) return bad("tensor '" + t.name + "' appears twice");
      out.push_back(std::move(t));
    }
    if (progress) progress(++done, shards.size());
  }
  if (seen.size() != where.size()) {
    for (const auto& [name, shard] : where) {
      if (!seen.count(name)) return bad("tensor '" + name + "' is not in shard '" + shard + "'");
    }
  }
  return out;
}

}  // namespace sealsum::convert
