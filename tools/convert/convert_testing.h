// Test-only builders for the converter's tests: stored zip archives (as torch writes them, with or
// without zip64 records), protocol-2 pickles of a state dict, and safetensors files. Header-only;
// never included by library code.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/fixtures.h"
#include "tools/convert/zip_reader.h"

namespace sealsum::convert::testing {

using Bytes = std::vector<uint8_t>;

// A fixture file's bytes (throws when the fixtures are missing, as common/fixtures.h does).
inline Bytes fixture_bytes(const std::string& rel) {
  const std::string s = ::sealsum::read_fixture(rel);
  return Bytes(s.begin(), s.end());
}

inline void put(Bytes& b, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b.push_back(uint8_t(v >> (8 * i)));
}
inline void put_str(Bytes& b, const std::string& s) { b.insert(b.end(), s.begin(), s.end()); }

// A zip of STORED entries; with zip64 = true it adds the zip64 end record + locator like torch.
inline Bytes make_zip(const std::vector<std::pair<std::string, Bytes>>& entries, bool zip64 = true) {
  Bytes z, cd;
  for (const auto& [name, data] : entries) {
    const uint64_t local = z.size();
    const uint32_t crc = crc32(data);
    put(z, 0x04034b50, 4);
    put(z, 20, 2);
    put(z, 0x0808, 2);  // data descriptor + UTF-8, as torch
    put(z, 0, 2);
    put(z, 0, 4);
    put(z, 0, 4);  // crc (in the descriptor)
    put(z, 0, 4);
    put(z, 0, 4);
    put(z, name.size(), 2);
    put(z, 0, 2);
    put_str(z, name);
    z.insert(z.end(), data.begin(), data.end());
    put(z, 0x08074b50, 4);
    put(z, crc, 4);
    put(z, data.size(), 4);
    put(z, data.size(), 4);
    put(cd, 0x02014b50, 4);
    put(cd, 0x031e, 2);
    put(cd, 20, 2);
    put(cd, 0x0808, 2);
    put(cd, 0, 2);
    put(cd, 0, 4);
    put(cd, crc, 4);
    put(cd, data.size(), 4);
    put(cd, data.size(), 4);
    put(cd, name.size(), 2);
    put(cd, 0, 2);
    put(cd, 0, 2);
    put(cd, 0, 2);
    put(cd, 0, 2);
    put(cd, 0, 4);
    put(cd, local, 4);
    put_str(cd, name);
  }
  const uint64_t cd_offset = z.size();
  z.insert(z.end(), cd.begin(), cd.end());
  if (zip64) {
    const uint64_t z64 = z.size();
    put(z, 0x06064b50, 4);
    put(z, 44, 8);
    put(z, 0x031e, 2);
    put(z, 45, 2);
    put(z, 0, 4);
    put(z, 0, 4);
    put(z, entries.size(), 8);
    put(z, entries.size(), 8);
    put(z, cd.size(), 8);
    put(z, cd_offset, 8);
    put(z, 0x07064b50, 4);
    put(z, 0, 4);
    put(z, z64, 8);
    put(z, 1, 4);
  }
  put(z, 0x06054b50, 4);
  put(z, 0, 2);
  put(z, 0, 2);
  put(z, entries.size(), 2);
  put(z, entries.size(), 2);
  put(z, cd.size(), 4);
  put(z, cd_offset, 4);
  put(z, 0, 2);
  return z;
}

// Re-zips every entry of an archive, with `patch` applied to each entry's bytes.
template <class Patch>
Bytes rezip(const ZipArchive& za, Patch patch) {
  std::vector<std::pair<std::string, Bytes>> entries;
  for (const auto& e : za.entries()) {
    auto d = za.data(e);
    Bytes b(d.begin(), d.end());
    patch(e.name, b);
    entries.emplace_back(e.name, std::move(b));
  }
  return make_zip(entries);
}

// Protocol-2 pickle pieces, as torch.save writes them.
struct PickleTensor {
  std::string name, storage_type = "FloatStorage", key;
  uint64_t storage_numel = 0;
  int64_t offset = 0;
  std::vector<int64_t> shape, stride;
};

inline void pickle_int(Bytes& p, int64_t v) {
  if (v >= 0 && v < 256) {
    p.push_back('K');
    put(p, uint64_t(v), 1);
  } else if (v >= 0 && v < 65536) {
    p.push_back('M');
    put(p, uint64_t(v), 2);
  } else if (v >= INT32_MIN && v <= INT32_MAX) {
    p.push_back('J');
    put(p, uint64_t(v), 4);
  } else {
    p.push_back(0x8a);
    p.push_back(8);
    put(p, uint64_t(v), 8);
  }
}
inline void pickle_str(Bytes& p, const std::string& s) {
  p.push_back('X');
  put(p, s.size(), 4);
  put_str(p, s);
}
inline Bytes make_state_dict_pickle(const std::vector<PickleTensor>& ts) {
  Bytes p = {0x80, 0x02, '}', '('};
  for (const auto& t : ts) {
    pickle_str(p, t.name);
    put_str(p, "ctorch._utils\n_rebuild_tensor_v2\n");
    p.push_back('(');
    p.push_back('(');
    pickle_str(p, "storage");
    put_str(p, "ctorch\n" + t.storage_type + "\n");
    pickle_str(p, t.key);
    pickle_str(p, "cpu");
    pickle_int(p, int64_t(t.storage_numel));
    p.push_back('t');
    p.push_back('Q');
    pickle_int(p, t.offset);
    p.push_back('(');
    for (int64_t d : t.shape) pickle_int(p, d);
    p.push_back('t');
    p.push_back('(');
    for (int64_t d : t.stride) pickle_int(p, d);
    p.push_back('t');
    p.push_back(0x89);
    put_str(p, "ccollections\nOrderedDict\n");
    p.push_back(')');
    p.push_back('R');
    p.push_back('t');
    p.push_back('R');
  }
  p.push_back('u');
  p.push_back('.');
  return p;
}

// A safetensors file: tensors given as (name, dtype, shape, raw bytes), laid out in order.
struct StTensor {
  std::string name, dtype;
  std::vector<int64_t> shape;
  Bytes data;
};
inline Bytes make_safetensors(const std::vector<StTensor>& ts, const nlohmann::json& extra_header = {}) {
  nlohmann::json h = nlohmann::json::object();
  uint64_t off = 0;
  Bytes data;
  for (const auto& t : ts) {
    h[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {off, off + t.data.size()}}};
    off += t.data.size();
    data.insert(data.end(), t.data.begin(), t.data.end());
  }
  h["__metadata__"] = {{"format", "pt"}};
  if (extra_header.is_object()) h.update(extra_header);
  const std::string hs = h.dump();
  Bytes out;
  put(out, hs.size(), 8);
  put_str(out, hs);
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

inline Bytes f32_bytes(const std::vector<float>& v) {
  Bytes b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}
inline std::vector<float> as_f32(const Bytes& b) {
  std::vector<float> v(b.size() / 4);
  std::memcpy(v.data(), b.data(), v.size() * 4);
  return v;
}

}  // namespace sealsum::convert::testing
