"""Checkpoints of a training run, written atomically and read back for an exact resume.

`checkpoint.pt` holds the model, optimizer and scheduler states, the step, where in
which epoch the run is, the random-number state and the history of losses. It is written by `files.write_file`: to a
hidden file, renamed over the old one once complete, so a kill, a full disk or Ctrl-C while writing leaves the previous
checkpoint intact (and the next checkpoint removes what a killed one left behind). Data for an epoch is a pure
function of (seed, epoch), so a resumed run rebuilds the same batches and skips those already seen. On CPU, a run
stopped at step k and resumed produces exactly the losses of an uninterrupted run (tests check it bit for bit).

A checkpoint is read with `torch.load(weights_only=True)`: tensors, numbers, strings, lists and dicts only, so a file
that asks to run code is refused. Everything in it is checked before the run changes: every entry present, the
settings and the model's config those of this run, the weights floating point and finite; any problem is a
ValueError that names the file.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import torch
from torch import nn

from ..files import write_file
from ..weights import check_weight_values, explain_load_error

CHECKPOINT_NAME = "checkpoint.pt"

CHECKPOINT_FORMAT = 1


@dataclass
class TrainingState:
    """Where a run is: optimizer steps done, and the epoch and batch that come next."""

    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0  # batches of this epoch taken by each process
    processes: int = 1  # processes training together (torchrun's world size), each taking its share of the batches
    history: list[dict[str, Any]] = field(default_factory=list)  # one record per step (and per evaluation)
    elapsed_seconds: float = 0.0  # wall time of the run so far, over all its sessions (setup included)
    cpu_seconds: float = 0.0  # CPU time of this process, likewise
    data_fingerprint: str = ""  # loop.data_fingerprint of the training data ("": not recorded)


def atomic_torch_save(obj: Any, path: Path) -> None:
    """torch.save through `files.write_file`: readers see the old file or the new one, never half of one."""
    write_file(path, lambda f: torch.save(obj, f))


def save_checkpoint(path: Path, model: nn.Module, optimizer, scheduler, state: TrainingState, config: Any) -> None:
    atomic_torch_save(
        {
            "format": CHECKPOINT_FORMAT,
            "model_config": model.config.to_dict(),
            "training_config": dataclasses.asdict(config),
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "state": dataclasses.asdict(state),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
        },
        path,
    )


CHECKPOINT_ENTRIES = (
    "format",
    "model_config",
    "training_config",
    "model",
    "optimizer",
    "scheduler",
    "state",
    "torch_rng",
    "cuda_rng",
)


def read_checkpoint(path: Path) -> dict[str, Any]:
    """The contents of a checkpoint file, read safely; an error that names the file if it is not one of ours."""
    if not path.is_file():
        raise FileNotFoundError(f"cannot resume: no checkpoint at {path}")
    try:
        # weights_only: tensors, numbers, strings, lists and dicts only; a file that asks to run code is refused.
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ValueError(f"{path} is not a readable checkpoint: {explain_load_error(error)}") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a pretraining checkpoint of this package (format {CHECKPOINT_FORMAT})")
    missing = [entry for entry in CHECKPOINT_ENTRIES if entry not in checkpoint]
    if missing:
        raise ValueError(f"{path} is not a complete checkpoint: it has no {', '.join(missing)}")
    for entry in ("model_config", "training_config", "model", "optimizer", "scheduler", "state"):
        if not isinstance(checkpoint[entry], dict):
            raise ValueError(
                f"{path} is damaged and cannot be resumed from: its {entry} must be a dict, got "
                f"{type(checkpoint[entry]).__name__}"
            )
    return checkpoint


def last_checkpoint_step(directory: Path) -> Optional[int]:
    """The step of the checkpoint in a run directory, or None when it has no readable one."""
    try:
        return int(read_checkpoint(directory / CHECKPOINT_NAME)["state"]["step"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def check_state(state: TrainingState) -> None:
    """A ValueError naming the first field of a restored TrainingState that no run could have written: the counters
    are integers >= 0 (the processes >= 1), the clocks finite numbers, the fingerprint a string, the history a list
    of records (dicts)."""
    for name, least in (("step", 0), ("epoch", 0), ("batch_in_epoch", 0), ("processes", 1)):
        value = getattr(state, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"state.{name} must be an integer >= {least}, got {value!r}")
    for name in ("elapsed_seconds", "cpu_seconds"):  # may be negative: the wall clock can be set back mid-run
        value = getattr(state, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"state.{name} must be a finite number of seconds, got {value!r}")
    if not isinstance(state.data_fingerprint, str):
        raise ValueError(f"state.data_fingerprint must be a string, got {state.data_fingerprint!r}")
    if not isinstance(state.history, list) or not all(isinstance(record, dict) for record in state.history):
        raise ValueError(f"state.history must be a list of records (dicts), got {type(state.history).__name__}")
    for record in state.history:
        step = record.get("step")
        if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= state.step:
            raise ValueError(
                f"state.history holds a record whose step is not an integer in [0, {state.step}]: {str(record)[:80]}"
            )


def check_optimizer_state(optimizer: torch.optim.Optimizer) -> None:
    """A ValueError if a restored optimizer could not take a step: a hyperparameter that is not a number, or a moment
    tensor whose shape is not its parameter's (torch would fail inside the update, or broadcast silently)."""
    for group in optimizer.param_groups:
        for name in ("lr", "weight_decay"):
            value = group.get(name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"the optimizer's {name} must be a finite number, got {value!r}")
        for parameter in group["params"]:
            for name, value in optimizer.state.get(parameter, {}).items():
                if isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape != parameter.shape:
                    raise ValueError(
                        f"the optimizer's {name} has shape {tuple(value.shape)} for a parameter of shape "
                        f"{tuple(parameter.shape)}"
                    )


def load_checkpoint(path: Path, model: nn.Module, optimizer, scheduler, config: Any) -> TrainingState:
    """Restore a run from `path`; any disagreement with the current config is an error before anything changes."""
    checkpoint = read_checkpoint(path)
    saved = checkpoint["training_config"]
    differ = [
        f"{name}: checkpoint {saved.get(name)!r}, now {getattr(config, name)!r}"
        for name in config.RESUME_FIELDS
        if config.comparable(name, saved.get(name)) != config.comparable(name, getattr(config, name))
    ]
    if differ:
        raise ValueError(
            f"the checkpoint {path} was written by a run with other settings; resume with the same "
            f"ones or start a new --output-dir. Differences: " + "; ".join(differ)
        )
    ours = model.config.to_dict()
    differ = [
        f"{k}: checkpoint {v!r}, model {ours.get(k)!r}"
        for k, v in checkpoint["model_config"].items()
        if ours.get(k) != v
    ]
    if differ:
        raise ValueError(
            f"the checkpoint {path} does not match the model built now (was the run's tokenizer or "
            f"config replaced since?): " + "; ".join(differ)
        )
    check_weight_values(checkpoint["model"], path)
    # Each restore below checks its own part; any of them failing means the file is damaged, not the run.
    try:
        state = TrainingState(**checkpoint["state"])
        check_state(state)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        check_optimizer_state(optimizer)
        scheduler.load_state_dict(checkpoint["scheduler"])
        torch.set_rng_state(checkpoint["torch_rng"])
        if checkpoint["cuda_rng"] is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(checkpoint["cuda_rng"])
    except (RuntimeError, ValueError, TypeError, KeyError) as error:
        raise ValueError(f"{path} is damaged and cannot be resumed from: {error}") from error
    return state
