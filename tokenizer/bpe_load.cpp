// Loaders of byte-level BPE tokenizers: tokenizer.json (model.type "BPE") and vocab.json +
// merges.txt. Both parse outside bytes: every field is type-checked, every count and length is
// bounded, and anything this implementation would not reproduce exactly (a normalizer, dropout,
// subword prefixes, single_word tokens, other pre-tokenizers or decoders) is refused with
// kUnimplemented instead of being approximated. Errors name the file and the field, never content.
#include <limits>

#include <nlohmann/json.hpp>

#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/factories.h"

namespace sealsum::tok {
namespace {

using nlohmann::json;
using bpe::AddedToken;

constexpr size_t kMaxFileBytes = 64u << 20;
constexpr size_t kMaxVocab = 1u << 24;
constexpr size_t kMaxMerges = 1u << 24;
constexpr size_t kMaxTokenBytes = 4096;
constexpr size_t kMaxAddedTokens = 1u << 16;

Result<json> parse_json(std::string_view text, const char* what) {
  if (text.size() > kMaxFileBytes) return resource_exhausted(std::string(what) + " is larger than 64 MiB");
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return data_loss(std::string(what) + " is not valid JSON (or not UTF-8)");
  if (!j.is_object()) return data_loss(std::string(what) + " is not a JSON object");
  return j;
}

// Optional boolean field: absent/null -> fallback; anything but a bool is an error.
Status get_bool(const json& obj, const char* key, bool fallback, bool* out, const std::string& where) {
  *out = fallback;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Status::ok();
  if (!it->is_boolean()) return data_loss(where + "." + key + " is not a boolean");
  *out = it->get<bool>();
  return Status::ok();
}

// Optional string field that must be absent, null or "" (prefixes this implementation lacks).
Status require_empty_string(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Status::ok();
  if (!it->is_string()) return data_loss(where + "." + key + " is not a string");
  if (!it->get_ref<const std::string&>().empty()) {
    return unimplemented(where + "." + key + " is set; byte-level BPE with subword affixes is not supported");
  }
  return Status::ok();
}

Result<std::vector<std::pair<std::string, int32_t>>> parse_vocab(const json& v, const std::string& where) {
  if (!v.is_object()) return data_loss(where + " is not a JSON object of token -> id");
  if (v.size() > kMaxVocab) return resource_exhausted(where + " has more than 2^24 entries");
  std::vector<std::pair<std::string, int32_t>> out;
  out.reserve(v.size());
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it.value().is_number_integer()) return data_loss(where + ": a token's id is not an integer");
    const auto id = it.value().get<int64_t>();
    if (id < 0 || id > bpe::BpeModel::kMaxId) return data_loss(where + ": token id " + std::to_string(id) + " is out of range");
    if (it.key().empty() || it.key().size() > kMaxTokenBytes) {
      return data_loss(where + ": token with id " + std::to_string(id) + " is empty or longer than 4096 bytes");
    }
    out.emplace_back(it.key(), static_cast<int32_t>(id));
  }
  return out;
}

// A merge "a b" as tokenizer.json stores it (split at the first space, as the reference does).
bool split_merge(std::string_view s, std::pair<std::string, std::string>* out) {
  const size_t sp = s.find(' ');
  if (sp == std::string_view::npos) return false;
  *out = {std::string(s.substr(0, sp)), std::string(s.substr(sp + 1))};
  return true;
}

// Ids the reference assigns to added tokens: the model's id when the content is in the vocab,
// else the next free id after the vocab (AddedVocabulary::add_tokens).
Status assign_added_ids(const bpe::BpeModel& model, std::vector<AddedToken>& added, bool check_given) {
  int64_t max_added = -1;
  for (AddedToken& t : added) {
    int64_t id;
    if (auto m = model.token_to_id(t.content)) {
      id = *m;
    } else {
      const auto vs = static_cast<int64_t>(model.size());
      id = (max_added < 0) ? vs : (max_added >= vs || vs == 0) ? max_added + 1 : vs;
    }
    if (check_given && id != t.id) {
      return data_loss("tokenizer.json: added token with id " + std::to_string(t.id) +
                       " would get id " + std::to_string(id) + " from the vocab; the file is inconsistent");
    }
    if (id > bpe::BpeModel::kMaxId) return data_loss("added token id is out of range");
    t.id = static_cast<int32_t>(id);
    max_added = std::max(max_added, id);
  }
  return Status::ok();
}

Result<std::vector<AddedToken>> parse_added_tokens(const json& j) {
  std::vector<AddedToken> out;
  auto it = j.find("added_tokens");
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_array()) return data_loss("tokenizer.json: added_tokens is not an array");
  if (it->size() > kMaxAddedTokens) return resource_exhausted("tokenizer.json: more than 65536 added_tokens");
  for (const json& t : *it) {
    const std::string where = "tokenizer.json: added_tokens[" + std::to_string(out.size()) + "]";
    if (!t.is_object()) return data_loss(where + " is not an object");
    auto content = t.find("content");
    auto id = t.find("id");
    if (content == t.end() || !content->is_string()) return data_loss(where + ".content is not a string");
    if (id == t.end() || !id->is_number_integer()) return data_loss(where + ".id is not an integer");
    AddedToken a;
    a.content = content->get<std::string>();
    if (a.content.empty() || a.content.size() > kMaxTokenBytes) return data_loss(where + ".content is empty or too long");
    const auto raw_id = id->get<int64_t>();
    if (raw_id < 0 || raw_id > bpe::BpeModel::kMaxId) return data_loss(where + ".id is out of range");
    a.id = static_cast<int32_t>(raw_id);
    bool single_word = false;
    SEALSUM_RETURN_IF_ERROR(get_bool(t, "single_word", false, &single_word, where));
    if (single_word) return unimplemented(where + ".single_word is true; not supported");
    SEALSUM_RETURN_IF_ERROR(get_bool(t, "lstrip", false, &a.lstrip, where));
    SEALSUM_RETURN_IF_ERROR(get_bool(t, "rstrip", false, &a.rstrip, where));
    SEALSUM_RETURN_IF_ERROR(get_bool(t, "normalized", true, &a.normalized, where));
    SEALSUM_RETURN_IF_ERROR(get_bool(t, "special", false, &a.special, where));
    out.push_back(std::move(a));
  }
  return out;
}

// Post-processor -> ids around the sequence (single-sequence form only).
Status parse_post_processor(const json& j, bpe::BpeConfig* cfg) {
  auto it = j.find("post_processor");
  if (it == j.end() || it->is_null()) return Status::ok();
  const std::string where = "tokenizer.json: post_processor";
  if (!it->is_object() || !it->contains("type") || !(*it)["type"].is_string()) return data_loss(where + " has no type");
  const std::string type = (*it)["type"].get<std::string>();
  if (type == "ByteLevel") return Status::ok();  // offsets only
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    auto special = [&](const char* key, std::vector<int32_t>* ids) -> Status {
      auto f = it->find(key);
      if (f == it->end() || !f->is_array() || f->size() != 2 || !(*f)[0].is_string() || !(*f)[1].is_number_integer()) {
        return data_loss(where + "." + key + " is not [token, id]");
      }
      const auto id = (*f)[1].get<int64_t>();
      if (id < 0 || id > bpe::BpeModel::kMaxId) return data_loss(where + "." + key + " id is out of range");
      ids->push_back(static_cast<int32_t>(id));
      return Status::ok();
    };
    SEALSUM_RETURN_IF_ERROR(special("cls", &cfg->prefix_ids));
    return special("sep", &cfg->suffix_ids);
  }
  if (type == "TemplateProcessing") {
    auto single = it->find("single");
    auto tokens = it->find("special_tokens");
    if (single == it->end() || !single->is_array()) return data_loss(where + ".single is not an array");
    bool seen_sequence = false;
    for (const json& piece : *single) {
      if (piece.is_object() && piece.contains("Sequence")) {
        if (seen_sequence) return data_loss(where + ".single names the sequence twice");
        seen_sequence = true;
        continue;
      }
      if (!piece.is_object() || !piece.contains("SpecialToken") || !piece["SpecialToken"].is_object() ||
          !piece["SpecialToken"].contains("id") || !piece["SpecialToken"]["id"].is_string()) {
        return data_loss(where + ".single has an item that is neither Sequence nor SpecialToken");
      }
      const std::string name = piece["SpecialToken"]["id"].get<std::string>();
      if (tokens == it->end() || !tokens->is_object() || !tokens->contains(name) || !(*tokens)[name].is_object() ||
          !(*tokens)[name].contains("ids") || !(*tokens)[name]["ids"].is_array()) {
        return data_loss(where + ".special_tokens lacks an entry used by .single");
      }
      for (const json& id : (*tokens)[name]["ids"]) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > bpe::BpeModel::kMaxId) {
          return data_loss(where + ".special_tokens has an id that is not a valid integer");
        }
        (seen_sequence ? cfg->suffix_ids : cfg->prefix_ids).push_back(static_cast<int32_t>(id.get<int64_t>()));
      }
    }
    if (!seen_sequence) return data_loss(where + ".single does not contain the sequence");
    return Status::ok();
  }
  return unimplemented(where + " type '" + type + "' is not supported for BPE");
}

Result<std::unique_ptr<Tokenizer>> from_tokenizer_json(std::string_view text) {
  SEALSUM_ASSIGN_OR_RETURN(json j, parse_json(text, "tokenizer.json"));
  auto norm = j.find("normalizer");
  if (norm != j.end() && !norm->is_null()) return unimplemented("tokenizer.json: a BPE normalizer is not supported");

  bpe::BpeConfig cfg;
  auto pre = j.find("pre_tokenizer");
  if (pre == j.end() || !pre->is_object() || !pre->contains("type") || (*pre)["type"] != "ByteLevel") {
    return unimplemented("tokenizer.json: only the ByteLevel pre_tokenizer is supported for BPE");
  }
  SEALSUM_RETURN_IF_ERROR(get_bool(*pre, "add_prefix_space", true, &cfg.add_prefix_space, "tokenizer.json: pre_tokenizer"));
  SEALSUM_RETURN_IF_ERROR(get_bool(*pre, "use_regex", true, &cfg.use_regex, "tokenizer.json: pre_tokenizer"));
  auto dec = j.find("decoder");
  if (dec == j.end() || !dec->is_object() || !dec->contains("type") || (*dec)["type"] != "ByteLevel") {
    return unimplemented("tokenizer.json: only the ByteLevel decoder is supported for BPE");
  }

  auto mit = j.find("model");
  if (mit == j.end() || !mit->is_object()) return data_loss("tokenizer.json has no model object");
  const json& m = *mit;
  const std::string where = "tokenizer.json: model";
  if (!m.contains("type") || m["type"] != "BPE") return data_loss(where + ".type is not \"BPE\"");
  if (auto d = m.find("dropout"); d != m.end() && !d->is_null()) {
    if (!d->is_number()) return data_loss(where + ".dropout is not a number");
    if (d->get<double>() != 0.0) return unimplemented(where + ".dropout is set; BPE dropout is for training only");
  }
  SEALSUM_RETURN_IF_ERROR(require_empty_string(m, "continuing_subword_prefix", where));
  SEALSUM_RETURN_IF_ERROR(require_empty_string(m, "end_of_word_suffix", where));
  bool byte_fallback = false;
  SEALSUM_RETURN_IF_ERROR(get_bool(m, "byte_fallback", false, &byte_fallback, where));
  if (byte_fallback) return unimplemented(where + ".byte_fallback is not supported");
  bpe::BpeOptions opts;
  SEALSUM_RETURN_IF_ERROR(get_bool(m, "fuse_unk", false, &opts.fuse_unk, where));
  SEALSUM_RETURN_IF_ERROR(get_bool(m, "ignore_merges", false, &opts.ignore_merges, where));
  if (auto u = m.find("unk_token"); u != m.end() && !u->is_null()) {
    if (!u->is_string()) return data_loss(where + ".unk_token is not a string");
    opts.unk_token = u->get<std::string>();
  }

  auto vit = m.find("vocab");
  if (vit == m.end()) return data_loss(where + " has no vocab");
  SEALSUM_ASSIGN_OR_RETURN(auto vocab, parse_vocab(*vit, where + ".vocab"));
  auto merges_it = m.find("merges");
  if (merges_it == m.end() || !merges_it->is_array()) return data_loss(where + ".merges is not an array");
  if (merges_it->size() > kMaxMerges) return resource_exhausted(where + ".merges has more than 2^24 entries");
  std::vector<std::pair<std::string, std::string>> merges;
  merges.reserve(merges_it->size());
  for (const json& mg : *merges_it) {
    std::pair<std::string, std::string> p;
    if (mg.is_string()) {
      if (!split_merge(mg.get_ref<const std::string&>(), &p)) {
        return data_loss(where + ".merges[" + std::to_string(merges.size()) + "] is not \"a b\"");
      }
    } else if (mg.is_array() && mg.size() == 2 && mg[0].is_string() && mg[1].is_string()) {
      p = {mg[0].get<std::string>(), mg[1].get<std::string>()};
    } else {
      return data_loss(where + ".merges[" + std::to_string(merges.size()) + "] is neither \"a b\" nor [a, b]");
    }
    merges.push_back(std::move(p));
  }
  SEALSUM_ASSIGN_OR_RETURN(cfg.model, bpe::BpeModel::build(std::move(vocab), merges, opts));
  SEALSUM_ASSIGN_OR_RETURN(cfg.added, parse_added_tokens(j));
  SEALSUM_RETURN_IF_ERROR(assign_added_ids(*cfg.model, cfg.added, /*check_given=*/true));
  SEALSUM_RETURN_IF_ERROR(parse_post_processor(j, &cfg));
  return std::unique_ptr<Tokenizer>(new bpe::BpeTokenizer(std::move(cfg)));
}

Result<std::unique_ptr<Tokenizer>> from_vocab_merges(std::string_view vocab_json, std::string_view merges_txt) {
  SEALSUM_ASSIGN_OR_RETURN(json vj, parse_json(vocab_json, "vocab.json"));
  SEALSUM_ASSIGN_OR_RETURN(auto vocab, parse_vocab(vj, "vocab.json"));
  if (merges_txt.size() > kMaxFileBytes) return resource_exhausted("merges.txt is larger than 64 MiB");
  std::vector<std::pair<std::string, std::string>> merges;
  size_t line_no = 0;
  for (size_t pos = 0; pos < merges_txt.size();) {
    size_t nl = merges_txt.find('\n', pos);
    if (nl == std::string_view::npos) nl = merges_txt.size();
    std::string_view line = merges_txt.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.starts_with("#version")) continue;
    const size_t sp = line.find(' ');
    if (sp == 0 || sp == std::string_view::npos || sp + 1 == line.size() || line.find(' ', sp + 1) != std::string_view::npos) {
      return data_loss("merges.txt line " + std::to_string(line_no) + " is not two tokens separated by one space");
    }
    if (merges.size() >= kMaxMerges) return resource_exhausted("merges.txt has more than 2^24 merges");
    merges.emplace_back(std::string(line.substr(0, sp)), std::string(line.substr(sp + 1)));
  }
  bpe::BpeConfig cfg;
  SEALSUM_ASSIGN_OR_RETURN(cfg.model, bpe::BpeModel::build(std::move(vocab), merges, bpe::BpeOptions{}));
  // BART's defaults (BartTokenizer / tokenizer_config.json): all special, <mask> takes the space
  // before it.
  for (const char* t : {"<s>", "<pad>", "</s>", "<unk>", "<mask>"}) {
    AddedToken a;
    a.content = t;
    a.special = true;
    a.lstrip = std::string_view(t) == "<mask>";
    cfg.added.push_back(std::move(a));
  }
  SEALSUM_RETURN_IF_ERROR(assign_added_ids(*cfg.model, cfg.added, /*check_given=*/false));
  cfg.prefix_ids = {cfg.added[0].id};  // <s>
  cfg.suffix_ids = {cfg.added[2].id};  // </s>
  return std::unique_ptr<Tokenizer>(new bpe::BpeTokenizer(std::move(cfg)));
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> make_bpe_from_tokenizer_json(std::string_view json) {
  try {
    return from_tokenizer_json(json);
  } catch (const std::exception&) {  // allocation failure or a JSON accessor we failed to guard
    return data_loss("tokenizer.json could not be loaded as a BPE tokenizer (malformed or too large)");
  }
}

Result<std::unique_ptr<Tokenizer>> make_bpe_from_vocab_merges(std::string_view vocab_json, std::string_view merges_txt) {
  try {
    return from_vocab_merges(vocab_json, merges_txt);
  } catch (const std::exception&) {
    return data_loss("vocab.json + merges.txt could not be loaded as a BPE tokenizer (malformed or too large)");
  }
}

}  // namespace sealsum::tok
