// model.safetensors (single file or sharded via model.safetensors.index.json) -> StateDict.
//
// Format: u64 little-endian N, an N-byte JSON object {name: {"dtype", "shape", "data_offsets":
// [begin, end]}, "__metadata__": {...}}, then the data; offsets are relative to the data start.
// Checked: N bounds, JSON shape, known dtypes (F32, F16, BF16; others are refused by name),
// end - begin == numel * size, offsets within the data, no overlaps. Errors name the file.
#pragma once

#include <functional>
#include <span>
#include <string>

#include "common/status.h"
#include "tools/convert/state_dict.h"

namespace sealsum::convert {

Result<StateDict> parse_safetensors(std::span<const uint8_t> bytes, const std::string& what);
Result<StateDict> read_safetensors(const std::string& path);
// Reads every shard named by an index file's "weight_map" (shard names must be plain file names in
// the index's folder) and checks that each tensor came from the shard the map says.
Result<StateDict> read_safetensors_index(const std::string& index_path,
                                         const std::function<void(size_t, size_t)>& progress = {});

}  // namespace sealsum::convert
