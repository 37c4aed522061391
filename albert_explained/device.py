"""One place that decides where tensors live, and in which precision the matrix products of training run.

Every notebook and the training loop call `get_device()`, so the same code runs on a laptop and on a CUDA machine:
the GPU when PyTorch sees one, the CPU otherwise. `autocast` turns on bfloat16 matrix products for a precision of
"bf16" (or "auto" on a GPU). `eval_mode` runs a model for measuring, whatever mode it was in.
"""

from contextlib import contextmanager
from typing import Iterator

import torch


def get_device() -> torch.device:
    """CUDA device 0 when available, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


PRECISIONS = ("auto", "bf16", "fp32")


def resolve_precision(precision: str, device: torch.device) -> str:
    """The precision a run uses: "auto" is bf16 on GPU and fp32 on CPU; "bf16" and "fp32" are themselves."""
    if precision == "auto":
        return "bf16" if device.type == "cuda" else "fp32"
    return precision


def autocast(device: torch.device, precision: str = "auto"):
    """bfloat16 autocast when `precision` resolves to bf16: matrix products in bf16, while weights, optimizer state,
    softmaxes, layer norms and losses stay in fp32.

    "auto" turns it on for GPUs only. On a CPU it depends on the chip: one with bf16 instructions (AVX512-BF16, AMX)
    runs the default recipe's steps faster in bf16 (`benchmarks/bench_pretrain_step.py` measures it; docs/results.md,
    "bf16 on a CPU", has a run), one without them must convert to fp32 and back, and can be slower than fp32.
    `--precision bf16` is the way to ask for it on CPU. Evaluation always runs "auto", so a CPU run's validation
    figures can be measured again on any CPU."""
    return torch.autocast(
        device_type=device.type, dtype=torch.bfloat16, enabled=resolve_precision(precision, device) == "bf16"
    )


@contextmanager
def eval_mode(model: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """Dropout off while the block runs, then the mode the model was in put back (even after an error), so that an
    evaluation or a view can run in the middle of training. Gradients are untouched: add `torch.no_grad()` where
    none are needed (head importance needs them)."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)
