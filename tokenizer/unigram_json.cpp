// tokenizer.json (Hugging Face, model.type "Unigram") -> the T5 unigram tokenizer of unigram.h.
//
// The file carries the same vocabulary ([piece, score] pairs, scores rounded to float as
// sentencepiece stores them) and the same precompiled charsmap (base64 in the "Precompiled"
// normalizer) as spiece.model, so sealsum runs the sentencepiece algorithm on them: the result
// follows the slow T5Tokenizer, not the Rust `tokenizers` library (which differs on a few inputs).
// The sentencepiece normalizer flags are read off the pre-tokenizer: Metaspace's add_prefix_space
// (or prepend_scheme != "never") is add_dummy_prefix; a WhitespaceSplit is remove_extra_whitespaces.
// Added tokens must all be special; they are split out of the text and skipped by decode.
//
// Every access is type-checked; nothing here throws on malformed input.
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "tokenizer/factories.h"
#include "tokenizer/unigram.h"

namespace sealsum::tok {
namespace {

using nlohmann::json;

// Strict RFC 4648 base64: standard alphabet, '=' padding only at the end, length % 4 == 0.
Result<std::string> decode_charsmap(std::string_view in) {
  encoding::Base64Options o;
  o.alphabet = encoding::Alphabet::kStandard;
  o.padding = encoding::Padding::kRequired;
  o.whitespace = encoding::Whitespace::kNone;
  o.max_chars = in.size();  // the JSON document itself is bounded by the tokenizer loader
  return encoding::base64_decode_text(in, "precompiled_charsmap", o);
}

const json* member(const json& obj, const char* name) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(name);
  return it == obj.end() ? nullptr : &*it;
}

// Collects the Metaspace / WhitespaceSplit facts from a pre_tokenizer (possibly a Sequence).
struct PreTokFacts {
  bool metaspace = false, add_prefix = false, whitespace_split = false;
  std::string unsupported;
};
void scan_pre_tokenizer(const json& p, PreTokFacts* f, int depth) {
  const json* type = member(p, "type");
  if (type == nullptr || !type->is_string() || depth > 4) {
    f->unsupported = "a pre_tokenizer without a type";
    return;
  }
  const std::string t = type->get<std::string>();
  if (t == "Sequence") {
    const json* list = member(p, "pretokenizers");
    if (list == nullptr || !list->is_array()) {
      f->unsupported = "a Sequence pre_tokenizer without pretokenizers";
      return;
    }
    for (const json& q : *list) scan_pre_tokenizer(q, f, depth + 1);
  } else if (t == "WhitespaceSplit") {
    f->whitespace_split = true;
  } else if (t == "Metaspace") {
    f->metaspace = true;
    const json* rep = member(p, "replacement");
    if (rep == nullptr || !rep->is_string() || rep->get<std::string>() != "\xe2\x96\x81") {
      f->unsupported = "a Metaspace replacement other than U+2581";
    }
    const json* aps = member(p, "add_prefix_space");
    const json* scheme = member(p, "prepend_scheme");
    if (aps != nullptr && aps->is_boolean()) {
      f->add_prefix = aps->get<bool>();
    } else if (scheme != nullptr && scheme->is_string()) {
      const std::string s = scheme->get<std::string>();
      if (s == "first") f->unsupported = "Metaspace prepend_scheme \"first\"";
      f->add_prefix = s != "never";
    } else {
      f->add_prefix = true;
    }
  } else {
    f->unsupported = "pre_tokenizer type \"" + t + "\"";
  }
}

Result<std::unique_ptr<Tokenizer>> build(const json& j) {
  const json* model = member(j, "model");
  const json* type = model ? member(*model, "type") : nullptr;
  if (type == nullptr || !type->is_string() || type->get<std::string>() != "Unigram") {
    return invalid_argument("model.type is not \"Unigram\"");
  }
  if (const json* bf = member(*model, "byte_fallback"); bf != nullptr && bf->is_boolean() && bf->get<bool>()) {
    return unimplemented("model.byte_fallback is true; sealsum does not implement byte fallback");
  }
  const json* unk = member(*model, "unk_id");
  if (unk == nullptr || !unk->is_number_integer()) return data_loss("model.unk_id is missing or not an integer");
  const json* vocab = member(*model, "vocab");
  if (vocab == nullptr || !vocab->is_array() || vocab->empty()) return data_loss("model.vocab is missing or empty");
  if (vocab->size() > (1u << 24)) return resource_exhausted("model.vocab has more than 2^24 entries");

  UnigramSpec spec;
  const int64_t unk_id = unk->get<int64_t>();
  if (unk_id < 0 || static_cast<uint64_t>(unk_id) >= vocab->size()) {
    return data_loss("model.unk_id " + std::to_string(unk_id) + " is outside the vocabulary");
  }
  spec.unk_id = static_cast<int32_t>(unk_id);
  spec.pieces.reserve(vocab->size());
  for (size_t i = 0; i < vocab->size(); ++i) {
    const json& e = (*vocab)[i];
    if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_number()) {
      return data_loss("model.vocab entry " + std::to_string(i) + " is not a [piece, score] pair");
    }
    UnigramPiece p{e[0].get<std::string>(), static_cast<float>(e[1].get<double>()), UnigramPieceKind::kNormal};
    if (static_cast<int64_t>(i) == unk_id) p.kind = UnigramPieceKind::kUnknown;
    spec.pieces.push_back(std::move(p));
  }

  if (const json* added = member(j, "added_tokens"); added != nullptr && !added->is_null()) {
    if (!added->is_array()) return data_loss("added_tokens is not an array");
    for (size_t i = 0; i < added->size(); ++i) {
      const json& a = (*added)[i];
      const json* id = member(a, "id");
      const json* content = member(a, "content");
      const json* special = member(a, "special");
      if (id == nullptr || !id->is_number_integer() || content == nullptr || !content->is_string()) {
        return data_loss("added_tokens entry " + std::to_string(i) + " lacks an integer id or a string content");
      }
      if (special == nullptr || !special->is_boolean() || !special->get<bool>()) {
        return unimplemented("added_tokens entry " + std::to_string(i) + " is not special; sealsum supports only special added tokens");
      }
      const int64_t k = id->get<int64_t>();
      if (k < 0 || static_cast<uint64_t>(k) >= spec.pieces.size() ||
          spec.pieces[static_cast<size_t>(k)].text != content->get<std::string>()) {
        return data_loss("added_tokens entry " + std::to_string(i) + " does not match model.vocab at its id");
      }
      if (k != unk_id) spec.pieces[static_cast<size_t>(k)].kind = UnigramPieceKind::kControl;
      spec.special_tokens.push_back(content->get<std::string>());
    }
  }

  const json* norm = member(j, "normalizer");
  if (norm != nullptr && !norm->is_null()) {
    const json* nt = member(*norm, "type");
    if (nt == nullptr || !nt->is_string() || nt->get<std::string>() != "Precompiled") {
      return unimplemented("normalizer is not \"Precompiled\"; sealsum runs only sentencepiece charsmaps");
    }
    const json* b64 = member(*norm, "precompiled_charsmap");
    if (b64 == nullptr || !b64->is_string()) return data_loss("normalizer.precompiled_charsmap is not a string");
    SEALSUM_ASSIGN_OR_RETURN(spec.precompiled_charsmap, decode_charsmap(b64->get_ref<const std::string&>()));
  }

  const json* pre = member(j, "pre_tokenizer");
  if (pre == nullptr || pre->is_null()) return unimplemented("tokenizer.json has no pre_tokenizer (sealsum needs Metaspace)");
  PreTokFacts facts;
  scan_pre_tokenizer(*pre, &facts, 0);
  if (!facts.unsupported.empty()) return unimplemented("tokenizer.json uses " + facts.unsupported);
  if (!facts.metaspace) return unimplemented("tokenizer.json has no Metaspace pre_tokenizer");
  spec.normalizer = {facts.add_prefix, facts.whitespace_split, true};
  return make_unigram_tokenizer(std::move(spec));
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> make_unigram_from_tokenizer_json(std::string_view text) {
  const json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return data_loss("tokenizer.json is not a JSON object");
  auto tok = build(j);
  if (!tok.ok()) return tok.status().with_context("tokenizer.json");
  return tok;
}

}  // namespace sealsum::tok
