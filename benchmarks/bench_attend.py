"""course_lib.attend versus torch's fused scaled_dot_product_attention on CPU, one run.

    python benchmarks/bench_attend.py

Shape 8 x 1024 x 64 (batch x tokens x features). Goal: our readable three-step version within
1.5x of torch's kernel. Each side is timed as the median of several calls after a warm-up.
"""
import time

import torch
import torch.nn.functional as F

import course_lib as cl


def median_ms(fn, repeats: int = 15) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2] * 1e3


def main() -> None:
    torch.manual_seed(0)
    q, k, v = (torch.randn(8, 1024, 64) for _ in range(3))
    ours_out, _ = cl.attend(q, k, v)
    diff = (ours_out - F.scaled_dot_product_attention(q, k, v)).abs().max().item()
    with torch.no_grad():
        ours = median_ms(lambda: cl.attend(q, k, v))
        ref = median_ms(lambda: F.scaled_dot_product_attention(q, k, v))
    ratio = ours / ref
    print(f"shape 8 x 1024 x 64, float32, {torch.get_num_threads()} threads, torch {torch.__version__}")
    print(f"course_lib.attend               {ours:7.1f} ms")
    print(f"F.scaled_dot_product_attention  {ref:7.1f} ms")
    print(f"ratio {ratio:.2f}x (goal <= 1.5x: {'met' if ratio <= 1.5 else 'NOT met'}); "
          f"max |difference| {diff:.1e}")


if __name__ == "__main__":
    main()
