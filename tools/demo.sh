#!/usr/bin/env bash
# The main job, end to end, on a fresh machine: install dependencies, build, convert the bundled
# tiny T5 checkpoint into a sealsum model file, and summarize a sample news article with it.
#
# The bundled checkpoint (hf-internal-testing/tiny-random-t5) has random weights, so the "summary"
# is gibberish; the pipeline (converter, tokenizer, encoder-decoder, beam search) is the real one.
# README.md shows how to convert real t5-small / distilbart-cnn weights from the Hugging Face hub.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
fixtures="${SEALSUM_FIXTURES:-$root/../shared}"
build="$root/build"
# Only the `sealsum` binary (convert + summarize are all the demo runs), not the test suite, so the
# first summary does not wait for the tests to compile (tools/test.sh builds everything).
"$root/tools/setup.sh" "$build" sealsum
bin="$build/tools/cli/sealsum"
out="$build/demo"
mkdir -p "$out"

echo "== convert: $fixtures/models/tiny-random-t5 -> $out/tiny-random-t5.sealsum"
"$bin" convert "$fixtures/models/tiny-random-t5" -o "$out/tiny-random-t5.sealsum"

echo "== summarize: the first article of corpus/cnn-articles.jsonl"
python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["document"])' \
  "$fixtures/corpus/cnn-articles.jsonl" > "$out/article.txt"
# Random weights put almost all probability on one token (<pad>, which decodes to nothing), so
# the demo forbids repeats (--no-repeat-ngram-size 1) to make the gibberish visible.
"$bin" summarize --model "$out/tiny-random-t5.sealsum" --input "$out/article.txt" \
  --no-repeat-ngram-size 1 --max-length 40
