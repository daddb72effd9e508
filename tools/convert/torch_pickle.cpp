// Restricted unpickler for torch state dicts (see torch_pickle.h).
//
// How torch.save(state_dict) pickles (protocol 2), and what we do with each piece:
//   } ( 'name' GLOBAL torch._utils _rebuild_tensor_v2 ( ( 'storage' GLOBAL torch FloatStorage
//   '0' 'cpu' numel t BINPERSID offset (sizes) (strides) False GLOBAL collections OrderedDict ) R
//   t R ... u .
// The pickle machine is a stack plus a memo. Instead of Python objects we build Nodes in an arena
// owned by the parse: ints, strings, tuples, lists, dicts, "global" tags (an enum of the allowed
// names), storages (from BINPERSID on a ('storage', type, key, location, numel) tuple) and tensors
// (from REDUCE of the _rebuild_tensor_v2 tag). REDUCE of any other tag is refused, so a hostile
// pickle can describe data but can never make us run anything. The result must be a dict of
// name -> tensor. Nodes are never freed before the parse ends, so memo/stack aliasing and cycles
// (a list appended to itself) are harmless and destruction is flat.
#include "tools/convert/torch_pickle.h"

#include <cstdio>
#include <map>
#include <memory>
#include <set>

namespace sealsum::convert {
namespace {

constexpr size_t kMaxPickle = 64u << 20;
constexpr size_t kMaxStack = 1u << 20;
constexpr size_t kMaxMarks = 4096;
constexpr size_t kMaxMemo = 1u << 22;
constexpr size_t kMaxNodes = 1u << 22;
constexpr size_t kMaxRank = 8;

enum class Kind { kNone, kBool, kInt, kStr, kTuple, kList, kDict, kGlobal, kStorage, kTensor };
enum class Global { kOrderedDict, kRebuildTensorV2, kRebuildParameter, kFloatStorage, kHalfStorage, kBFloat16Storage };

struct Node {
  Kind kind = Kind::kNone;
  int64_t i = 0;              // kBool, kInt; kGlobal: the Global value
  std::string s;              // kStr
  std::vector<Node*> items;   // kTuple, kList; kDict: key, value, key, value, ...
  TorchTensorRef tensor;      // kStorage (storage fields only) and kTensor
};

const std::map<std::string, Global>& allowed_globals() {
  static const std::map<std::string, Global> g = {
      {"collections OrderedDict", Global::kOrderedDict},
      {"torch._utils _rebuild_tensor_v2", Global::kRebuildTensorV2},
      {"torch._utils _rebuild_parameter", Global::kRebuildParameter},
      {"torch FloatStorage", Global::kFloatStorage},
      {"torch HalfStorage", Global::kHalfStorage},
      {"torch BFloat16Storage", Global::kBFloat16Storage},
  };
  return g;
}

class Machine {
 public:
  explicit Machine(std::span<const uint8_t> in) : in_(in) {}
  Result<std::vector<TorchTensorRef>> run();

 private:
  Node* make(Kind k) {
    arena_.push_back(std::make_unique<Node>());
    arena_.back()->kind = k;
    return arena_.back().get();
  }
  Status bad(const std::string& why) const {
    return data_loss("malformed pickle at offset " + std::to_string(op_at_) + ": " + why);
  }
  Status need(size_t n) const {
    return in_.size() - pos_ < n ? bad("truncated (needs " + std::to_string(n) + " more bytes)") : Status::ok();
  }
  uint64_t read_le(size_t n) {
    uint64_t v = 0;
    for (size_t k = 0; k < n; ++k) v |= uint64_t(in_[pos_ + k]) << (8 * k);
    pos_ += n;
    return v;
  }
  Status push(Node* n) {
    if (stack_.size() >= kMaxStack) return resource_exhausted("pickle stack exceeds " + std::to_string(kMaxStack));
    stack_.push_back(n);
    return Status::ok();
  }
  Result<Node*> pop() {
    if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) return bad("stack underflow");
    Node* n = stack_.back();
    stack_.pop_back();
    return n;
  }
  Result<std::vector<Node*>> pop_mark() {
    if (marks_.empty()) return bad("no MARK");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<Node*> items(stack_.begin() + long(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  Result<Node*> top() {
    if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) return bad("stack underflow");
    return stack_.back();
  }
  Status tuple_of(std::vector<Node*> items) {
    Node* t = make(Kind::kTuple);
    t->items = std::move(items);
    return push(t);
  }
  Status step(uint8_t op);
  Status op_global();
  Status op_persid();
  Status op_reduce();
  Status op_setitems(std::vector<Node*> kv);

  std::span<const uint8_t> in_;
  size_t pos_ = 0, op_at_ = 0;
  std::vector<std::unique_ptr<Node>> arena_;
  std::vector<Node*> stack_;
  std::vector<size_t> marks_;
  std::map<uint32_t, Node*> memo_;
  Node* result_ = nullptr;
};

Status Machine::op_global() {
  std::string parts[2];
  for (auto& part : parts) {
    size_t k = 0;
    while (pos_ + k < in_.size() && in_[pos_ + k] != '\n' && k < 256) ++k;
    if (pos_ + k >= in_.size() || in_[pos_ + k] != '\n') return bad("GLOBAL name is unterminated or too long");
    part.assign(reinterpret_cast<const char*>(in_.data() + pos_), k);
    pos_ += k + 1;
  }
  auto it = allowed_globals().find(parts[0] + " " + parts[1]);
  if (it == allowed_globals().end()) {
    std::string shown;
    for (char c : parts[0] + "." + parts[1]) shown += (c >= 0x20 && c < 0x7f) ? c : '?';
    return permission_denied("forbidden global " + shown + " at offset " + std::to_string(op_at_));
  }
  Node* g = make(Kind::kGlobal);
  g->i = int64_t(it->second);
  return push(g);
}

Status Machine::op_persid() {
  SEALSUM_ASSIGN_OR_RETURN(Node* pid, pop());
  if (pid->kind != Kind::kTuple || pid->items.size() != 5 || pid->items[0]->kind != Kind::kStr ||
      pid->items[0]->s != "storage" || pid->items[1]->kind != Kind::kGlobal || pid->items[2]->kind != Kind::kStr ||
      pid->items[3]->kind != Kind::kStr || pid->items[4]->kind != Kind::kInt) {
    return bad("persistent id is not ('storage', type, key, location, numel)");
  }
  Node* st = make(Kind::kStorage);
  switch (Global(pid->items[1]->i)) {
    case Global::kFloatStorage: st->tensor.dtype = TorchDType::kF32; break;
    case Global::kHalfStorage: st->tensor.dtype = TorchDType::kF16; break;
    case Global::kBFloat16Storage: st->tensor.dtype = TorchDType::kBF16; break;
    default: return bad("persistent id names a non-storage type");
  }
  const std::string& key = pid->items[2]->s;
  if (key.empty() || key.size() > 64) return bad("storage key has an invalid length");
  for (char c : key) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!ok) return bad("storage key has characters other than [0-9A-Za-z_]");
  }
  if (pid->items[4]->i < 0) return bad("negative storage size");
  st->tensor.storage_key = key;
  st->tensor.storage_numel = uint64_t(pid->items[4]->i);
  return push(st);
}

Status Machine::op_reduce() {
  SEALSUM_ASSIGN_OR_RETURN(Node* args, pop());
  SEALSUM_ASSIGN_OR_RETURN(Node* fn, pop());
  if (fn->kind != Kind::kGlobal || args->kind != Kind::kTuple) return bad("REDUCE needs a global and an argument tuple");
  const auto& a = args->items;
  switch (Global(fn->i)) {
    case Global::kOrderedDict:
      if (!a.empty()) return bad("OrderedDict() with arguments");
      return push(make(Kind::kDict));
    case Global::kRebuildParameter:
      if (a.size() != 3 || a[0]->kind != Kind::kTensor) return bad("_rebuild_parameter needs (tensor, bool, hooks)");
      return push(a[0]);
    case Global::kRebuildTensorV2: {
      // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
      if (a.size() < 6 || a.size() > 7 || a[0]->kind != Kind::kStorage || a[1]->kind != Kind::kInt ||
          a[2]->kind != Kind::kTuple || a[3]->kind != Kind::kTuple || a[2]->items.size() != a[3]->items.size() ||
          a[2]->items.size() > kMaxRank) {
        return bad("_rebuild_tensor_v2 arguments are not (storage, offset, size, stride, ...)");
      }
      Node* t = make(Kind::kTensor);
      t->tensor = a[0]->tensor;
      t->tensor.storage_offset = a[1]->i;
      for (size_t k = 0; k < a[2]->items.size(); ++k) {
        const Node* sz = a[2]->items[k];
        const Node* sd = a[3]->items[k];
        if (sz->kind != Kind::kInt || sd->kind != Kind::kInt || sz->i < 0 || sd->i < 0) {
          return bad("tensor size/stride is not a non-negative integer");
        }
        t->tensor.shape.push_back(sz->i);
        t->tensor.stride.push_back(sd->i);
      }
      if (t->tensor.storage_offset < 0) return bad("negative storage offset");
      return push(t);
    }
    default:
      return permission_denied("pickle calls a storage type at offset " + std::to_string(op_at_) + " (forbidden)");
  }
}

Status Machine::op_setitems(std::vector<Node*> kv) {
  SEALSUM_ASSIGN_OR_RETURN(Node* d, top());
  if (d->kind != Kind::kDict) return bad("SETITEM(S) on a non-dict");
  if (kv.size() % 2 != 0) return bad("SETITEMS with an odd number of items");
  if (d->items.size() + kv.size() > kMaxStack) return resource_exhausted("pickle dict too large");
  d->items.insert(d->items.end(), kv.begin(), kv.end());
  return Status::ok();
}

Status Machine::step(uint8_t op) {
  switch (op) {
    case 0x80: {  // PROTO
      SEALSUM_RETURN_IF_ERROR(need(1));
      const uint64_t v = read_le(1);
      if (v != 2) return bad("pickle protocol " + std::to_string(v) + " (torch.save writes protocol 2)");
      return Status::ok();
    }
    case '}': return push(make(Kind::kDict));
    case ']': return push(make(Kind::kList));
    case ')': return tuple_of({});
    case '(':
      if (marks_.size() >= kMaxMarks) return resource_exhausted("pickle MARKs nest deeper than " + std::to_string(kMaxMarks));
      marks_.push_back(stack_.size());
      return Status::ok();
    case 'X': {  // BINUNICODE
      SEALSUM_RETURN_IF_ERROR(need(4));
      const uint64_t n = read_le(4);
      SEALSUM_RETURN_IF_ERROR(need(size_t(n)));
      Node* s = make(Kind::kStr);
      s->s.assign(reinterpret_cast<const char*>(in_.data() + pos_), size_t(n));
      pos_ += size_t(n);
      return push(s);
    }
    case 'c': return op_global();
    case 'Q': return op_persid();
    case 'J': case 'K': case 'M': {  // BININT (i32), BININT1 (u8), BININT2 (u16)
      const size_t n = op == 'J' ? 4 : op == 'K' ? 1 : 2;
      SEALSUM_RETURN_IF_ERROR(need(n));
      const uint64_t v = read_le(n);
      Node* x = make(Kind::kInt);
      x->i = op == 'J' ? int64_t(int32_t(uint32_t(v))) : int64_t(v);
      return push(x);
    }
    case 0x8a: {  // LONG1: n little-endian two's-complement bytes (torch uses it for ints >= 2^31)
      SEALSUM_RETURN_IF_ERROR(need(1));
      const size_t n = size_t(read_le(1));
      if (n > 8) return bad("LONG1 integer wider than 64 bits");
      SEALSUM_RETURN_IF_ERROR(need(n));
      uint64_t v = read_le(n);
      if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t(0) << (8 * n);  // sign-extend
      Node* x = make(Kind::kInt);
      x->i = int64_t(v);
      return push(x);
    }
    case 't': {
      SEALSUM_ASSIGN_OR_RETURN(std::vector<Node*> items, pop_mark());
      return tuple_of(std::move(items));
    }
    case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
      std::vector<Node*> items(size_t(op - 0x84));
      for (size_t k = items.size(); k-- > 0;) {
        SEALSUM_ASSIGN_OR_RETURN(items[k], pop());
      }
      return tuple_of(std::move(items));
    }
    case 0x88: case 0x89: {  // NEWTRUE, NEWFALSE
      Node* b = make(Kind::kBool);
      b->i = op == 0x88;
      return push(b);
    }
    case 'N': return push(make(Kind::kNone));
    case 'R': return op_reduce();
    case 'u': {
      SEALSUM_ASSIGN_OR_RETURN(std::vector<Node*> kv, pop_mark());
      return op_setitems(std::move(kv));
    }
    case 's': {
      SEALSUM_ASSIGN_OR_RETURN(Node* v, pop());
      SEALSUM_ASSIGN_OR_RETURN(Node* k, pop());
      return op_setitems({k, v});
    }
    case 'e': {  // APPENDS
      SEALSUM_ASSIGN_OR_RETURN(std::vector<Node*> items, pop_mark());
      SEALSUM_ASSIGN_OR_RETURN(Node* l, top());
      if (l->kind != Kind::kList) return bad("APPENDS on a non-list");
      if (l->items.size() + items.size() > kMaxStack) return resource_exhausted("pickle list too large");
      l->items.insert(l->items.end(), items.begin(), items.end());
      return Status::ok();
    }
    case 'b': {  // BUILD: only the state-dict OrderedDict's `_metadata` attribute; the state is dropped
      SEALSUM_ASSIGN_OR_RETURN(Node* state, pop());
      (void)state;
      SEALSUM_ASSIGN_OR_RETURN(Node* obj, top());
      if (obj->kind != Kind::kDict) return bad("BUILD on something other than an OrderedDict");
      return Status::ok();
    }
    case 'q': case 'r': {  // BINPUT, LONG_BINPUT
      const size_t n = op == 'q' ? 1 : 4;
      SEALSUM_RETURN_IF_ERROR(need(n));
      const uint32_t idx = uint32_t(read_le(n));
      SEALSUM_ASSIGN_OR_RETURN(Node* t, top());
      if (memo_.size() >= kMaxMemo && !memo_.count(idx)) return resource_exhausted("pickle memo too large");
      memo_[idx] = t;
      return Status::ok();
    }
    case 'h': case 'j': {  // BINGET, LONG_BINGET
      const size_t n = op == 'h' ? 1 : 4;
      SEALSUM_RETURN_IF_ERROR(need(n));
      const uint32_t idx = uint32_t(read_le(n));
      auto it = memo_.find(idx);
      if (it == memo_.end()) return bad("memo key " + std::to_string(idx) + " was never stored");
      return push(it->second);
    }
    case '.': {
      SEALSUM_ASSIGN_OR_RETURN(result_, pop());
      return Status::ok();
    }
    default: {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", op);
      return permission_denied(std::string("forbidden pickle opcode ") + hex + " at offset " + std::to_string(op_at_));
    }
  }
}

Result<std::vector<TorchTensorRef>> Machine::run() {
  if (in_.size() > kMaxPickle) return resource_exhausted("data.pkl is larger than 64 MiB");
  while (result_ == nullptr) {
    if (pos_ >= in_.size()) return data_loss("pickle is truncated (no STOP)");
    if (arena_.size() >= kMaxNodes) return resource_exhausted("pickle has too many objects");
    op_at_ = pos_;
    SEALSUM_RETURN_IF_ERROR(step(in_[pos_++]));
  }
  if (result_->kind != Kind::kDict) return data_loss("pickle is not a state dict (the top object is not a dict)");
  std::vector<TorchTensorRef> out;
  std::set<std::string> names;
  std::map<std::string, TorchDType> storage_types;
  for (size_t k = 0; k + 1 < result_->items.size(); k += 2) {
    const Node* key = result_->items[k];
    const Node* val = result_->items[k + 1];
    if (key->kind != Kind::kStr) return data_loss("state dict has a non-string key");
    if (val->kind != Kind::kTensor) return data_loss("state dict entry '" + key->s + "' is not a tensor");
    if (!names.insert(key->s).second) return data_loss("state dict has key '" + key->s + "' twice");
    auto [it, fresh] = storage_types.emplace(val->tensor.storage_key, val->tensor.dtype);
    if (!fresh && it->second != val->tensor.dtype) {
      return data_loss("storage '" + val->tensor.storage_key + "' is used with two dtypes");
    }
    TorchTensorRef t = val->tensor;
    t.name = key->s;
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

size_t torch_dtype_size(TorchDType d) { return d == TorchDType::kF32 ? 4 : 2; }

Result<std::vector<TorchTensorRef>> parse_torch_pickle(std::span<const uint8_t> pkl) {
  Machine m(pkl);
  return m.run();
}

}  // namespace sealsum::convert
