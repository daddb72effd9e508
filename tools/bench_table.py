#!/usr/bin/env python3
"""Issue 13's performance table: `sealsum bench` on the synthetic real-geometry models, one thread.

A benchmark, not a test: it asserts nothing and prints a Markdown table for the README.
For each model and dtype it runs greedy and beam 4 back to back, `--rounds` times, and reports
medians: total, encoder and decoder ms per token, the beam / greedy cost per token, the ratio of
the total to the f32 file's floor measured in the same run (`ratio_to_f32_limit`, so machine noise
cancels), the issue's target for that ratio, and peak RSS against 1.15 x file + 64 MiB.

  tools/bench_table.py [--bin build/tools/cli/sealsum] [--models build/tests/golden-models]
                       [--rounds 3] [--dtypes f32,int8] [--only t5|bart]

The models are the golden suite's (`ctest -R golden` writes them; `sealsum convert --synthetic
...` makes them by hand). Pause other work on the machine while it runs: it measures wall time.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

# (label, file stem, input tokens, runs per bench call, target ratio greedy, target ratio beam 4)
CASES = [
    ("synth-t5-small 512->64", "synth-t5-small", 512, 3, 0.52, 0.63),
    ("synth-distilbart-cnn-6-6 1024->64", "synth-distilbart-cnn-6-6", 1024, 1, 0.68, 0.82),
]


def bench(binary, model, tokens, beams, runs):
    cmd = [binary, "bench", "--model", model, "--input-tokens", str(tokens), "--new-tokens", "64",
           "--num-beams", str(beams), "--threads", "1", "--runs", str(runs)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="build/tools/cli/sealsum")
    ap.add_argument("--models", default="build/tests/golden-models")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dtypes", default="f32,int8")
    ap.add_argument("--only", default="")
    args = ap.parse_args()

    rows = []
    for label, stem, tokens, runs, target_greedy, target_beam in CASES:
        if args.only and args.only not in stem:
            continue
        for dtype in args.dtypes.split(","):
            model = os.path.join(args.models, stem + ("" if dtype == "f32" else "." + dtype) + ".sealsum")
            if not os.path.exists(model):
                sys.exit(f"bench_table: {model} is missing; run the golden tests (ctest -R golden) first")
            got = {1: [], 4: []}
            for _ in range(args.rounds):
                for beams in (1, 4):
                    got[beams].append(bench(args.bin, model, tokens, beams, runs))
            med = lambda beams, key: statistics.median(r[key] for r in got[beams])
            per_token = {b: med(b, "decoder_ms_per_token") for b in (1, 4)}
            pairs = [b4["decoder_ms_per_token"] / g["decoder_ms_per_token"] for g, b4 in zip(got[1], got[4])]
            for beams, target in ((1, target_greedy), (4, target_beam)):
                r0 = got[beams][0]
                bound = 1.15 * r0["model_file_mib"] + 64
                rows.append([
                    label if dtype == args.dtypes.split(",")[0] and beams == 1 else "",
                    f"{dtype} {'greedy' if beams == 1 else 'beam 4'}",
                    f"{med(beams, 'total_ms'):,.0f}",
                    f"{med(beams, 'encoder_ms'):,.0f}",
                    f"{per_token[beams]:.2f}",
                    "" if beams == 1 else
                    f"{per_token[4] / per_token[1]:.2f} ({min(pairs):.2f}-{max(pairs):.2f})",
                    f"{med(beams, 'ratio_to_f32_limit'):.2f}",
                    f"<= {target}" if dtype != "f32" else "",
                    f"{max(r['peak_rss_mib'] for r in got[beams]):.0f} ({bound:.0f})",
                    f"{statistics.median(r['limits']['fma_gflops'] for r in got[beams]):.0f} / "
                    f"{statistics.median(r['limits']['read_gbps'] for r in got[beams]):.1f}",
                ])
            print(f"done: {label} {dtype} ({got[1][0]['isa']})", file=sys.stderr)
    head = ["model, run", "dtype", "total ms", "encoder ms", "decoder ms/token", "beam/greedy per token (rounds)",
            "ratio_to_f32_limit", "issue's target", "peak RSS MiB (bound)", "limits: GFLOP/s / GB/s"]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" if i < 2 else "---:" for i in range(len(head))) + "|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
