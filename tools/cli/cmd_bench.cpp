// `sealsum bench --model MODEL --input-tokens N --new-tokens N [--num-beams N] [--threads N] [--runs R]
//                [--concurrency N [--corpus DIR] [--corpus-passes P]] [--key KEYFILE]`
//
// A benchmark, not a test: encodes N deterministic pseudo-random input ids (the last one the EOS
// id, like a tokenized document) and generates exactly --new-tokens tokens (EOS disabled, no
// min-length / n-gram processing) with greedy or beam search, end to end through Engine::generate.
// Prints JSON: load time, encoder ms, decoder ms per generated token, tokens/s, total ms (wall),
// total_cpu_ms (CPU time of all threads: robust on a busy machine), peak RSS.
// With --runs R the fastest run (by total time) is reported, after the first R-1 warm the caches.
// Also reported: "dtype" (of the model's linear weights) and, measured in the same process after the
// runs (so they do not count in peak_rss_mib), this machine's limits on one thread: "limits":
// {"fma_gflops" (the packed f32 GEMM kernel on an L2-resident compute-bound shape),
// "read_gbps" (streaming reads of a 512 MiB buffer, past any L3)}, and the floors they imply:
// decoder step >= linear weight bytes read per step / read_gbps (greedy: one row), encoder >=
// 2 x encoder linear weights x input tokens / fma_gflops; "ratio_to_limits" divides the measured
// times by those floors (attention, softmax and the search are not in the floors).
// The model may be plain (memory-mapped, "model_mapped": true) or sealed (--key/--kbs as for
// `summarize`: decrypted into secret memory), so peak_rss_mib compares the two loads.
//
// --concurrency N (throughput; after the single run above, whose members are unchanged): N workers
// call generate() concurrently on one Engine over the same loaded weights (Engine::sibling) with
// batch decoding, as `serve` runs its requests: their decoder steps are shared and their encoders
// run while others decode (engine/step_batcher.h; --threads compute threads for the shared steps,
// the engine's default encoder limit). They take the documents of the corpus (bench_corpus.h;
// --corpus DIR, default ../shared/corpus) from a shared queue, --corpus-passes times over (default
// 1). Each document is tokenized (task prefix, cut to --input-tokens keeping </s>) and generated like
// the single run (exactly --new-tokens tokens, --num-beams). Reported: "documents_per_second"
// (documents / wall time of the whole corpus run), "document_latency_ms" {p50, p99, mean, max}
// (tokenize + generate of one document), "document_encode_ms_mean" and "document_decode_ms_mean"
// (its encoder and its search; the rest of the latency waits for an encoder place),
// "decode_threads", "max_encoders", "encoders_peak", "mean_sessions_per_step" (session-steps per
// shared step), "corpus_documents", "corpus_input_tokens_mean", "corpus_wall_ms", "corpus_cpu_ms"
// and "corpus_peak_rss_mib". N = 1 is the single-client figure.
// "ratio_to_f32_limit": total time / the floor of the same model stored in f32 (for --dtype files).
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "engine/kernels/kernels.h"
#include "tools/cli/bench_corpus.h"
#include "tools/cli/command.h"
#include "tools/cli/model_loading.h"
#include "weights/model_file.h"
#include "weights/schema.h"

namespace {

using sealsum::cli::usage_error;
using sealsum::Status;
using json = nlohmann::json;

// User + system CPU time of the process so far, in ms: with one thread, a measure of the work done
// that a busy machine inflates far less than wall time.
double cpu_ms() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return (static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
          static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3);
}

// Streaming read bandwidth of one thread in GB/s: the best of 3 passes over 512 MiB (beyond L3).
double read_gbps() {
  std::vector<uint64_t> buf(size_t{512} << 17, 1);  // 512 MiB
  double best = 0;
  uint64_t sink = 0;
  for (int pass = 0; pass < 3; ++pass) {
    const auto t0 = std::chrono::steady_clock::now();
    uint64_t a = 0, b = 0, c = 0, d = 0;
    for (size_t i = 0; i + 4 <= buf.size(); i += 4) {
      a += buf[i];
      b ^= buf[i + 1];
      c += buf[i + 2];
      d ^= buf[i + 3];
    }
    sink += a + b + c + d;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, static_cast<double>(buf.size() * sizeof(uint64_t)) / s / 1e9);
  }
  if (sink == 42) std::cerr << "";  // keeps the reads
  return best;
}

// f32 GEMM throughput of the active kernel on one thread in GFLOP/s: y[192, 512] = x[192, 256] ·
// W[512, 256]ᵀ (everything in L2), best of 3 timed batches.
double fma_gflops() {
  const int64_t m = 192, n = 512, k = 256;
  std::vector<float> w(static_cast<size_t>(n * k), 0.5f), x(static_cast<size_t>(m * k), 0.25f), y(static_cast<size_t>(m * n));
  const sealsum::kernels::PackedMatrix pm = sealsum::kernels::pack_matrix(w.data(), n, k);
  double best = 0;
  for (int pass = 0; pass < 3; ++pass) {
    const int reps = 40;
    const auto t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < reps; ++r) sealsum::kernels::linear(x.data(), m, pm, nullptr, y.data(), nullptr);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, 2.0 * m * n * k * reps / s / 1e9);
  }
  return best;
}

// Linear weights of the model file by part, in bytes (encoder; decoder incl. the output projection),
// the encoder's parameter count, and the dtype they are stored in.
struct WeightBytes {
  double encoder = 0, decoder = 0;
  double decoder_f32 = 0;  // the same weights at 4 bytes each: the f32 floor quantized files are judged by
  double encoder_params = 0;
  std::string dtype = "f32";
};

WeightBytes linear_weight_bytes(const sealsum::weights::ModelFile& f) {
  WeightBytes wb;
  auto schema = sealsum::weights::expected_schema(f.architecture(), f.config());
  if (!schema.ok()) return wb;
  const sealsum::weights::TensorView* head = f.find("lm_head.weight");
  bool head_counted = false;
  for (const auto& e : schema->tensors) {
    const sealsum::weights::TensorView* t = f.find(e.name);
    if (!e.linear || t == nullptr) continue;
    head_counted = head_counted || t == head;
    if (t != head && e.name.find("shared") != std::string::npos) continue;  // the embedding, f32 in every file
    wb.dtype = sealsum::weights::dtype_name(t->dtype);
    const double bytes = static_cast<double>(t->numel()) * static_cast<double>(sealsum::weights::dtype_size(t->dtype));
    if (e.name.rfind("encoder.", 0) == 0 || e.name.rfind("model.encoder.", 0) == 0) {
      wb.encoder += bytes;
      wb.encoder_params += static_cast<double>(t->numel());
    }
    if (e.name.rfind("decoder.", 0) == 0 || e.name.rfind("model.decoder.", 0) == 0 || t == head) {
      wb.decoder += bytes;
      wb.decoder_f32 += static_cast<double>(t->numel()) * 4.0;
    }
  }
  // --dtype bf16/int8 of a tied model: lm_head.weight is its own (quantized) tensor, not in the schema.
  if (head != nullptr && !head_counted) {
    wb.decoder += static_cast<double>(head->numel()) * static_cast<double>(sealsum::weights::dtype_size(head->dtype));
    wb.decoder_f32 += static_cast<double>(head->numel()) * 4.0;
  }
  return wb;
}

double peak_rss_mib() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Nearest-rank percentile of sorted values.
double percentile(const std::vector<double>& sorted, double pct) {
  if (sorted.empty()) return 0;
  const size_t rank = static_cast<size_t>(std::ceil(pct / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

// The --concurrency run (see the header comment): adds its members to `out`.
Status run_corpus(const sealsum::engine::Engine& e, const std::vector<std::string>& docs, int workers, int passes,
                  int64_t max_input, const sealsum::decoding::GenerationParams& p, json& out) {
  auto shared = e.sibling({.threads = e.threads(), .batch_decoding = true});
  if (!shared.ok()) return shared.status().with_context("starting the batch-decoding engine");
  const sealsum::engine::Engine& engine = **shared;
  const size_t total = docs.size() * static_cast<size_t>(passes);
  std::vector<double> latency(total, 0);  // tokenize + generate
  std::vector<sealsum::engine::Timings> timings(total);
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::optional<Status> failed;  // first failure, under mu
  const double cpu0 = cpu_ms();
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < total; i = next++) {
        const auto t = std::chrono::steady_clock::now();
        std::vector<int32_t> ids = engine.prepare_input(docs[i % docs.size()]);
        if (static_cast<int64_t>(ids.size()) > max_input) {  // keep the first max-1 and </s>
          ids[static_cast<size_t>(max_input - 1)] = ids.back();
          ids.resize(static_cast<size_t>(max_input));
        }
        auto r = engine.generate(ids, p);
        if (!r.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          if (!failed) failed = r.status().with_context("document " + std::to_string(i % docs.size()));
          next = total;
          return;
        }
        latency[i] = ms_since(t);
        timings[i] = r->timings;
      }
    });
  }
  for (auto& t : threads) t.join();
  const double wall_ms = ms_since(t0), corpus_cpu_ms = cpu_ms() - cpu0;
  if (failed) return *failed;
  double sum = 0, tokens = 0, encode_sum = 0, decode_sum = 0;
  for (size_t i = 0; i < total; ++i) {
    sum += latency[i];
    encode_sum += timings[i].encode_ms;
    decode_sum += timings[i].decode_ms;
    tokens += static_cast<double>(timings[i].input_tokens);
  }
  std::sort(latency.begin(), latency.end());
  out["concurrency"] = workers;
  out["decode_threads"] = engine.threads();
  out["max_encoders"] = engine.max_encoders();
  out["encoders_peak"] = engine.encoders_peak();
  out["mean_sessions_per_step"] = engine.batcher()->mean_sessions_per_batch();
  out["corpus_documents"] = total;
  out["corpus_input_tokens_mean"] = tokens / static_cast<double>(total);
  out["corpus_wall_ms"] = wall_ms;
  out["corpus_cpu_ms"] = corpus_cpu_ms;
  out["documents_per_second"] = wall_ms > 0 ? 1000.0 * static_cast<double>(total) / wall_ms : 0;
  out["document_encode_ms_mean"] = encode_sum / static_cast<double>(total);
  out["document_decode_ms_mean"] = decode_sum / static_cast<double>(total);
  out["document_latency_ms"] = {{"p50", percentile(latency, 50)},
                                {"p99", percentile(latency, 99)},
                                {"mean", sum / static_cast<double>(total)},
                                {"max", latency.back()}};
  out["corpus_peak_rss_mib"] = peak_rss_mib();
  return Status::ok();
}

int run_bench(const std::vector<std::string>& argv) {
  sealsum::cli::Args args("bench", "--model MODEL --input-tokens N --new-tokens N [--num-beams N] [--threads N] "
                                   "[--concurrency N [--corpus DIR] [--corpus-passes P]]");
  sealsum::cli::add_model_flags(args);
  args.option("input-tokens", "N", "encoder input length (with --concurrency: the cut of each document)", true)
      .option("new-tokens", "N", "tokens to generate (EOS is disabled so exactly N are made)", true)
      .option("num-beams", "N", "1 = greedy (default), >1 = beam search")
      .option("threads", "N", "compute threads (default 0 = one per available CPU)")
      .option("runs", "R", "repeat R times and report the fastest (default 1)")
      .option("concurrency", "N", "also summarize the corpus with N concurrent workers; report documents/s")
      .option("corpus", "DIR", "with --concurrency: JSON-lines documents (default $SEALSUM_FIXTURES/corpus or ../shared/corpus)")
      .option("corpus-passes", "P", "with --concurrency: go over the corpus P times (default 1)");
  if (int rc = sealsum::cli::parse_or_exit(args, argv); rc >= 0) return rc;
  auto in_tokens = args.get_int("input-tokens", 1, 1 << 16);
  auto new_tokens = args.get_int("new-tokens", 1, 1 << 16);
  auto beams = args.get_int("num-beams", 1, 64);
  auto threads = args.get_int("threads", 0, 256);
  auto runs = args.get_int("runs", 1, 1000);
  auto concurrency = args.get_int("concurrency", 1, 256);
  auto passes = args.get_int("corpus-passes", 1, 1000);
  for (const auto* r : {&in_tokens, &new_tokens, &beams, &threads, &runs, &concurrency, &passes}) {
    if (!r->ok()) return usage_error(args, r->status().message());
  }
  if (!concurrency->has_value() && (args.get("corpus") || passes->has_value())) {
    return usage_error(args, "--corpus and --corpus-passes need --concurrency N");
  }
  std::vector<std::string> corpus;
  if (concurrency->has_value()) {  // read before loading, so a bad corpus fails fast
    auto docs = sealsum::cli::read_corpus(args.get("corpus").value_or(sealsum::cli::default_corpus_dir()));
    if (!docs.ok()) return sealsum::cli::fail("bench", docs.status());
    corpus = std::move(docs).value();
  }

  sealsum::engine::EngineOptions opts;
  opts.threads = static_cast<int>(threads->value_or(0));
  const auto t_load = std::chrono::steady_clock::now();
  auto engine = sealsum::cli::load_engine_for_cli(args, opts);
  if (!engine.ok()) return sealsum::cli::fail("bench", engine.status());
  const double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_load).count();
  const sealsum::engine::Engine& e = **engine;

  // Input: ids drawn from an LCG over the ordinary part of the vocabulary, ending in EOS.
  const sealsum::decoding::GenerationParams& defaults = e.model_params();
  const int64_t vocab = std::min<int64_t>(e.info().vocab_size, static_cast<int64_t>(e.tokenizer().vocab_size()));
  std::vector<int32_t> ids(static_cast<size_t>(**in_tokens));
  uint64_t state = 0x9E3779B97F4A7C15ull;
  for (auto& id : ids) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    id = static_cast<int32_t>(10 + (state >> 33) % static_cast<uint64_t>(std::max<int64_t>(vocab - 10, 1)));
  }
  if (!defaults.eos_token_ids.empty()) ids.back() = defaults.eos_token_ids[0];

  sealsum::decoding::GenerationParams p;
  p.decoder_start_token_id = defaults.decoder_start_token_id;
  p.pad_token_id = defaults.pad_token_id;
  p.eos_token_ids.clear();  // never stop early: exactly new-tokens steps
  p.num_beams = static_cast<int>(beams->value_or(1));
  p.max_new_tokens = static_cast<int>(**new_tokens);

  sealsum::engine::Timings best;
  best.total_ms = -1;
  double best_cpu_ms = 0;
  for (long long i = 0; i < runs->value_or(1); ++i) {
    const double cpu0 = cpu_ms();
    auto r = e.generate(ids, p);
    if (!r.ok()) return sealsum::cli::fail("bench", r.status());
    if (best.total_ms < 0 || r->timings.total_ms < best.total_ms) {
      best = r->timings;
      best_cpu_ms = cpu_ms() - cpu0;
    }
  }
  const double per_token = best.generated_tokens > 0 ? best.decode_ms / static_cast<double>(best.generated_tokens) : 0;
  json out = {{"architecture", e.info().architecture},
              {"isa", sealsum::kernels::isa_name(sealsum::kernels::active_isa())},
              {"threads", e.threads()},
              {"input_tokens", best.input_tokens},
              {"new_tokens", best.generated_tokens},
              {"num_beams", p.num_beams},
              {"runs", runs->value_or(1)},
              {"load_ms", load_ms},
              {"encoder_ms", best.encode_ms},
              {"decoder_ms", best.decode_ms},
              {"decoder_ms_per_token", per_token},
              {"tokens_per_s", best.decode_ms > 0 ? 1000.0 * static_cast<double>(best.generated_tokens) / best.decode_ms : 0},
              {"total_ms", best.total_ms},
              {"total_cpu_ms", best_cpu_ms},
              {"peak_rss_mib", peak_rss_mib()}};
  // After peak_rss_mib: the bandwidth probe's buffer must not count as the model's memory.
  const WeightBytes wb = linear_weight_bytes(e.model_file());
  out["dtype"] = wb.dtype;
  out["model_file_mib"] = static_cast<double>(e.model_file().bytes().size()) / (1024.0 * 1024.0);
  out["model_mapped"] = e.model_file().mapped();
  if (concurrency->has_value()) {
    const Status st = run_corpus(e, corpus, static_cast<int>(**concurrency), static_cast<int>(passes->value_or(1)),
                                 **in_tokens, p, out);
    if (!st.is_ok()) return sealsum::cli::fail("bench", st);
  }
  const double gbps = read_gbps(), gflops = fma_gflops();
  const double step_floor_ms = wb.decoder / (gbps * 1e9) * 1e3;
  const double enc_floor_ms = 2.0 * wb.encoder_params * static_cast<double>(best.input_tokens) / (gflops * 1e9) * 1e3;
  out["limits"] = {{"read_gbps", gbps},
                   {"fma_gflops", gflops},
                   {"decoder_step_floor_ms", step_floor_ms},
                   {"encoder_floor_ms", enc_floor_ms}};
  // The f32 file's floor for this run (same encoder floor: it is compute-bound at the f32 GEMM rate;
  // decoder steps read 4 bytes per weight): what quantized files are compared with (issue 13).
  const double f32_total_floor_ms =
      enc_floor_ms + wb.decoder_f32 / (gbps * 1e9) * 1e3 * static_cast<double>(best.generated_tokens);
  out["limits"]["f32_total_floor_ms"] = f32_total_floor_ms;
  out["ratio_to_f32_limit"] = f32_total_floor_ms > 0 ? best.total_ms / f32_total_floor_ms : 0;
  out["ratio_to_limits"] = {
      {"decoder_ms_per_token", step_floor_ms > 0 ? per_token / step_floor_ms : 0},
      {"encoder_ms", enc_floor_ms > 0 ? best.encode_ms / enc_floor_ms : 0},
      {"total_ms", step_floor_ms > 0 ? best.total_ms / (enc_floor_ms + step_floor_ms * static_cast<double>(best.generated_tokens)) : 0}};
  std::cout << out.dump(2) << "\n";
  return 0;
}

}  // namespace

SEALSUM_COMMAND("bench", "measure encoder and decoder speed of a model", run_bench);
