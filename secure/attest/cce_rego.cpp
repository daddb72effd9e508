// Bounded Rego scanner (see cce_rego.h for the grammar it reads and what it refuses).
#include "secure/attest/cce_rego.h"

#include <cstring>

namespace sealsum::secure::attest::rego {
namespace {

bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

Status syntax(uint32_t line, const std::string& what) {
  return data_loss("line " + std::to_string(line) + ": " + what);
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void put_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

// Decodes the "..." string starting at text[i] (the quote); leaves i after the closing quote.
Result<std::string> read_string(std::string_view text, size_t& i, uint32_t line) {
  std::string out;
  ++i;
  while (i < text.size()) {
    char c = text[i++];
    if (c == '"') return out;
    if (c == '\n') break;
    if (c != '\\') {
      out += c;
      continue;
    }
    if (i >= text.size()) break;
    char e = text[i++];
    switch (e) {
      case '"': case '\\': case '/': out += e; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        if (i + 4 > text.size()) return syntax(line, "truncated \\u escape in a string");
        uint32_t cp = 0;
        for (int k = 0; k < 4; ++k) {
          int d = hex_digit(text[i++]);
          if (d < 0) return syntax(line, "invalid \\u escape in a string");
          cp = cp << 4 | uint32_t(d);
        }
        put_utf8(out, cp);  // surrogates are kept as separate code units: only compared, never emitted
        break;
      }
      default: return syntax(line, std::string("invalid escape \\") + e + " in a string");
    }
  }
  return syntax(line, "unterminated string");
}

}  // namespace

Result<std::vector<Token>> tokenize(std::string_view text) {
  std::vector<Token> out;
  std::vector<uint32_t> open;  // indices of unclosed brackets
  uint32_t line = 1;
  bool line_start = true;
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '\n') {
      ++line;
      line_start = true;
      ++i;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r') {
      ++i;
      continue;
    }
    if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
      continue;
    }
    if (out.size() >= kMaxTokens) {
      return resource_exhausted("the policy has more than " + std::to_string(kMaxTokens) + " tokens");
    }
    Token t;
    t.line = line;
    t.line_start = line_start;
    t.depth = uint32_t(open.size());
    line_start = false;
    if (c == '"') {
      t.kind = Tok::kString;
      SEALSUM_ASSIGN_OR_RETURN(t.text, read_string(text, i, line));
    } else if (c == '`') {
      size_t end = text.find('`', i + 1);
      if (end == std::string_view::npos) return syntax(line, "unterminated raw string");
      t.kind = Tok::kString;
      t.text = std::string(text.substr(i + 1, end - i - 1));
      for (char r : t.text) line += r == '\n';
      i = end + 1;
    } else if (is_ident_start(c)) {
      size_t b = i;
      while (i < text.size() && is_ident_char(text[i])) ++i;
      t.kind = Tok::kIdent;
      t.text = std::string(text.substr(b, i - b));
    } else if (is_digit(c)) {
      size_t b = i;
      while (i < text.size() && (is_ident_char(text[i]) || text[i] == '.' ||
                                 ((text[i] == '+' || text[i] == '-') && (text[i - 1] == 'e' || text[i - 1] == 'E')))) {
        ++i;
      }
      t.kind = Tok::kNumber;
      t.text = std::string(text.substr(b, i - b));
    } else {
      static constexpr const char* kTwo[] = {":=", "==", "!=", "<=", ">="};
      t.kind = Tok::kPunct;
      for (const char* two : kTwo) {
        if (text.substr(i, 2) == two) t.text = two;
      }
      if (t.text.empty()) {
        if (std::strchr("{}[](),.;:=|&+-*/%<>!", c) == nullptr || c == '\0') {
          return syntax(line, "unexpected byte 0x" + std::string(1, "0123456789abcdef"[uint8_t(c) >> 4]) +
                                  std::string(1, "0123456789abcdef"[uint8_t(c) & 15]) + " outside a string");
        }
        t.text = std::string(1, c);
      }
      i += t.text.size();
      uint32_t self = uint32_t(out.size());
      if (c == '{' || c == '[' || c == '(') {
        if (open.size() >= kMaxDepth) {
          return resource_exhausted("line " + std::to_string(line) + ": brackets nest deeper than " +
                                    std::to_string(kMaxDepth));
        }
        open.push_back(self);
      } else if (c == '}' || c == ']' || c == ')') {
        char want = c == '}' ? '{' : c == ']' ? '[' : '(';
        if (open.empty() || out[open.back()].text[0] != want) {
          return syntax(line, std::string("unbalanced '") + c + "'");
        }
        t.match = open.back();
        out[open.back()].match = self;
        open.pop_back();
      }
    }
    out.push_back(std::move(t));
  }
  if (!open.empty()) return syntax(out[open.back()].line, "'" + out[open.back()].text + "' is never closed");
  return out;
}

namespace {

class Parser {
 public:
  explicit Parser(const std::vector<Token>& t) : t_(t) {}

  // One value at t_[pos] (pos < end); leaves pos after it.
  Value value(size_t& pos, size_t end) {
    const Token& t = t_[pos];
    Value v;
    v.line = t.line;
    v.text = t.text;
    if (t.kind == Tok::kString) {
      v.kind = Value::Kind::kString;
      ++pos;
    } else if (t.kind == Tok::kNumber) {
      v.kind = Value::Kind::kNumber;
      ++pos;
    } else if (t.is("-") && pos + 1 < end && t_[pos + 1].kind == Tok::kNumber) {
      v.kind = Value::Kind::kNumber;
      v.text = "-" + t_[pos + 1].text;
      pos += 2;
    } else if (t.is_ident("true") || t.is_ident("false")) {
      v.kind = Value::Kind::kBool;
      v.boolean = t.text == "true";
      ++pos;
    } else if (t.is_ident("null")) {
      v.kind = Value::Kind::kNull;
      ++pos;
    } else if (t.is("[")) {
      array(v, pos);
    } else if (t.is("{")) {
      object(v, pos);
    } else if (t.kind == Tok::kIdent) {
      reference(v, pos, end);
    } else {
      v.kind = Value::Kind::kExpr;
      ++pos;
    }
    return v;
  }

 private:
  // After an element inside brackets closing at `close`: true when a ',' (skipped) or the closer follows.
  bool separator(size_t& pos, size_t close) {
    if (pos == close) return true;
    if (t_[pos].is(",")) {
      ++pos;
      return true;
    }
    return false;
  }

  void array(Value& v, size_t& pos) {
    size_t close = t_[pos].match;
    v.kind = Value::Kind::kArray;
    ++pos;
    while (pos < close) {
      v.items.push_back(value(pos, close));
      if (!separator(pos, close)) {  // comprehension or operator: not a literal array
        v.kind = Value::Kind::kExpr;
        v.items.clear();
        break;
      }
    }
    pos = close + 1;
  }

  void object(Value& v, size_t& pos) {
    size_t close = t_[pos].match;
    v.kind = Value::Kind::kObject;
    ++pos;
    while (pos < close) {
      Value key = value(pos, close);
      if (key.kind != Value::Kind::kString || pos >= close || !t_[pos].is(":")) {  // set, comprehension, odd key
        v.kind = Value::Kind::kExpr;
        v.keys.clear();
        v.items.clear();
        break;
      }
      ++pos;
      if (pos >= close) {
        v.kind = Value::Kind::kExpr;
        v.keys.clear();
        v.items.clear();
        break;
      }
      Value member = value(pos, close);
      v.keys.push_back(key.text);
      v.items.push_back(std::move(member));
      if (!separator(pos, close)) {
        v.kind = Value::Kind::kExpr;
        v.keys.clear();
        v.items.clear();
        break;
      }
    }
    pos = close + 1;
  }

  // a.b.c, a[x].b; a call a.b(x) is an expression.
  void reference(Value& v, size_t& pos, size_t end) {
    v.kind = Value::Kind::kRef;
    v.text = t_[pos++].text;
    while (pos < end) {
      if (t_[pos].is(".") && pos + 1 < end && t_[pos + 1].kind == Tok::kIdent) {
        v.text += "." + t_[pos + 1].text;
        pos += 2;
      } else if (t_[pos].is("[")) {
        v.text += "[...]";
        pos = t_[pos].match + 1;
      } else if (t_[pos].is("(")) {
        v.kind = Value::Kind::kExpr;
        pos = t_[pos].match + 1;
      } else {
        break;
      }
    }
  }

  const std::vector<Token>& t_;
};

Statement statement(const std::vector<Token>& t, size_t b, size_t e) {
  Statement s;
  s.begin = b;
  s.end = e;
  s.line = t[b].line;
  if (t[b].kind != Tok::kIdent) return s;  // kOther, no name
  auto path = [&](size_t from) {
    std::string p;
    for (size_t i = from; i < e; ++i) p += t[i].text;
    return p;
  };
  if (t[b].text == "package" || t[b].text == "import") {
    s.form = t[b].text == "package" ? Statement::Form::kPackage : Statement::Form::kImport;
    s.name = path(b + 1);
    return s;
  }
  size_t head = b;
  if (t[b].text == "default") {
    if (b + 1 >= e || t[b + 1].kind != Tok::kIdent) {
      s.name = "default";
      return s;
    }
    head = b + 1;
  }
  s.name = t[head].text;
  if (head + 2 > e || !(t[head + 1].is(":=") || t[head + 1].is("=")) || head + 2 >= e) return s;
  size_t pos = head + 2;
  s.value = Parser(t).value(pos, e);
  s.form = head == b ? Statement::Form::kAssign : Statement::Form::kDefault;
  if (pos < e) {
    if (t[pos].is("{") || t[pos].is_ident("if") || t[pos].is_ident("else")) {
      s.conditional = true;
    } else {  // `x := a + b`, `x := f(y) == z`: an expression, not a literal
      s.value = Value{};
      s.value.line = t[head + 2].line;
      s.value.text = t[head + 2].text;
    }
  }
  return s;
}

}  // namespace

std::vector<const Value*> Value::all(std::string_view key) const {
  std::vector<const Value*> out;
  if (kind != Kind::kObject) return out;
  for (size_t i = 0; i < keys.size() && i < items.size(); ++i) {
    if (keys[i] == key) out.push_back(&items[i]);
  }
  return out;
}

std::string Value::brief(size_t limit) const {
  std::string s;
  switch (kind) {
    case Kind::kNull: s = "null"; break;
    case Kind::kBool: s = boolean ? "true" : "false"; break;
    case Kind::kNumber: case Kind::kRef: s = text; break;
    case Kind::kString: s = "\"" + text + "\""; break;
    case Kind::kExpr: s = "<expression starting with " + text + ">"; break;
    case Kind::kArray:
      s = "[";
      for (size_t i = 0; i < items.size() && s.size() < limit; ++i) s += (i ? ", " : "") + items[i].brief(limit);
      s += "]";
      break;
    case Kind::kObject:
      s = "{";
      for (size_t i = 0; i < keys.size() && i < items.size() && s.size() < limit; ++i) {
        s += (i ? ", \"" : "\"") + keys[i] + "\": " + items[i].brief(limit);
      }
      s += "}";
      break;
  }
  for (char& c : s) {
    if (uint8_t(c) < 0x20 || c == 0x7F) c = ' ';
  }
  if (s.size() > limit) s = s.substr(0, limit) + "...";
  return s;
}

Result<Module> scan(std::string_view text) {
  Module m;
  SEALSUM_ASSIGN_OR_RETURN(m.tokens, tokenize(text));
  const auto& t = m.tokens;
  size_t b = 0;
  while (b < t.size()) {
    size_t e = b + 1;
    while (e < t.size() && !(t[e].line_start && t[e].depth == 0)) ++e;
    if (t[b].is_ident("else") && !m.statements.empty()) {
      m.statements.back().conditional = true;
      m.statements.back().end = e;
    } else {
      m.statements.push_back(statement(t, b, e));
    }
    b = e;
  }
  return m;
}

}  // namespace sealsum::secure::attest::rego
