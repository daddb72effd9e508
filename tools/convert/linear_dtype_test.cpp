// `sealsum convert --dtype`: the names accepted, and what a quantized synthetic t5-small holds:
// int8 (or bf16) panels for every linear weight, the tied embedding kept f32 and row-major with a
// quantized lm_head.weight in place of the alias, norms and biases f32, scales after the weights.
#include <catch2/catch.hpp>

#include <string>

#include "common/fixtures.h"
#include "secure/secret_buffer.h"
#include "tools/convert/linear_dtype.h"
#include "tools/convert/synthetic.h"
#include "weights/model_file.h"
#include "weights/panel_layout.h"

using namespace sealsum;

TEST_CASE("--dtype names") {
  CHECK(*convert::parse_linear_dtype("f32") == weights::DType::kF32);
  CHECK(*convert::parse_linear_dtype("bf16") == weights::DType::kBF16);
  CHECK(*convert::parse_linear_dtype("int8") == weights::DType::kI8);
  CHECK(*convert::parse_linear_dtype("i8") == weights::DType::kI8);
  auto bad = convert::parse_linear_dtype("fp16");
  REQUIRE(!bad.ok());
  CHECK(bad.status().code() == Code::kInvalidArgument);
  CHECK_THAT(bad.status().message(), Catch::Contains("f32, bf16 or int8"));
}

TEST_CASE("a synthetic t5-small converted with --dtype int8 and bf16") {
  const nlohmann::json manifest = nlohmann::json::parse(read_fixture("golden/synth-t5-small/manifest.json"));
  auto tok = tok::read_tokenizer_source(fixture("models/t5/spiece.model").string());
  REQUIRE(tok.ok());
  for (weights::DType d : {weights::DType::kI8, weights::DType::kBF16}) {
    INFO(weights::dtype_name(d));
    auto w = convert::build_synthetic(manifest, *tok, {}, d);
    REQUIRE(w.ok());
    auto buf = secure::SecretBuffer::copy_of(w->serialize());
    REQUIRE(buf.ok());
    auto m = weights::ModelFile::from_buffer(std::move(buf).value(), "t5-small");
    REQUIRE(m.ok());
    const weights::TensorView* shared = m->find("shared.weight");
    const weights::TensorView* head = m->find("lm_head.weight");
    REQUIRE(shared != nullptr);
    REQUIRE(head != nullptr);
    CHECK(shared->dtype == weights::DType::kF32);  // the embedding stays f32, row-major (lookups only)
    CHECK(shared->layout == weights::Layout::kRowMajor);
    CHECK(head != shared);                          // a quantized copy, not the alias
    CHECK(head->dtype == d);
    CHECK(m->aliases().count("lm_head.weight") == 0);
    CHECK(m->find("encoder.embed_tokens.weight") == shared);
    const weights::TensorView* q = m->find("encoder.block.0.layer.0.SelfAttention.q.weight");
    const weights::TensorView* k = m->find("encoder.block.0.layer.0.SelfAttention.k.weight");
    REQUIRE(q != nullptr);
    REQUIRE(k != nullptr);
    CHECK(q->dtype == d);
    CHECK(q->layout == weights::Layout::kPanels);
    CHECK(k->data == q->data + q->nbytes);  // back to back: the fused q|k|v is a view
    CHECK(m->find("encoder.final_layer_norm.weight")->dtype == weights::DType::kF32);
    CHECK(m->find("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight")->dtype ==
          weights::DType::kF32);
    const bool has_scale = m->find(std::string("lm_head.weight") + weights::kScaleSuffix) != nullptr;
    CHECK(has_scale == (d == weights::DType::kI8));
    CHECK(m->header()["source"]["linear_dtype"] == weights::dtype_name(d));
  }
}
