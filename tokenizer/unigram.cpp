// The T5 unigram tokenizer and its spiece.model factory: see unigram.h.
#include "tokenizer/unigram.h"

#include <algorithm>
#include <array>
#include <unordered_map>

#include "tokenizer/factories.h"
#include "tokenizer/spm_proto.h"
#include "tokenizer/utf8.h"

namespace sealsum::tok {
namespace {

constexpr std::string_view kSpaceSymbol = "\xe2\x96\x81";

class UnigramTokenizer final : public Tokenizer {
 public:
  UnigramTokenizer(UnigramModel model, Normalizer normalizer) : model_(std::move(model)), normalizer_(std::move(normalizer)) {}

  std::vector<int32_t> encode(std::string_view text) const override;
  std::string decode(std::span<const int32_t> ids) const override;
  size_t vocab_size() const override { return id_to_token_.size(); }
  std::optional<int32_t> token_to_id(std::string_view token) const override {
    auto it = token_to_id_.find(std::string(token));
    if (it == token_to_id_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<std::string> id_to_token(int32_t id) const override {
    if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size()) return std::nullopt;
    return id_to_token_[static_cast<size_t>(id)];
  }
  const char* kind() const override { return "unigram"; }

 private:
  friend Result<std::unique_ptr<Tokenizer>> sealsum::tok::make_unigram_tokenizer(UnigramSpec spec);

  struct Special {
    std::string text;
    int32_t id;
  };
  // The special token matching at `text[pos]`, longest first, or nullptr.
  const Special* special_at(std::string_view text, size_t pos) const;
  void encode_segment(std::string_view segment, std::vector<int32_t>* ids) const;

  UnigramModel model_;
  Normalizer normalizer_;
  std::vector<std::string> id_to_token_;
  std::unordered_map<std::string, int32_t> token_to_id_;
  std::vector<uint8_t> skip_in_decode_;              // per id: special or unknown
  std::vector<Special> specials_;                    // sorted by length, longest first
  std::array<bool, 256> special_first_byte_{};       // quick reject for special_at()
  int32_t eos_id_ = 0;
};

const UnigramTokenizer::Special* UnigramTokenizer::special_at(std::string_view text, size_t pos) const {
  if (!special_first_byte_[static_cast<uint8_t>(text[pos])]) return nullptr;
  const std::string_view rest = text.substr(pos);
  for (const Special& s : specials_) {
    if (rest.starts_with(s.text)) return &s;
  }
  return nullptr;
}

void UnigramTokenizer::encode_segment(std::string_view segment, std::vector<int32_t>* ids) const {
  if (segment.empty()) return;
  std::string normalized;
  normalizer_.normalize(segment, &normalized);
  model_.encode(normalized, ids);
}

std::vector<int32_t> UnigramTokenizer::encode(std::string_view text) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 2);
  size_t seg_begin = 0;
  bool after_special = false;
  for (size_t pos = 0; pos < text.size();) {
    const Special* s = special_at(text, pos);
    if (s == nullptr) {
      ++pos;
      continue;
    }
    std::string_view segment = utf8::python_rstrip(text.substr(seg_begin, pos - seg_begin));
    if (after_special) segment = utf8::python_lstrip(segment);
    encode_segment(segment, &ids);
    ids.push_back(s->id);
    pos += s->text.size();
    seg_begin = pos;
    after_special = true;
  }
  std::string_view tail = text.substr(seg_begin);
  if (after_special) tail = utf8::python_lstrip(tail);
  encode_segment(tail, &ids);
  if (ids.empty() || ids.back() != eos_id_) ids.push_back(eos_id_);
  return ids;
}

std::string UnigramTokenizer::decode(std::span<const int32_t> ids) const {
  std::string text;
  const auto& pieces = model_.pieces();
  for (const int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= pieces.size()) continue;  // extra tokens are special
    if (skip_in_decode_[static_cast<size_t>(id)]) continue;
    const UnigramPiece& p = pieces[static_cast<size_t>(id)];
    if (p.kind == UnigramPieceKind::kControl) continue;  // sentencepiece decodes control as ""
    std::string_view piece = p.text;
    if (text.empty() && piece.starts_with(kSpaceSymbol)) piece.remove_prefix(kSpaceSymbol.size());
    for (size_t i = 0; i < piece.size();) {
      if (piece.substr(i).starts_with(kSpaceSymbol)) {
        text.push_back(' ');
        i += kSpaceSymbol.size();
      } else {
        text.push_back(piece[i++]);
      }
    }
  }
  return clean_up_tokenization(std::string(utf8::python_strip(text)));
}

// str.replace(old, new): all non-overlapping occurrences, left to right.
void replace_all(std::string* s, std::string_view from, std::string_view to) {
  std::string out;
  size_t start = 0;
  for (size_t hit = s->find(from); hit != std::string::npos; hit = s->find(from, start)) {
    out.append(*s, start, hit - start);
    out.append(to);
    start = hit + from.size();
  }
  if (start == 0) return;
  out.append(*s, start, std::string::npos);
  *s = std::move(out);
}

}  // namespace

std::string clean_up_tokenization(std::string text) {
  static constexpr std::pair<std::string_view, std::string_view> kRules[] = {
      {" .", "."},   {" ?", "?"},     {" !", "!"},     {" ,", ","},     {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"},   {" 've", "'ve"}, {" 're", "'re"},
  };
  for (const auto& [from, to] : kRules) replace_all(&text, from, to);
  return text;
}

Result<std::unique_ptr<Tokenizer>> make_unigram_tokenizer(UnigramSpec spec) {
  const size_t num_pieces = spec.pieces.size();
  std::vector<std::string> id_to_token;
  id_to_token.reserve(num_pieces + spec.extra_tokens.size());
  for (const auto& p : spec.pieces) id_to_token.push_back(p.text);
  for (const auto& t : spec.extra_tokens) id_to_token.push_back(t);

  SEALSUM_ASSIGN_OR_RETURN(UnigramModel model, UnigramModel::create(std::move(spec.pieces), spec.unk_id));
  SEALSUM_ASSIGN_OR_RETURN(Normalizer normalizer, Normalizer::create(spec.precompiled_charsmap, spec.normalizer));
  auto tok = std::make_unique<UnigramTokenizer>(std::move(model), std::move(normalizer));

  for (size_t i = 0; i < id_to_token.size(); ++i) {
    if (!tok->token_to_id_.emplace(id_to_token[i], static_cast<int32_t>(i)).second) {
      return data_loss("vocabulary token " + std::to_string(i) + " duplicates an earlier token");
    }
  }
  tok->skip_in_decode_.assign(id_to_token.size(), 0);
  tok->skip_in_decode_[static_cast<size_t>(spec.unk_id)] = 1;
  for (size_t i = num_pieces; i < id_to_token.size(); ++i) tok->skip_in_decode_[i] = 1;
  for (const std::string& s : spec.special_tokens) {
    auto it = tok->token_to_id_.find(s);
    if (s.empty() || it == tok->token_to_id_.end()) {
      return data_loss("special token #" + std::to_string(&s - spec.special_tokens.data()) + " is not in the vocabulary");
    }
    tok->skip_in_decode_[static_cast<size_t>(it->second)] = 1;
    tok->specials_.push_back({s, it->second});
    tok->special_first_byte_[static_cast<uint8_t>(s[0])] = true;
  }
  std::stable_sort(tok->specials_.begin(), tok->specials_.end(),
                   [](const auto& a, const auto& b) { return a.text.size() > b.text.size(); });
  auto eos = tok->token_to_id_.find(spec.eos_token);
  if (eos == tok->token_to_id_.end() || !tok->skip_in_decode_[static_cast<size_t>(eos->second)]) {
    return data_loss("the vocabulary lacks the special end-of-sequence token '" + spec.eos_token + "'");
  }
  tok->eos_id_ = eos->second;
  tok->id_to_token_ = std::move(id_to_token);
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

// spiece.model -> T5Tokenizer (extra_ids=100): pieces keep their ids, <extra_id_N> = size+99-N.
Result<std::unique_ptr<Tokenizer>> make_unigram_from_spm(std::string_view model_proto) {
  SEALSUM_ASSIGN_OR_RETURN(SpmModelProto m, parse_spm_model_proto(model_proto));
  if (m.model_type != SpmModelType::kUnigram) {
    static constexpr const char* kNames[] = {"", "UNIGRAM", "BPE", "WORD", "CHAR"};
    return unimplemented(std::string("spiece.model is a ") + kNames[static_cast<int>(m.model_type)] +
                         " model; sealsum runs only UNIGRAM SentencePiece models");
  }
  if (m.byte_fallback) return unimplemented("spiece.model uses byte_fallback, which sealsum does not implement");
  if (m.treat_whitespace_as_suffix) {
    return unimplemented("spiece.model uses treat_whitespace_as_suffix, which sealsum does not implement");
  }
  if (m.has_denormalizer) return unimplemented("spiece.model has a denormalizer_spec, which sealsum does not implement");

  UnigramSpec spec;
  spec.pieces.reserve(m.pieces.size());
  int32_t unk_id = -1;
  for (size_t i = 0; i < m.pieces.size(); ++i) {
    SpmPiece& p = m.pieces[i];
    UnigramPiece u{std::move(p.piece), p.score, UnigramPieceKind::kNormal};
    switch (p.type) {
      case SpmPieceType::kNormal: break;
      case SpmPieceType::kUnknown:
        if (unk_id >= 0) return data_loss("spiece.model defines two unknown pieces");
        unk_id = static_cast<int32_t>(i);
        u.kind = UnigramPieceKind::kUnknown;
        break;
      case SpmPieceType::kControl: u.kind = UnigramPieceKind::kControl; break;
      case SpmPieceType::kUnused: u.kind = UnigramPieceKind::kUnused; break;
      case SpmPieceType::kUserDefined:
        return unimplemented("spiece.model has USER_DEFINED piece " + std::to_string(i) +
                             "; sealsum does not implement user-defined symbols");
      case SpmPieceType::kByte:
        return unimplemented("spiece.model has BYTE piece " + std::to_string(i) + " (byte fallback is not implemented)");
    }
    spec.pieces.push_back(std::move(u));
  }
  if (unk_id < 0) return data_loss("spiece.model defines no unknown piece");
  spec.unk_id = unk_id;
  spec.precompiled_charsmap = std::move(m.precompiled_charsmap);
  spec.normalizer = {m.add_dummy_prefix, m.remove_extra_whitespaces, m.escape_whitespaces};
  // T5Tokenizer's special tokens: eos "</s>", unk, pad "<pad>" and 100 sentinel tokens.
  spec.special_tokens.push_back("</s>");
  spec.special_tokens.push_back(spec.pieces[static_cast<size_t>(unk_id)].text);
  for (const auto& p : spec.pieces) {
    if (p.text == "<pad>") spec.special_tokens.push_back("<pad>");
  }
  constexpr int kExtraIds = 100;
  for (int k = 0; k < kExtraIds; ++k) spec.extra_tokens.push_back("<extra_id_" + std::to_string(kExtraIds - 1 - k) + ">");
  for (const auto& t : spec.extra_tokens) spec.special_tokens.push_back(t);
  auto tok = make_unigram_tokenizer(std::move(spec));
  if (!tok.ok()) return tok.status().with_context("spiece.model");
  return tok;
}

}  // namespace sealsum::tok
