"""Speed of one pretraining step (forward, backward, AdamW update) against transformers' ALBERT, in one process.

    python benchmarks/bench_pretrain_step.py [--batch 32] [--seq 64] [--vocab-size 4000] [--device cpu|cuda]
                                             [--threads N]

The model is the default recipe's, the bundled model's shape (`PretrainingConfig()`: E=128, H=128, L=4 shared,
relative positions, V=4000; `--vocab-size` changes V, as `pretrain --vocab-size` does).
Prints milliseconds per step for:
- the reference: transformers' AlbertForPreTraining with its own loss (MLM logits for all T positions), fp32;
- ours, fp32: `PretrainingObjective`, which runs the MLM head on the predicted positions only;
- ours, bf16: the same with bfloat16 autocast (`pretrain --precision bf16`).
and the ratios ours / reference (below 1 means ours is faster). On a CPU, bf16 is fast only where the chip has bf16
instructions (AVX512-BF16, AMX); elsewhere it can be slower than fp32. Numbers vary with the machine and its load;
compare ratios, which are measured side by side.
"""

import argparse
import functools
import tempfile

import torch
import transformers
from torch.utils import benchmark

from albert_explained import AlbertForPreTraining
from albert_explained.device import get_device
from albert_explained.device import autocast
from albert_explained.pretraining import PretrainingConfig
from albert_explained.pretraining.objective import PretrainingObjective


def make_batch(batch: int, seq: int, vocab_size: int, device: str) -> dict:
    """Random pieces, 15% of them to predict, half the pairs swapped: the shape of a real pretraining batch."""
    generator = torch.Generator().manual_seed(0)
    input_ids = torch.randint(5, vocab_size, (batch, seq), generator=generator)  # (B, T), past the special pieces
    labels = torch.full_like(input_ids, -100)  # (B, T): -100 where nothing is predicted
    predicted = torch.rand(batch, seq, generator=generator) < 0.15  # (B, T)
    labels[predicted] = input_ids[predicted]
    token_type_ids = torch.zeros_like(input_ids)  # (B, T): segment A, then B from the middle on
    token_type_ids[:, seq // 2 :] = 1
    sentence_order_label = torch.randint(0, 2, (batch,), generator=generator)  # (B,)
    values = {
        "input_ids": input_ids,
        "attention_mask": torch.ones_like(input_ids),
        "token_type_ids": token_type_ids,
        "labels": labels,
        "sentence_order_label": sentence_order_label,
    }
    return {k: v.to(device) for k, v in values.items()}


def time_steps(loss_of_batch, parameters, label: str) -> float:
    """Median milliseconds per training step (forward, backward, optimizer update)."""
    optimizer = torch.optim.AdamW(parameters, lr=1e-4)

    def step():
        loss_of_batch().backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    timer = benchmark.Timer(stmt="step()", globals={"step": step}, label=label, num_threads=torch.get_num_threads())
    return timer.blocked_autorange(min_run_time=3.0).median * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seq", type=int, default=64)
    parser.add_argument("--vocab-size", type=int, default=PretrainingConfig().vocab_size)
    parser.add_argument("--device", default=str(get_device()))
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="CPU threads for torch")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    recipe = PretrainingConfig(max_seq_length=max(64, args.seq))
    config = recipe.model_config(args.vocab_size)
    ours = AlbertForPreTraining(config)
    with tempfile.TemporaryDirectory() as directory:  # the same weights, through a checkpoint in the reference format
        ours.save_pretrained(directory)
        # eager: transformers falls back to it for relative positions anyway, with a warning on every call
        reference = transformers.AlbertForPreTraining.from_pretrained(directory, attn_implementation="eager")
    ours.to(args.device)
    reference.to(args.device)
    objective = PretrainingObjective(ours)
    batch = make_batch(args.batch, args.seq, config.vocab_size, args.device)

    def reference_loss():
        return reference(**batch).loss

    def our_loss(precision: str):
        with autocast(torch.device(args.device), precision):  # as pretrain() runs a step
            return objective(**batch)["loss"]

    # Same weights, same batch: the losses agree (bf16 to within 1%) before anything is timed. The recipe has no
    # dropout, so the two modes compute the same; the steps are timed in training mode, as pretraining runs them.
    ours.eval()
    reference.eval()
    torch.testing.assert_close(our_loss("fp32"), reference_loss(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(our_loss("bf16"), reference_loss(), rtol=1e-2, atol=1e-2)
    ours.train()
    reference.train()

    print(
        f"pretraining step, default recipe, V={args.vocab_size}, batch {args.batch} x {args.seq} pieces, "
        f"{args.device}, torch {torch.__version__}, transformers {transformers.__version__}, "
        f"{torch.get_num_threads()} threads"
    )
    reference_ms = time_steps(reference_loss, reference.parameters(), "reference")
    print(f"  {'reference, fp32':14s} {reference_ms:8.1f} ms")
    for precision in ("fp32", "bf16"):
        label = f"ours, {precision}"
        ms = time_steps(functools.partial(our_loss, precision), ours.parameters(), label)
        print(f"  {label:14s} {ms:8.1f} ms   ratio ours/reference {ms / reference_ms:.2f}")


if __name__ == "__main__":
    main()
