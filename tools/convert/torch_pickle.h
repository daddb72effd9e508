// A restricted unpickler for the data.pkl that torch.save(state_dict) writes.
//
// It interprets only protocol-2 opcodes torch emits for a state dict -- PROTO, EMPTY_DICT,
// EMPTY_LIST, EMPTY_TUPLE, MARK, BINUNICODE, GLOBAL, BINPERSID, BININT, BININT1, BININT2, LONG1,
// TUPLE, TUPLE1..3, NEWTRUE, NEWFALSE, NONE, REDUCE, SETITEM, SETITEMS, APPENDS, BUILD, BINPUT,
// LONG_BINPUT, BINGET, LONG_BINGET, STOP -- and only these globals: collections.OrderedDict,
// torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter and the storage types
// torch.FloatStorage / HalfStorage / BFloat16Storage. Nothing is ever imported or called: globals
// are tags, REDUCE on a tag builds a plain record. Any other opcode fails with "forbidden pickle
// opcode 0xNN at offset N", any other global with "forbidden global MODULE.NAME".
//
// Bounded: input size, stack, marks, memo and node counts are capped; objects live in an arena
// (no recursion, cycles are harmless). Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"

namespace sealsum::convert {

enum class TorchDType { kF32, kF16, kBF16 };
size_t torch_dtype_size(TorchDType d);

// One tensor of the state dict: a strided view of a storage held in the zip as data/<key>.
struct TorchTensorRef {
  std::string name;
  std::string storage_key;
  TorchDType dtype = TorchDType::kF32;
  uint64_t storage_numel = 0;  // elements, as the pickle declares
  int64_t storage_offset = 0;  // elements
  std::vector<int64_t> shape, stride;
};

// Parses data.pkl. Returns the state dict's tensors in pickle order. kDataLoss for malformed or
// truncated pickles, kPermissionDenied for forbidden opcodes and globals; messages do not name a
// file (the caller adds it).
Result<std::vector<TorchTensorRef>> parse_torch_pickle(std::span<const uint8_t> pkl);

}  // namespace sealsum::convert
