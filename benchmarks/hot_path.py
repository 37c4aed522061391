"""What two pieces of the forward pass cost, as ratios measured in one process with interleaved rounds.

- gelu_new: the formula written out (five elementwise passes) against `F.gelu(approximate="tanh")` (one kernel),
  which model.NewGELU uses, on the FFN's activations (B, T, I).
- the input checks (`checks.check_inputs` on input_ids, attention_mask and token_type_ids) as a share of a whole
  AlbertModel forward pass on the same batch.

    python benchmarks/hot_path.py [--preset albert-base-v2] [--batch 8] [--seq 128] [--rounds 20] [--threads 2]

Prints medians and the spread (first and third quartiles) of the per-round ratios; `make bench` is the full report.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from typing import Callable

import torch

from albert_explained import AlbertConfig, AlbertModel, checks


def written_out_gelu(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def seconds(call: Callable[[], object], repeats: int) -> float:
    start = time.perf_counter()
    for _ in range(repeats):
        call()
    return (time.perf_counter() - start) / repeats


def interleaved_ratio(
    numerator: Callable[[], object], denominator: Callable[[], object], rounds: int, repeats: tuple[int, int]
) -> tuple[float, float, float]:
    """Per round, time both (in alternating order) and take the ratio; return its quartiles."""
    numerator(), denominator()  # warm-up
    ratios = []
    for i in range(rounds):
        if i % 2:
            b, a = seconds(denominator, repeats[1]), seconds(numerator, repeats[0])
        else:
            a, b = seconds(numerator, repeats[0]), seconds(denominator, repeats[1])
        ratios.append(a / b)
    q1, median, q3 = statistics.quantiles(ratios, n=4)
    return median, q1, q3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="albert-base-v2")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = AlbertConfig.from_preset(args.preset)
    model = AlbertModel(config).eval()
    input_ids = torch.randint(5, config.vocab_size, (args.batch, args.seq))
    attention_mask = torch.ones_like(input_ids)
    attention_mask[args.batch // 2 :, args.seq // 2 :] = 0  # half the batch padded
    token_type_ids = torch.zeros_like(input_ids)
    x = torch.randn(args.batch, args.seq, config.intermediate_size)

    gelu_new = model.encoder.albert_layer_groups[0].albert_layers[0].activation  # model.NewGELU
    torch.testing.assert_close(gelu_new(x), written_out_gelu(x), rtol=1.3e-6, atol=1e-6)
    median, q1, q3 = interleaved_ratio(lambda: written_out_gelu(x), lambda: gelu_new(x), args.rounds, (20, 20))
    print(
        f"gelu_new on ({args.batch}, {args.seq}, {config.intermediate_size}): written out / F.gelu(tanh) = "
        f"{median:.2f} (quartiles {q1:.2f}-{q3:.2f})"
    )

    def check() -> None:
        checks.check_inputs(
            config,
            input_ids,
            attention_mask,
            token_type_ids,
            None,
            None,
            None,
            config.embedding_size,
            config.num_layer_applications,
        )

    with torch.no_grad():
        median, q1, q3 = interleaved_ratio(
            check, lambda: model(input_ids, attention_mask, token_type_ids), args.rounds, (50, 1)
        )
    print(
        f"{args.preset} forward at {args.batch} x {args.seq}: input checks / whole forward = {100 * median:.3f}% "
        f"(quartiles {100 * q1:.3f}-{100 * q3:.3f}%)"
    )


if __name__ == "__main__":
    main()
