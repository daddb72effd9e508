// A bounded lexical scanner for Confidential Containers (CCE) Rego policies: just enough structure
// for the inspection in cce_policy.h to read the policies `az confcom` writes. It is NOT a Rego
// interpreter and evaluates nothing; anything it cannot read as a literal is reported as such
// (Value::Kind::kExpr, Statement::Form::kOther) so the inspection can fail closed.
//
// Tokens: identifiers, numbers, "strings" (escapes decoded, \uXXXX to UTF-8), `raw strings`,
// punctuation (:= == != <= >= and single characters); # comments and whitespace are skipped.
// Brackets must balance and nest at most kMaxDepth deep; at most kMaxTokens tokens.
// Statements: a top-level statement starts at a token that begins a line outside any bracket;
// it runs to the next such token. Recognised heads:
//   package PATH | import PATH | default NAME (:=|=) VALUE | NAME (:=|=) VALUE [body / if ...]
// `else` lines mark the previous statement conditional; any other head (NAME { ... },
// NAME[x] ..., NAME.f := ..., NAME contains ..., or a line starting with a non-identifier) is
// Form::kOther with its leading identifier (or "" when there is none) as name.
// Values: null, true, false, numbers, strings, arrays and objects of values (trailing comma
// allowed), references (a.b.c, a[x]); everything else (sets, comprehensions, calls, operators) is
// kExpr.
//
// Failure: kDataLoss "line N: ..." for malformed text (unterminated string, bad escape, unbalanced
// bracket, unexpected byte); kResourceExhausted past the token or depth bounds.
// Thread safety: pure functions of their input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sealsum::secure::attest::rego {

inline constexpr size_t kMaxTokens = 1u << 20;
inline constexpr uint32_t kMaxDepth = 64;

enum class Tok { kIdent, kNumber, kString, kPunct };

struct Token {
  Tok kind = Tok::kPunct;
  std::string text;        // decoded value for strings; the source text otherwise
  uint32_t line = 1;       // 1-based source line
  bool line_start = false; // first token on its line
  uint32_t depth = 0;      // brackets enclosing it (an opener counts outside, a closer inside)
  uint32_t match = 0;      // for a bracket: index of its partner
  bool is(std::string_view p) const { return kind == Tok::kPunct && text == p; }
  bool is_ident(std::string_view w) const { return kind == Tok::kIdent && text == w; }
};

struct Value {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject, kRef, kExpr };
  Kind kind = Kind::kExpr;
  bool boolean = false;
  std::string text;  // string value, number or reference text, or the first token of an expression
  std::vector<Value> items;        // kArray: the elements; kObject: the member values
  std::vector<std::string> keys;   // kObject: the member keys, parallel to items (source order, duplicates kept)
  uint32_t line = 0;

  bool is_bool(bool b) const { return kind == Kind::kBool && boolean == b; }
  // Every member named `key` (objects only).
  std::vector<const Value*> all(std::string_view key) const;
  // Single-line rendering for messages, cut to about `limit` characters.
  std::string brief(size_t limit = 80) const;
};

struct Statement {
  enum class Form { kPackage, kImport, kAssign, kDefault, kOther };
  Form form = Form::kOther;
  std::string name;          // rule name; package/import path for those forms
  Value value;               // kAssign / kDefault
  bool conditional = false;  // a body, `if` or `else` follows the value
  uint32_t line = 0;
  size_t begin = 0, end = 0;  // token range [begin, end)
};

struct Module {
  std::vector<Token> tokens;
  std::vector<Statement> statements;
};

Result<std::vector<Token>> tokenize(std::string_view text);
Result<Module> scan(std::string_view text);

}  // namespace sealsum::secure::attest::rego
