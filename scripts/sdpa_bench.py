#!/usr/bin/env python3
"""Times torch.nn.functional.scaled_dot_product_attention on the GPU for the shapes that
engine/backend/cuda's BenchmarkAttention times: batch 1, causal prefill of n tokens."""
import json
import sys

import torch
import torch.nn.functional as F


def main():
    dev = torch.device("cuda")
    print(json.dumps({"torch": torch.__version__, "cuda": torch.version.cuda, "gpu": torch.cuda.get_device_name(0)}))
    for heads, hd in ((12, 64), (32, 128)):
        for n in (1024, 4096, 10000, 16384):
            for dtype in (torch.float16, torch.float32):
                g = torch.Generator(device=dev).manual_seed(1)
                q, k, v = (torch.randn(1, heads, n, hd, device=dev, dtype=dtype, generator=g) for _ in range(3))
                for _ in range(3):
                    F.scaled_dot_product_attention(q, k, v, is_causal=True)
                torch.cuda.synchronize()
                reps = 10
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                for _ in range(reps):
                    F.scaled_dot_product_attention(q, k, v, is_causal=True)
                end.record()
                torch.cuda.synchronize()
                ms = start.elapsed_time(end) / reps
                flops = 4 * n * n / 2 * hd * heads
                print(json.dumps({"heads": heads, "hd": hd, "n": n, "dtype": str(dtype).replace("torch.", ""),
                                  "ms": round(ms, 4), "tflops": round(flops / ms / 1e9, 2)}))
                sys.stdout.flush()
                del q, k, v


if __name__ == "__main__":
    main()
