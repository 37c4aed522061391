"""Checkpoints of a training run, written atomically and read back for an exact resume.

`checkpoint.pt` holds the model, optimizer and scheduler states, the step, where in
which epoch the run is, the random-number state and the history of losses. It is written to a temporary file and
renamed over the old one, so a crash while writing leaves the previous checkpoint intact. Data for an epoch is a pure
function of (seed, epoch), so a resumed run rebuilds the same batches and skips those already seen. On CPU, a run
stopped at step k and resumed produces exactly the losses of an uninterrupted run (tests check it bit for bit).

A checkpoint is read with `torch.load(weights_only=True)`: tensors, numbers, strings, lists and dicts only, so a file
that asks to run code is refused.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

CHECKPOINT_NAME = "checkpoint.pt"

CHECKPOINT_FORMAT = 1


@dataclass
class TrainingState:
    """Where a run is: optimizer steps done, and the epoch and batch that come next."""

    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)  # one record per step (and per evaluation)
    elapsed_seconds: float = 0.0  # wall time of the run so far, over all its sessions (setup included)
    cpu_seconds: float = 0.0  # CPU time of this process, likewise


def atomic_torch_save(obj: Any, path: Path) -> None:
    """torch.save to a temporary file in the same folder, then rename it over `path`: readers see the old file or
    the new one, never half of one."""
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        torch.save(obj, tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save_checkpoint(path: Path, model: nn.Module, optimizer, scheduler, state: TrainingState,
                    config: Any) -> None:
    atomic_torch_save({
        "format": CHECKPOINT_FORMAT,
        "model_config": model.config.to_dict(),
        "training_config": dataclasses.asdict(config),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "state": dataclasses.asdict(state),
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
    }, path)


def load_checkpoint(path: Path, model: nn.Module, optimizer, scheduler, config: Any) -> TrainingState:
    """Restore a run from `path`; any disagreement with the current config is an error before anything changes."""
    if not path.is_file():
        raise FileNotFoundError(f"cannot resume: no checkpoint at {path}")
    try:
        # weights_only: tensors, numbers, strings, lists and dicts only; a file that asks to run code is refused.
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ValueError(f"{path} is not a readable checkpoint (truncated or corrupt?): {error}") from error
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a pretraining checkpoint of this package (format {CHECKPOINT_FORMAT})")
    saved = checkpoint["training_config"]
    differ = [f"{name}: checkpoint {saved.get(name)!r}, now {getattr(config, name)!r}"
              for name in config.RESUME_FIELDS if saved.get(name) != getattr(config, name)]
    if differ:
        raise ValueError(f"the checkpoint {path} was written by a run with other settings; resume with the same "
                         f"ones or start a new --output-dir. Differences: " + "; ".join(differ))
    ours = model.config.to_dict()
    differ = [f"{k}: checkpoint {v!r}, model {ours.get(k)!r}" for k, v in checkpoint["model_config"].items()
              if ours.get(k) != v]
    if differ:
        raise ValueError(f"the checkpoint {path} does not match the model config: " + "; ".join(differ))
    try:
        model.load_state_dict(checkpoint["model"])
    except RuntimeError as error:
        raise ValueError(f"the weights in {path} do not fit the model: {error}") from error
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    torch.set_rng_state(checkpoint["torch_rng"])
    if checkpoint.get("cuda_rng") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(checkpoint["cuda_rng"])
    return TrainingState(**checkpoint["state"])
