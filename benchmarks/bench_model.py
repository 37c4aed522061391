"""Forward-pass speed of our ALBERT against transformers' ALBERT, same weights, same inputs, one process.

    python benchmarks/bench_model.py [--preset albert-base-v2] [--batch 8] [--seq 128] [--device cpu|cuda]

Prints milliseconds per forward pass for: the reference (its default SDPA attention), ours with SDPA, ours with the
step-by-step eager path, and the ratios ours / reference (below 1 means ours is faster). Numbers vary with the
machine and its load; compare ratios, which are measured side by side.
"""

import argparse
import warnings

import torch
import transformers
from torch.utils import benchmark

from albert_explained import AlbertConfig, AlbertModel
from albert_explained.device import get_device


def time_forward(model: torch.nn.Module, inputs: dict, label: str) -> float:
    """Median milliseconds per forward pass (torch.utils.benchmark handles warm-up and CUDA synchronisation)."""
    timer = benchmark.Timer(stmt="model(**inputs)", globals={"model": model, "inputs": inputs}, label=label,
                            num_threads=torch.get_num_threads())  # the Timer runs on 1 thread unless told
    with torch.inference_mode():
        return timer.blocked_autorange(min_run_time=2.0).median * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="albert-base-v2")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--device", default=str(get_device()))
    args = parser.parse_args()

    config = AlbertConfig.from_preset(args.preset)
    ours = AlbertModel(config).eval().to(args.device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = transformers.AlbertModel(transformers.AlbertConfig(**ALBERT_FIELDS(config))).eval()
    reference.load_state_dict(ours.state_dict())
    reference.to(args.device)
    eager = AlbertModel(config.replace(attn_implementation="eager")).eval().to(args.device)
    eager.load_state_dict(ours.state_dict())

    input_ids = torch.randint(5, config.vocab_size, (args.batch, args.seq), device=args.device)
    attention_mask = torch.ones_like(input_ids)
    attention_mask[: args.batch // 2, args.seq * 3 // 4:] = 0  # half the batch padded, as in real batches
    inputs = {"input_ids": input_ids, "attention_mask": attention_mask}

    with torch.inference_mode():  # the three agree before we time them
        expected = reference(**inputs).last_hidden_state
        torch.testing.assert_close(ours(**inputs).last_hidden_state, expected, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(eager(**inputs).last_hidden_state, expected, atol=1e-4, rtol=1e-4)

    print(f"{args.preset}, batch {args.batch} x {args.seq} tokens, {args.device}, torch {torch.__version__}, "
          f"transformers {transformers.__version__}, {torch.get_num_threads()} threads")
    ref_ms = time_forward(reference, inputs, "reference")
    for label, model in (("ours, sdpa", ours), ("ours, eager", eager)):
        ms = time_forward(model, inputs, label)
        print(f"  {label:12s} {ms:8.1f} ms   ratio ours/reference {ms / ref_ms:.2f}")
    print(f"  {'reference':12s} {ref_ms:8.1f} ms")


def ALBERT_FIELDS(config: AlbertConfig) -> dict:
    """The config as keyword arguments for transformers.AlbertConfig."""
    return {k: v for k, v in config.to_dict().items() if k not in ("sharing", "id2label", "label2id", "model_type")}


if __name__ == "__main__":
    main()
