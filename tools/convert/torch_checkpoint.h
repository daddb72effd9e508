// pytorch_model.bin (torch.save zip format, torch >= 1.6) -> StateDict.
//
// The archive is checked by ZipArchive (bounds, CRC-32), data.pkl by the restricted unpickler;
// each tensor is then gathered from its storage entry (<prefix>/data/<key>) honouring
// storage_offset and strides, with bounds proven before any read, and converted f16/bf16 -> f32.
// The legacy (pre-1.6, non-zip) format is refused with a message saying how to re-save. Errors are
// kDataLoss / kPermissionDenied / kUnimplemented and name the file (`what`).
#pragma once

#include <functional>
#include <span>
#include <string>

#include "common/status.h"
#include "tools/convert/state_dict.h"

namespace sealsum::convert {

Result<StateDict> parse_torch_checkpoint(std::span<const uint8_t> bytes, const std::string& what,
                                         const std::function<void(size_t, size_t)>& progress = {});
Result<StateDict> read_torch_checkpoint(const std::string& path,
                                        const std::function<void(size_t, size_t)>& progress = {});

}  // namespace sealsum::convert
