// Status and Result<T>: the error type at every module boundary.
//
// Contract: a failed Status carries a code and a message that says what failed and what to do
// next. Messages must never contain secrets (keys, plaintext) or document text: callers build them
// from file names, sizes, field names and counts only. Cheap to move; not thread-safe to share a
// single instance across threads while mutating it.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace sealsum {

enum class Code {
  kOk = 0,
  kInvalidArgument,   // the caller's input is wrong (bad flag, malformed file)
  kNotFound,          // a file, tensor, key or document does not exist
  kDataLoss,          // bytes are corrupt, truncated or fail authentication
  kPermissionDenied,  // a policy refused the operation (attestation, key release)
  kUnauthenticated,   // a signature or MAC did not verify
  kResourceExhausted, // a limit was hit (size, queue, memory)
  kUnavailable,       // a device or service is absent or unreachable
  kUnimplemented,     // a valid input this build cannot handle (e.g. unsupported architecture)
  kInternal,          // a bug: an invariant broke
};

const char* code_name(Code c);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status ok() { return {}; }

  bool is_ok() const { return code_ == Code::kOk; }
  explicit operator bool() const { return is_ok(); }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "<code>: <message>" for printing.
  std::string to_string() const;
  // Prepends context ("reading model.bin: ") to a failed status; no-op on success.
  Status with_context(const std::string& context) const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status not_found(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status data_loss(std::string m) { return {Code::kDataLoss, std::move(m)}; }
inline Status permission_denied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
inline Status unauthenticated(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }
inline Status resource_exhausted(std::string m) { return {Code::kResourceExhausted, std::move(m)}; }
inline Status unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status unimplemented(std::string m) { return {Code::kUnimplemented, std::move(m)}; }
inline Status internal_error(std::string m) { return {Code::kInternal, std::move(m)}; }

// Result<T>: a T or a failed Status. value() on a failed Result is a bug (asserts).
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}                         // NOLINT implicit
  Result(Status status) : v_(std::move(status)) { assert(!std::get<1>(v_).is_ok()); }  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<1>(v_);
  }
  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace sealsum

#define SEALSUM_CONCAT_INNER(a, b) a##b
#define SEALSUM_CONCAT(a, b) SEALSUM_CONCAT_INNER(a, b)

// SEALSUM_RETURN_IF_ERROR(status_expr): return the Status if it failed.
#define SEALSUM_RETURN_IF_ERROR(expr)              \
  do {                                             \
    ::sealsum::Status _st = (expr);                \
    if (!_st.is_ok()) return _st;                  \
  } while (0)

// SEALSUM_ASSIGN_OR_RETURN(decl, result_expr): `decl = std::move(value)` or return the Status.
#define SEALSUM_ASSIGN_OR_RETURN(decl, expr) \
  SEALSUM_ASSIGN_OR_RETURN_IMPL(SEALSUM_CONCAT(_res_, __LINE__), decl, expr)
#define SEALSUM_ASSIGN_OR_RETURN_IMPL(tmp, decl, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.status();                  \
  decl = std::move(tmp).value()
