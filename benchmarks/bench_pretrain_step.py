"""Speed of one pretraining step (forward, backward, AdamW update) against transformers' ALBERT, in one process.

    python benchmarks/bench_pretrain_step.py [--batch 32] [--seq 64] [--device cpu|cuda] [--threads N]

The model is the bundled recipe's (`PretrainingConfig()`: E=128, H=128, L=4 shared, relative positions, V=4000).
Prints milliseconds per step for:
- the reference: transformers' AlbertForPreTraining with its own loss (MLM logits for all T positions), fp32;
- ours, fp32: `PretrainingObjective`, which runs the MLM head on the predicted positions only;
- ours, bf16: the same with bfloat16 autocast (`pretrain --precision bf16`).
and the ratios ours / reference (below 1 means ours is faster). On a CPU, bf16 is fast only where the chip has bf16
instructions (AVX512-BF16, AMX); elsewhere it is emulated and slower than fp32. Numbers vary with the machine and its
load; compare ratios, which are measured side by side.
"""

import argparse
import functools
import warnings

import torch
import transformers
from torch.utils import benchmark

from albert_explained import AlbertForPreTraining
from albert_explained.device import get_device
from albert_explained.pretrain import PretrainingConfig, PretrainingObjective, autocast


def make_batch(batch: int, seq: int, vocab_size: int, device: str) -> dict:
    """Random pieces, 15% of them to predict, half the pairs swapped: the shape of a real pretraining batch."""
    generator = torch.Generator().manual_seed(0)
    input_ids = torch.randint(5, vocab_size, (batch, seq), generator=generator)
    labels = torch.full_like(input_ids, -100)
    predicted = torch.rand(batch, seq, generator=generator) < 0.15
    labels[predicted] = input_ids[predicted]
    token_type_ids = torch.zeros_like(input_ids)
    token_type_ids[:, seq // 2:] = 1
    values = {"input_ids": input_ids, "attention_mask": torch.ones_like(input_ids), "token_type_ids": token_type_ids,
              "labels": labels, "sentence_order_label": torch.randint(0, 2, (batch,), generator=generator)}
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
    parser.add_argument("--device", default=str(get_device()))
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="CPU threads for torch")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    recipe = PretrainingConfig(max_seq_length=max(64, args.seq))
    config = recipe.model_config(recipe.vocab_size)
    ours = AlbertForPreTraining(config).to(args.device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fields = {k: v for k, v in config.to_dict().items() if k not in ("sharing", "id2label", "label2id")}
        # eager: what transformers falls back to, with a warning on every call, for relative positions anyway
        fields["attn_implementation"] = "eager"
        reference = transformers.AlbertForPreTraining(transformers.AlbertConfig(**fields))
    reference.load_state_dict(ours.state_dict())
    reference.to(args.device)
    objective = PretrainingObjective(ours)
    batch = make_batch(args.batch, args.seq, config.vocab_size, args.device)

    def reference_loss():
        return reference(**batch).loss

    def our_loss(precision: str):
        with autocast(torch.device(args.device), precision):  # as pretrain() runs a step
            return objective(**batch)["loss"]

    # Same weights, same batch: without dropout the losses agree (bf16 to within 1%) before
    # anything is timed. The steps are timed in training mode, dropout included, as pretraining runs them.
    ours.eval()
    reference.eval()
    torch.testing.assert_close(our_loss("fp32"), reference_loss(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(our_loss("bf16"), reference_loss(), rtol=1e-2, atol=1e-2)
    ours.train()
    reference.train()

    print(f"pretraining step, bundled recipe, batch {args.batch} x {args.seq} pieces, {args.device}, "
          f"torch {torch.__version__}, transformers {transformers.__version__}, {torch.get_num_threads()} threads")
    reference_ms = time_steps(reference_loss, reference.parameters(), "reference")
    print(f"  {'reference, fp32':14s} {reference_ms:8.1f} ms")
    for precision in ("fp32", "bf16"):
        label = f"ours, {precision}"
        ms = time_steps(functools.partial(our_loss, precision), ours.parameters(), label)
        print(f"  {label:14s} {ms:8.1f} ms   ratio ours/reference {ms / reference_ms:.2f}")


if __name__ == "__main__":
    main()
