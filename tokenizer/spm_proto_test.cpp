// spiece.model reader: the real T5 model, hand-built models, and corrupt wire formats.
#include <catch2/catch.hpp>

#include <cstring>
#include <random>

#include "common/fixtures.h"
#include "tokenizer/factories.h"
#include "tokenizer/spm_proto.h"

using namespace sealsum;
using namespace sealsum::tok;

namespace {

// Minimal protobuf writer for building test models.
std::string varint(uint64_t v) {
  std::string s;
  while (v >= 0x80) {
    s.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  s.push_back(static_cast<char>(v));
  return s;
}
std::string key(uint32_t field, uint32_t wire) { return varint(uint64_t{field} << 3 | wire); }
std::string bytes_field(uint32_t field, const std::string& b) { return key(field, 2) + varint(b.size()) + b; }
std::string varint_field(uint32_t field, uint64_t v) { return key(field, 0) + varint(v); }
std::string float_field(uint32_t field, float f) {
  uint32_t bits = 0;
  std::memcpy(&bits, &f, 4);
  std::string s = key(field, 5);
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
  return s;
}
std::string piece(const std::string& text, float score, int type = 1) {
  std::string p = bytes_field(1, text) + float_field(2, score);
  if (type != 1) p += varint_field(3, static_cast<uint64_t>(type));
  return bytes_field(1, p);
}
// A small valid T5-like model: <pad> </s> <unk> ▁ a b ab, no charsmap.
std::string small_model(const std::string& trainer_extra = "", const std::string& more_pieces = "") {
  std::string m = piece("<pad>", 0, 3) + piece("</s>", 0, 3) + piece("<unk>", 0, 2) + piece("\xe2\x96\x81", -2) +
                  piece("a", -3) + piece("b", -3) + piece("ab", -4) + more_pieces;
  m += bytes_field(2, varint_field(3, 1) + varint_field(40, 2) + varint_field(42, 1) + varint_field(43, 0) +
                          varint_field(41, static_cast<uint64_t>(-1)) + trainer_extra);
  m += bytes_field(3, bytes_field(1, "identity") + varint_field(3, 1) + varint_field(4, 1));
  return m;
}

}  // namespace

TEST_CASE("spm_proto: reads the T5 spiece.model", "[spm_proto]") {
  auto r = parse_spm_model_proto(read_fixture("models/t5/spiece.model"));
  REQUIRE(r.ok());
  const SpmModelProto& m = r.value();
  REQUIRE(m.pieces.size() == 32000);
  CHECK(m.pieces[0].piece == "<pad>");
  CHECK(m.pieces[0].type == SpmPieceType::kControl);
  CHECK(m.pieces[1].piece == "</s>");
  CHECK(m.pieces[2].type == SpmPieceType::kUnknown);
  CHECK(m.pieces[3].piece == "\xe2\x96\x81");
  CHECK(m.pieces[3].score == Approx(-2.0122929));
  CHECK(m.model_type == SpmModelType::kUnigram);
  CHECK(m.unk_id == 2);
  CHECK(m.eos_id == 1);
  CHECK(m.pad_id == 0);
  CHECK(m.bos_id == -1);
  CHECK_FALSE(m.byte_fallback);
  CHECK(m.normalizer_name == "nmt_nfkc");
  CHECK(m.precompiled_charsmap.size() == 237539);
  CHECK(m.add_dummy_prefix);
  CHECK(m.remove_extra_whitespaces);
  CHECK(m.escape_whitespaces);
  CHECK_FALSE(m.has_denormalizer);
}

TEST_CASE("spm_proto: a hand-built model parses and tokenizes", "[spm_proto]") {
  auto r = parse_spm_model_proto(small_model());
  REQUIRE(r.ok());
  CHECK(r->pieces.size() == 7);
  CHECK(r->pieces[6].score == -4.0f);
  CHECK(r->bos_id == -1);
  auto tok = make_unigram_from_spm(small_model());
  REQUIRE(tok.ok());
  CHECK(tok.value()->vocab_size() == 107);
  CHECK(tok.value()->token_to_id("<extra_id_0>") == 106);
  // "ab ba": ▁ ab ▁ b a </s>; "c" is unknown.
  CHECK(tok.value()->encode("ab  ba") == std::vector<int32_t>{3, 6, 3, 5, 4, 1});
  CHECK(tok.value()->encode("acc") == std::vector<int32_t>{3, 4, 2, 1});
  CHECK(tok.value()->decode(std::vector<int32_t>{3, 6, 3, 5, 4, 1}) == "ab ba");
}

TEST_CASE("spm_proto: corrupt wire format is refused", "[spm_proto][corrupt]") {
  const std::string good = small_model();
  CHECK(parse_spm_model_proto("").status().code() == Code::kDataLoss);
  // An unterminated / over-long varint key.
  CHECK(parse_spm_model_proto(std::string(11, '\xff')).status().code() == Code::kDataLoss);
  CHECK(parse_spm_model_proto(std::string("\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11)).status().code() ==
        Code::kDataLoss);
  // Huge length prefix, and a length one past the end.
  CHECK(parse_spm_model_proto(key(1, 2) + varint(uint64_t{1} << 40) + "abc").status().code() == Code::kDataLoss);
  CHECK(parse_spm_model_proto(key(1, 2) + varint(4) + "abc").status().code() == Code::kDataLoss);
  // Wrong wire types, groups, field number 0.
  CHECK(parse_spm_model_proto(varint_field(1, 5) + good).status().code() == Code::kDataLoss);
  CHECK(parse_spm_model_proto(good + key(7, 3)).status().code() == Code::kDataLoss);
  CHECK(parse_spm_model_proto(good + key(0, 0) + varint(1)).status().code() == Code::kDataLoss);
  CHECK(parse_spm_model_proto(bytes_field(1, varint_field(2, 7))).status().code() == Code::kDataLoss);
  CHECK(parse_spm_model_proto(bytes_field(1, bytes_field(1, "x") + varint_field(3, 9))).status().code() ==
        Code::kDataLoss);
  CHECK(parse_spm_model_proto(bytes_field(1, bytes_field(1, std::string(8000, 'x')))).status().code() ==
        Code::kDataLoss);
  CHECK(parse_spm_model_proto(good + bytes_field(2, varint_field(3, 7))).status().code() == Code::kDataLoss);
  // Unknown fields of every wire type are skipped.
  const std::string extra = good + varint_field(99, 1) + key(98, 1) + "12345678" + key(97, 5) + "1234" +
                            bytes_field(96, "skip me");
  CHECK(parse_spm_model_proto(extra).ok());
  // Every cut strictly inside the last record (the normalizer spec) fails.
  const size_t last = small_model().size() - bytes_field(3, bytes_field(1, "identity") + varint_field(3, 1) +
                                                                 varint_field(4, 1)).size();
  for (size_t cut = last + 1; cut < good.size(); ++cut) {
    INFO("cut at " << cut);
    CHECK_FALSE(parse_spm_model_proto(good.substr(0, cut)).ok());
  }
  // The real model truncated mid-record, and random garbage: errors, never crashes.
  const std::string real = read_fixture("models/t5/spiece.model");
  CHECK_FALSE(parse_spm_model_proto(real.substr(0, real.size() - 3)).ok());
  std::mt19937 rng(1234);
  for (int i = 0; i < 200; ++i) {
    std::string junk(static_cast<size_t>(rng() % 300), '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    (void)make_unigram_from_spm(junk);
    std::string flipped = good;
    flipped[rng() % flipped.size()] = static_cast<char>(rng());
    (void)make_unigram_from_spm(flipped);
  }
}

TEST_CASE("spm_proto: models sealsum cannot run are refused clearly", "[spm_proto]") {
  auto bpe = make_unigram_from_spm(small_model(varint_field(3, 2)));
  CHECK(bpe.status().code() == Code::kUnimplemented);
  CHECK(bpe.status().message().find("BPE") != std::string::npos);
  CHECK(make_unigram_from_spm(small_model(varint_field(3, 4))).status().code() == Code::kUnimplemented);
  CHECK(make_unigram_from_spm(small_model(varint_field(35, 1))).status().code() == Code::kUnimplemented);
  CHECK(make_unigram_from_spm(small_model(varint_field(24, 1))).status().code() == Code::kUnimplemented);
  CHECK(make_unigram_from_spm(small_model("", piece("<user>", 0, 4))).status().code() == Code::kUnimplemented);
  CHECK(make_unigram_from_spm(small_model("", piece("<0x00>", 0, 6))).status().code() == Code::kUnimplemented);
  CHECK(make_unigram_from_spm(small_model() + bytes_field(5, "")).status().code() == Code::kUnimplemented);
  // Structural errors: a second unknown piece, a duplicate, an empty piece, no </s>.
  CHECK(make_unigram_from_spm(small_model("", piece("<unk2>", 0, 2))).status().code() == Code::kDataLoss);
  CHECK(make_unigram_from_spm(small_model("", piece("a", -1))).status().code() == Code::kDataLoss);
  CHECK(make_unigram_from_spm(small_model("", piece("", -1))).status().code() == Code::kDataLoss);
  CHECK(make_unigram_from_spm(piece("<unk>", 0, 2) + piece("a", -1)).status().code() == Code::kDataLoss);
  CHECK(make_unigram_from_spm(piece("</s>", 0, 3) + piece("a", -1)).status().code() == Code::kDataLoss);
  // A corrupt charsmap inside the model.
  CHECK(make_unigram_from_spm(small_model() + bytes_field(3, bytes_field(2, "\xff\xff\xff\x7f" "abcd")))
            .status()
            .code() == Code::kDataLoss);
}
