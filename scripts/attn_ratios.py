#!/usr/bin/env python3
"""Prints BenchmarkAttention's times beside PyTorch's SDPA (scripts/sdpa_bench.py) for the same
shapes, as speed ratios (SDPA time / ours). Usage: attn_ratios.py BENCH_OUTPUT SDPA_OUTPUT."""
import json
import re
import sys


def main():
    ours = {}
    for line in open(sys.argv[1]):
        m = re.match(r"BenchmarkAttention/(\w+?)_h(\d+)_d(\d+)_n(\d+)\S*\s+\d+\s+.*?([\d.]+) ms/op", line)
        if m:
            kind, h, d, n, ms = m.groups()
            ours[(kind, int(h), int(d), int(n))] = float(ms)
    sdpa = {}
    for line in open(sys.argv[2]):
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if "ms" in r:
            sdpa[(r["dtype"], r["heads"], r["hd"], r["n"])] = r["ms"]
    print("| heads×dim | n | ours f32 ms | ours half ms | ours f16 ms | SDPA f16 ms | SDPA f32 ms | f16/SDPA-f16 | half/SDPA-f16 | f32/SDPA-f32 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    shapes = sorted({k[1:] for k in ours})
    for h, d, n in shapes:
        row = [ours.get((k, h, d, n)) for k in ("f32", "half", "f16")]
        s16, s32 = sdpa.get(("float16", h, d, n)), sdpa.get(("float32", h, d, n))

        def ratio(a, b):
            return f"{b / a:.3f}" if a and b else "-"

        def ms(v):
            return f"{v:.3f}" if v else "-"

        print(f"| {h}×{d} | {n} | {ms(row[0])} | {ms(row[1])} | {ms(row[2])} | {ms(s16)} | {ms(s32)} | "
              f"{ratio(row[2], s16)} | {ratio(row[1], s16)} | {ratio(row[0], s32)} |")


if __name__ == "__main__":
    main()
