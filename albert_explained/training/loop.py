"""The training loop that pretraining and fine-tuning share: steps over epochs of batches, for any objective.

One optimizer step, whatever is being trained:

    batch   = collate(chunk)                           the next batch of this process, as tensors on the device
    outputs = objective(**batch)                       a dict holding "loss" (and other scalars to log)
    loss.backward()                                    under DDP, the gradients are averaged over the processes
    clip the gradients to a global norm of max_grad_norm
    optimizer.step(); scheduler.step()                 LAMB or AdamW; warm-up, then linear decay (optim.py)

Around it, every run gets the same bookkeeping, so that a fine-tuning run is as resumable and as well recorded as a
pretraining run:
- a record per step in `log.jsonl` (step, epoch, learning rate, gradient norm, the logged losses), and one per
  evaluation, kept in `state.history` too;
- an evaluation every `eval_every` steps and once at the end, through the caller's `evaluate()` callback;
- a checkpoint before the first step, every `checkpoint_every` steps and at the last step of a session
  (`checkpoints.py`: written atomically; model, optimizer, scheduler, random-number state, and where in which epoch
  the run is), so a run stopped anywhere (Ctrl-C, a full disk, a kill) resumes from the last one; a new run that
  stops before its first step is done removes what it wrote instead (`UndoIfUntrained`), so the same command, once
  corrected, simply runs again;
- one run at a time in an output directory (`lock_output_dir`, held around the whole run), and a stop, with a clear
  message, at the first step whose loss or gradient norm is NaN or infinite, before that step is logged or
  checkpointed (`run_directory.check_finite`): the last checkpoint keeps the weights from before;
- an exact resume. The batches of an epoch must be a pure function of (seed, epoch): `batches_for_epoch(epoch)`
  rebuilds them, and the loop skips the ones already taken. On CPU, a run stopped at step k and resumed has the
  losses of an uninterrupted run bit for bit;
- `stop_after` (stop at a step, with a checkpoint, and continue later with `resume`), tqdm, bf16 autocast
  (`device.autocast`), and DistributedDataParallel under torchrun (`distributed.py`): process r takes batches
  r, r + W, r + 2W ... of each epoch (W processes), rank 0 alone evaluates and writes, and at the end the loop checks
  that every process holds bit-identical weights.

What the caller provides:

    config              a TrainingConfig (or a dataclass built on it): the optimisation fields below
    model, objective    the model (saved in checkpoints, its parameters optimised) and the nn.Module whose forward
                        takes a batch's tensors as keywords and returns {"loss": ..., other scalars}. For a model
                        that computes its own loss from `labels` (every task head), `ModelLoss(model)`
    batches_for_epoch   epoch -> all of the epoch's batches (lists of examples), the same list on every process
    collate             a list of examples -> dict of tensors (the objective's keyword arguments)
    evaluate            () -> dict of validation metrics, run on rank 0 only

Pretraining (`pretraining/run.py`) is the loop with the MLM + SOP objective and freshly drawn pairs each epoch; a
fine-tuning run is the loop with a task head's own loss, its examples and its metric.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence

import torch
from torch import nn

from ..device import PRECISIONS, autocast
from ..files import append_text, write_text
from .checkpoints import CHECKPOINT_NAME, TrainingState, load_checkpoint, save_checkpoint
from .distributed import Distributed, parameter_checksum, rank_from_environment, setup_distributed
from .optim import make_optimizer, make_scheduler
from .progress import progress_bar
from .run_directory import RunLock, check_finite, check_finite_weights

LOG_NAME = "log.jsonl"
MAX_LEARNING_RATE = 10.0  # far above any rate that trains; above it the optimizer's float arithmetic overflows


@dataclass(kw_only=True)
class TrainingConfig:
    """The fields of a run that the loop reads: optimisation, evaluation and checkpoint cadence, and where it runs.

    `PretrainingConfig` is built on it (and a fine-tuning config is meant to be). The five fields without a default
    are the recipe's own; each config that builds on this one gives them its defaults."""

    optimizer: str = "adamw"  # "lamb" (the paper's) or "adamw"
    learning_rate: float  # the peak, reached at the end of the warm-up
    weight_decay: float = 0.01
    # None: a tenth of the steps, at most 400 (400 for runs of 4,000 steps and more, 2 for a 20-step try).
    warmup_steps: Optional[int] = None
    steps: int  # optimizer steps in all
    batch_size: int  # per process
    max_grad_norm: float = 1.0
    eval_every: int
    checkpoint_every: int
    seed: int = 12345  # Google's default random_seed
    device: Optional[str] = None  # None: GPU if available, else CPU
    # Matrix products in training steps (device.autocast): "auto" (bf16 on GPU, fp32 on CPU), "bf16" or "fp32".
    precision: str = "auto"
    num_threads: Optional[int] = None  # CPU threads for torch (None: torch's default)
    resume: bool = False
    stop_after: Optional[int] = None  # stop (with a checkpoint) once this step is reached, to resume later
    progress: bool = True  # tqdm progress bars

    # Fields that must agree between a checkpoint and the run that resumes it (the others may change: steps to go,
    # evaluation cadence, progress bars...). Changing one of these would not continue the same run. A config built
    # on this one adds its own (the model's shape, the data's recipe).
    RESUME_FIELDS = (
        "optimizer",
        "learning_rate",
        "weight_decay",
        "warmup_steps",
        "steps",
        "batch_size",
        "seed",
        "precision",
    )

    @staticmethod
    def comparable(name: str, value: Any) -> Any:
        """A RESUME_FIELDS setting as a resume compares it with the checkpoint's: a config whose fields name files
        gives two spellings of one path (`corpus` and `./corpus`) the same value here."""
        return value

    def __post_init__(self) -> None:
        # Resolved here, so that checkpoints, metrics.json and cards record the warm-up the run used.
        if self.warmup_steps is None:
            self.warmup_steps = min(400, self.steps // 10)

    def check(self) -> None:
        """Errors that name the argument, raised before any work is done."""
        for name in ("steps", "batch_size", "eval_every", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if not 0 <= self.warmup_steps <= self.steps:
            raise ValueError(f"warmup_steps must be between 0 and steps ({self.steps}), got {self.warmup_steps}")
        for name in ("learning_rate", "max_grad_norm"):  # a negative clipping norm would turn gradients around
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) > 0):
                raise ValueError(f"{name} must be a positive number, got {getattr(self, name)}")
        if self.learning_rate > MAX_LEARNING_RATE:
            raise ValueError(
                f"learning_rate must be at most {MAX_LEARNING_RATE:g} (Adam's and LAMB's useful rates are "
                f"below 0.1), got {self.learning_rate}"
            )
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"weight_decay must be 0 or a positive number, got {self.weight_decay}")
        for name in ("stop_after", "num_threads"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer (or None: no limit), got {getattr(self, name)}")
        cpus = os.cpu_count() or 1
        if self.num_threads is not None and self.num_threads > cpus:  # more threads than CPUs only wait on each other
            raise ValueError(f"num_threads must be at most the number of CPUs here ({cpus}), got {self.num_threads}")
        if not 0 <= self.seed < 2**63:  # within what torch.manual_seed and random.Random take
            raise ValueError(f"seed must be an integer in [0, 2**63), got {self.seed}")
        if str(getattr(self, "output_dir", None)).strip() == "":  # the configs built on this one have an output_dir
            raise ValueError("output_dir must name a directory, got an empty string")
        if self.device is not None:
            try:
                device = torch.device(self.device)
            except RuntimeError:
                raise ValueError(
                    f"device must name a torch device, such as 'cpu', 'cuda' or 'cuda:1', got {self.device!r}"
                ) from None
            if device.type not in ("cpu", "cuda"):  # meta holds no values; others are not supported here
                raise ValueError(f"device must be 'cpu' or a CUDA GPU ('cuda', 'cuda:1', ...), got {self.device!r}")
            if device.type == "cuda" and not torch.cuda.is_available():
                raise ValueError(
                    f"device is {self.device!r}, but PyTorch sees no CUDA GPU here (torch {torch.__version__})"
                )
            if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
                raise ValueError(
                    f"device is {self.device!r}, but PyTorch sees {torch.cuda.device_count()} CUDA "
                    f"GPU(s), numbered from 0"
                )
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")


@dataclass
class Session:
    """This process's part of a run: its place in a torchrun job, its device, and when it started (a run's recorded
    wall and CPU times count from here, so they include the caller's setup: tokenizer, data, model)."""

    dist: Distributed
    device: torch.device
    wall_started: float = field(default_factory=time.time)
    cpu_started: float = field(default_factory=time.process_time)


def start_session(config: TrainingConfig) -> Session:
    """The first thing a run does: start the clock, join torchrun's process group if there is one, pick the device
    (config.device, else the GPU when there is one) and the number of CPU threads."""
    wall_started, cpu_started = time.time(), time.process_time()
    dist, device = setup_distributed(config.device)
    if config.num_threads is not None:
        torch.set_num_threads(config.num_threads)
    return Session(dist, device, wall_started, cpu_started)


def lock_output_dir(output_dir: Path, holder: str) -> RunLock:
    """The lock a run holds on its output directory while it works there (`with lock_output_dir(...): ...`), so that
    a second run started on it is refused at once and told who holds it (`run_directory.RunLock`). Under torchrun,
    rank 0 holds it for every process of the run. Taken before `check_output_dir`, so that two runs cannot both find
    the directory free."""
    if output_dir.exists() and not output_dir.is_dir():
        raise ValueError(f"output_dir {output_dir} is a file; it must be a directory (made if missing)")
    return RunLock(output_dir, holder=holder, enabled=rank_from_environment() == 0)


def data_fingerprint(data: Any) -> str:
    """A short hash of a run's training data, given as what json can write (lists, dicts, strings, numbers)."""
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode("utf-8")).hexdigest()[:16]


class UndoIfUntrained:
    """Around a new run, from the moment `check_output_dir` found its directory free: if the run stops (an error,
    Ctrl-C) before its first training step is done, the files it wrote there (`run_files`: the checkpoint of step 0,
    a tokenizer, the log) are removed, so that the same command, corrected, simply runs again instead of asking for
    --resume. Once a step is done (`follow(loop.state)` tells it how far the run is), every file stays and the run
    is resumable. A resumed run, and every process but rank 0, removes nothing. (A run killed outright cannot clean
    up; `check_output_dir` then says what is left and that it can be deleted.)"""

    def __init__(self, output_dir: Path, run_files: Sequence[str], resume: bool):
        self.output_dir, self.run_files = Path(output_dir), run_files
        self.enabled = not resume and rank_from_environment() == 0
        self.state: Optional[TrainingState] = None

    def follow(self, state: TrainingState) -> None:
        self.state = state

    def __enter__(self) -> "UndoIfUntrained":
        return self

    def __exit__(self, error_type, error, traceback) -> None:
        if error_type is None or not self.enabled or (self.state is not None and self.state.step > 0):
            return
        for name in self.run_files:
            path = self.output_dir / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        if issubclass(error_type, KeyboardInterrupt):
            raise KeyboardInterrupt(
                f"interrupted before the first training step; what the run had written in "
                f"{self.output_dir} is removed, so the same command starts it again"
            ) from None


def check_output_dir(output_dir: Path, resume: bool, run_files: Sequence[str]) -> None:
    """Refuse to touch an earlier run by accident, and refuse to resume what is not there, before any work.

    `run_files` are the names a run writes in its directory: a new run refuses a directory that holds any of them,
    since even without a checkpoint it would mix with them (an old tokenizer, a log of two runs)."""
    if output_dir.exists() and not output_dir.is_dir():
        raise ValueError(f"output_dir {output_dir} is a file; it must be a directory (made if missing)")
    leftovers = [name for name in run_files if (output_dir / name).exists()]
    checkpoint = output_dir / CHECKPOINT_NAME
    if resume and checkpoint.exists() and not checkpoint.is_file():
        raise ValueError(
            f"cannot resume: {checkpoint} is not a regular file (a pipe, a device or a directory); a checkpoint is one"
        )
    if resume and not checkpoint.is_file():
        stopped = (
            f"; {output_dir} holds a run stopped before its first checkpoint ({', '.join(leftovers)}): "
            f"delete it to start again"
            if leftovers
            else ""
        )
        raise FileNotFoundError(f"cannot resume: no checkpoint at {output_dir / CHECKPOINT_NAME}{stopped}")
    if not resume and leftovers:
        raise FileExistsError(
            f"{output_dir} already holds (part of) a run: {', '.join(leftovers)}; pass --resume to "
            f"continue it, or choose another --output-dir (or delete it to start again)"
        )


@contextmanager
def claim_output_dir(
    output_dir: Path, run_files: Sequence[str], resume: bool, holder: str
) -> Iterator[UndoIfUntrained]:
    """What a run holds of its output directory while it works there, in order: the lock (`lock_output_dir`), the
    check that a new run finds no earlier one and a resumed run its checkpoint (`check_output_dir`), and the undoing
    of a new run that stops before its first step (`UndoIfUntrained`, yielded for the run to `follow`)."""
    with lock_output_dir(output_dir, holder):
        check_output_dir(output_dir, resume, run_files)
        with UndoIfUntrained(output_dir, run_files, resume) as undo:
            yield undo


class ModelLoss(nn.Module):
    """The objective of a model that computes its own loss when given `labels` (the four task heads, or
    AlbertForPreTraining): {"loss": model(**batch).loss}. A module, so that DDP can wrap it."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, **batch: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"loss": self.model(**batch).loss}


class TrainingLoop:
    """One run's optimizer, schedule, state and files; `run()` trains.

    Made after the model: it builds the optimizer and the schedule for the model's trainable parameters (a
    parameter with requires_grad=False is neither optimised nor, under DDP, waited for), and when `config.resume`
    is set, restores all of them and `state` from the checkpoint in `output_dir`, after checking that the checkpoint
    was written by a run with the same RESUME_FIELDS. Nothing is written before `run()`.

    `write_checkpoint` is the function that saves a checkpoint (`checkpoints.save_checkpoint`'s arguments); rank 0
    alone calls it. `data_fingerprint` (`data_fingerprint(...)` of the training data) goes into every checkpoint, and
    a resume whose data gives another one is refused: the same path can hold other text by then.
    """

    def __init__(
        self,
        model: nn.Module,
        objective: nn.Module,
        config: TrainingConfig,
        session: Session,
        output_dir: Path,
        write_checkpoint: Callable[..., None] = save_checkpoint,
        data_fingerprint: str = "",
    ):
        self.model, self.config, self.session = model, config, session
        self.output_dir = Path(output_dir)
        self.write_checkpoint = write_checkpoint
        dist, device = session.dist, session.device
        self.objective = objective
        if dist.enabled:
            self.objective = nn.parallel.DistributedDataParallel(
                objective, device_ids=[device] if device.type == "cuda" else None
            )
        self.optimizer = make_optimizer(model, config.optimizer, config.learning_rate, config.weight_decay)
        self.scheduler = make_scheduler(self.optimizer, config.warmup_steps, config.steps)
        self.state = TrainingState()
        if config.resume:
            self.state = load_checkpoint(
                self.output_dir / CHECKPOINT_NAME, model, self.optimizer, self.scheduler, config
            )
            if self.state.processes != dist.world_size:  # the batches, and so the run, would not be the same
                raise ValueError(
                    f"the checkpoint {self.output_dir / CHECKPOINT_NAME} was written by a run of "
                    f"{self.state.processes} process(es); resume it with as many (torchrun "
                    f"--nproc-per-node {self.state.processes}), not {dist.world_size}"
                )
            if self.state.step > config.steps:  # steps must agree (RESUME_FIELDS): only damage puts the step past it
                raise ValueError(
                    f"{self.output_dir / CHECKPOINT_NAME} is damaged and cannot be resumed from: its "
                    f"state.step ({self.state.step}) is past the run's {config.steps} steps"
                )
            saved = self.state.data_fingerprint
            if saved and data_fingerprint and saved != data_fingerprint:  # "": a run that recorded none
                raise ValueError(
                    f"the training data has changed since {self.output_dir / CHECKPOINT_NAME} was "
                    f"written (the corpus, or the tokenizer that encodes it): resuming would go on "
                    f"with other data. Restore the data the run started with, or start a new run in "
                    f"another --output-dir"
                )
        self.state.processes = dist.world_size
        self.state.data_fingerprint = data_fingerprint
        self._earlier_seconds = self.state.elapsed_seconds, self.state.cpu_seconds  # of earlier sessions

    def update_clock(self) -> None:
        """The run's wall and CPU time so far, over all its sessions (setup included), into `state`."""
        wall, cpu = self._earlier_seconds
        self.state.elapsed_seconds = wall + time.time() - self.session.wall_started
        self.state.cpu_seconds = cpu + time.process_time() - self.session.cpu_started

    def log(self, record: dict[str, Any]) -> None:
        """Keep a record in `state.history` and, on rank 0, append it to log.jsonl."""
        self.state.history.append(record)
        if self.session.dist.rank == 0:
            append_text(self.output_dir / LOG_NAME, json.dumps(record) + "\n")

    def checkpoint(self) -> None:
        self.update_clock()
        if self.session.dist.rank == 0:
            self.write_checkpoint(
                self.output_dir / CHECKPOINT_NAME, self.model, self.optimizer, self.scheduler, self.state, self.config
            )
        self.session.dist.barrier()

    def evaluate(self, evaluate: Callable[[], dict[str, float]]) -> dict[str, float]:
        """`evaluate()` on rank 0, logged as {"step", "eval"}; the other processes wait for it (and get {})."""
        metrics = {}
        if self.session.dist.rank == 0:
            metrics = evaluate()
            self.log({"step": self.state.step, "eval": metrics})
        self.session.dist.barrier()
        return metrics

    def run(
        self,
        batches_for_epoch: Callable[[int], list[list[Any]]],
        collate: Callable[[list[Any]], dict],
        evaluate: Callable[[], dict[str, float]],
        log_keys: Sequence[str] = ("loss",),
        description: str = "training",
    ) -> dict[str, float]:
        """Train from `state` to `config.steps` (or `stop_after`); return the final evaluation's metrics, or {} when
        stopped early on purpose (or on a process other than rank 0).

        `log_keys` are the entries of the objective's output that each step's record holds (averaged over the
        processes); `description` labels the progress bar."""
        config, dist, device = self.config, self.session.dist, self.session.device
        state, model = self.state, self.model
        for record in state.history:  # a restored history must hold what this run logs, or its export would fail
            missing = [key for key in log_keys if "eval" not in record and key not in record]
            if missing:
                raise ValueError(
                    f"{self.output_dir / CHECKPOINT_NAME} is damaged and cannot be resumed from: the "
                    f"record of step {record['step']} in state.history has no {', '.join(missing)}"
                )
        if config.resume and dist.rank == 0:
            # The log may hold steps taken after the checkpoint (a run stopped between two checkpoints takes them
            # again now): it restarts from the history the checkpoint kept, so that each step is logged once.
            write_text(self.output_dir / LOG_NAME, "".join(json.dumps(record) + "\n" for record in state.history))
        stop = min(config.steps, config.stop_after or config.steps)
        if state.step == 0:
            self.checkpoint()  # from here on, a run stopped in any way (Ctrl-C, a full disk, a kill) can be resumed
        bar = progress_bar(
            None,
            config.progress and dist.rank == 0,
            total=stop,
            initial=state.step,
            desc=description,
            dynamic_ncols=True,
        )
        while state.step < stop:
            every_batch = batches_for_epoch(state.epoch)
            mine = dist.shard(every_batch)
            if not mine:
                raise ValueError(
                    f"epoch {state.epoch} gives {len(every_batch)} batches of {config.batch_size}, fewer "
                    f"than one batch per process ({dist.world_size}); lower batch_size or use more "
                    f"data"
                )
            if state.batch_in_epoch > len(mine):  # only a damaged checkpoint says so: the run would skip an epoch
                raise ValueError(
                    f"{self.output_dir / CHECKPOINT_NAME} is damaged and cannot be resumed from: "
                    f"state.batch_in_epoch is {state.batch_in_epoch}, but epoch {state.epoch} has "
                    f"{len(mine)} batches per process"
                )
            for chunk in mine[state.batch_in_epoch :]:
                batch = {k: v.to(device) for k, v in collate(chunk).items()}
                with autocast(device, config.precision):
                    outputs = self.objective(**batch)
                loss = outputs["loss"]
                loss.backward()
                grad_norm = nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
                lr = self.scheduler.get_last_lr()[0]
                self.optimizer.step()
                self.scheduler.step()
                self.optimizer.zero_grad(set_to_none=True)
                state.step += 1
                state.batch_in_epoch += 1
                record = {"step": state.step, "epoch": state.epoch, "lr": lr, "grad_norm": grad_norm.item()}
                for key in log_keys:
                    record[key] = dist.mean(outputs[key].item(), device)
                check_finite(record, state.step)  # before the step is logged, checkpointed or exported
                self.log(record)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix({key.removesuffix("_loss"): f"{record[key]:.3f}" for key in log_keys})
                if state.step % config.eval_every == 0 and state.step < config.steps:
                    self.evaluate(evaluate)
                if state.step % config.checkpoint_every == 0 or state.step == stop:
                    check_finite_weights(model, state.step)  # the loss above was computed before this update
                    self.checkpoint()
                if state.step >= stop:
                    break
            else:  # the epoch ran to its end: the next one starts from its first batch
                state.epoch += 1
                state.batch_in_epoch = 0
        if bar is not None:
            bar.close()
        if dist.enabled:
            # DDP's promise: identical gradients on every process, hence identical weights. Check it, and log it.
            checksums = dist.gather(parameter_checksum(model))
            self.log({"step": state.step, "replica_checksums": checksums})
            if len(set(checksums)) != 1:
                raise RuntimeError(f"the processes' weights differ after {state.step} steps: {checksums}")
        return self.evaluate(evaluate) if state.step >= config.steps else {}
