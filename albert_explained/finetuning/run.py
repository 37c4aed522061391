"""Fine-tuning end to end: a pretrained ALBERT + one task's examples -> a fine-tuned model, scored against a baseline.

The paper's results (GLUE, SQuAD, RACE; section 4.8) all come from the same recipe: put a small head on the
pretrained encoder and train the whole model briefly on labelled examples, with every weight updated. One call,
`finetune(FinetuningConfig(task=...))`, or one command, `albert-explained finetune TASK --output-dir DIR`, does it:

1. Load the model: any ALBERT checkpoint directory (the bundled model by default, or a hub id when online) as the
   task's class (`task.model_class`), its encoder pretrained and its head fresh; or, with `from_scratch`, the same
   architecture with random weights everywhere, to see what pretraining buys.
2. Make the task's examples with the model's own tokenizer (`finetuning/`: train from the training plays,
   validation from the held-out ones) and score the task's simple baseline on the same validation examples.
3. Train the head's own loss (`model(**batch).loss`, with `labels` or start/end positions in the batch) in the loop
   that pretraining uses (`training/loop.py`: AdamW, warm-up then linear decay, clipping, evaluation every
   `eval_every` steps, checkpoints with exact resume, bf16 autocast, DDP under torchrun). Each epoch is the training
   examples shuffled by (seed, epoch), cut into full batches, so a resumed run takes the same batches. Under
   `torchrun --nproc_per_node N -m albert_explained finetune TASK ...` each process takes every N-th batch
   (`--batch-size` is per process) and DDP averages the gradients, so the processes keep identical weights.
4. Write the run directory, which is also a model directory: config.json (with id2label / label2id for the
   classification heads) and model.safetensors, which our `from_pretrained` and transformers' `AlbertFor<Task>`
   load alike, the tokenizer files (so transformers' pipelines run on it), metrics.json (the task, its metric, the
   validation score, the baseline's score and name, steps, wall time, device, precision), a README.md card
   (`card.md` beside this file, filled from metrics.json), log.jsonl and checkpoint.pt (for `--resume`).

What a fine-tuning run scores, and how long it takes, is recorded in docs/results.md, with its command.
"""

from __future__ import annotations

import dataclasses
import json
import random
import string
import sys
import warnings
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Optional

import torch

from ..bundled import bundled_model_dir
from ..config import AlbertConfig
from ..device import resolve_precision
from ..pretraining.card import command_for_card, hardware_description
from ..tokenizer import AlbertTokenizer
from ..tokenizer.albert_tokenizer import VOCAB_FILE
from ..training.checkpoints import CHECKPOINT_NAME
from ..training.loop import (
    LOG_NAME,
    ModelLoss,
    TrainingConfig,
    TrainingLoop,
    UndoIfUntrained,
    claim_output_dir,
    data_fingerprint,
    start_session,
)
from ..files import write_files
from ..weights import CONFIG_NAME, SAFETENSORS_NAME, resolve_checkpoint
from . import get_task
from .task import Encoded, Task, TaskData

METRICS_NAME = "metrics.json"
CARD_NAME = "README.md"
# What a run writes in its output directory: a new run refuses a directory that holds any of them.
RUN_FILES = (CHECKPOINT_NAME, LOG_NAME, CONFIG_NAME, SAFETENSORS_NAME, VOCAB_FILE, METRICS_NAME, CARD_NAME)


@dataclass
class FinetuningConfig(TrainingConfig):
    """Everything a fine-tuning run depends on: the optimisation fields of every training run
    (`training.loop.TrainingConfig`) with fine-tuning's values, and what to fine-tune on what.

    The defaults fine-tune the bundled model for the task's number of steps (`Task.steps`: 300 to 600) of 32
    examples at a peak rate of 1e-3, a few minutes per task on a 2-core CPU (multiple choice runs four sequences per
    example, so each of its steps costs about four times as much)."""

    task: str = "sequence-classification"  # one of TASK_NAMES
    output_dir: str = "runs/finetune"
    # A model directory (config.json, model.safetensors, spiece.model) or a hub id; None: the bundled model.
    model: Optional[str] = None
    from_scratch: bool = False  # the model's architecture with random weights: what pretraining buys
    max_seq_length: int = 64  # T: pieces per example, [CLS] and [SEP] included; at most the model's positions
    train_size: Optional[int] = None  # examples; None: the task's default
    validation_size: Optional[int] = None
    # Optimisation: fine-tuning's values of TrainingConfig's fields (AdamW, a warm-up of a tenth of the steps,
    # clipping at 1.0 are its defaults). A far higher rate than BERT's 2e-5 to 5e-5: the model is tiny and the run
    # short; at 3e-4 only the genre task passed its baseline in 300 steps (docs/results.md).
    learning_rate: float = 1e-3
    steps: Optional[int] = None  # None: the task's default (Task.steps)
    batch_size: int = 32  # per process
    eval_every: int = 100
    eval_batch_size: int = 64
    checkpoint_every: int = 100
    seed: int = 0
    command: str = ""  # the command line that started the run, for the card

    # TrainingConfig's fields that must agree between a checkpoint and the run that resumes it, and fine-tuning's:
    # the task, the starting model and the examples.
    RESUME_FIELDS = TrainingConfig.RESUME_FIELDS + (
        "task",
        "model",
        "from_scratch",
        "max_seq_length",
        "train_size",
        "validation_size",
    )

    @staticmethod
    def comparable(name: str, value: Any) -> Any:
        """The model as one absolute path, the bundled one for None, however it was spelled; a hub id as it is."""
        if name == "model":
            path = bundled_model_dir() if value is None else Path(value)
            return str(path.resolve()) if path.is_dir() else value
        return value

    def __post_init__(self) -> None:
        if self.steps is None:  # before TrainingConfig derives the warm-up from it
            self.steps = get_task(self.task).steps  # (an unknown task is an error that names the task)
        super().__post_init__()

    def check(self) -> None:
        """Errors that name the argument, raised before any work is done (a hub id is looked up by `finetune`)."""
        get_task(self.task)  # an unknown task: an error that lists the tasks
        super().check()
        if self.eval_batch_size < 1:
            raise ValueError(f"eval_batch_size must be a positive integer, got {self.eval_batch_size}")
        for name in ("train_size", "validation_size"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(
                    f"{name} must be a positive integer (or None: the task's default), got {getattr(self, name)}"
                )
        if self.model is not None:
            path = Path(self.model)
            if path.exists() and not path.is_dir():
                raise ValueError(
                    f"model {self.model!r} is a file; give a checkpoint directory holding "
                    f"{CONFIG_NAME}, {SAFETENSORS_NAME} and {VOCAB_FILE}"
                )
            if path.is_dir():
                missing = [name for name in (CONFIG_NAME, VOCAB_FILE) if not (path / name).is_file()]
                if missing:
                    raise ValueError(
                        f"model directory {self.model} has no {' and no '.join(missing)}; give an ALBERT "
                        f"checkpoint directory (a pretraining run's model/, or a fine-tuning run's)"
                    )


def resolve_model_dir(model: Optional[str]) -> Path:
    """The directory of the starting model: the bundled one, a local directory, or a hub id downloaded (weights and
    tokenizer) into huggingface_hub's cache. Offline, a hub id fails within seconds, naming the argument."""
    if model is None:
        return bundled_model_dir()
    try:
        return resolve_checkpoint(model, also=(VOCAB_FILE,))
    except FileNotFoundError as error:  # a path that is not there, and not shaped like a hub id either
        raise FileNotFoundError(f"model {model!r} is not a checkpoint directory: {error}") from error
    except (OSError, ImportError) as error:
        raise type(error)(
            f"model {model!r} is not a local directory and could not be downloaded as a hub id: {error}"
        ) from error


def build_model(task: Task, model_dir: Path, from_scratch: bool, seed: int) -> torch.nn.Module:
    """The task's head on the model in `model_dir`: its encoder pretrained and the head fresh, or (`from_scratch`)
    every weight fresh. The fresh weights are drawn after torch.manual_seed(seed), so a run is repeatable."""
    torch.manual_seed(seed)
    if from_scratch:
        model = task.model_class(AlbertConfig.from_json_file(model_dir / CONFIG_NAME, **task.config_overrides()))
    else:
        with warnings.catch_warnings():
            # A pretraining checkpoint has MLM and SOP heads that a task model leaves out, and no task head: normal.
            warnings.filterwarnings("ignore", message=".*(are not used by this model|keep their fresh initialisation)")
            try:
                model = task.model_class.from_pretrained(model_dir, **task.config_overrides())
            except ValueError as error:  # e.g. a classifier of another number of labels than the task has
                raise ValueError(f"model {model_dir} does not fit the {task.name} task: {error}") from error
        # Only the task's head (and the pooler, which an MLM-only checkpoint has no use for) may be missing: an
        # encoder weight that the checkpoint lacks would train from random values while the card says "pretrained".
        encoder_missing = [
            key for key in model.missing_keys if key.startswith("albert.") and not key.startswith("albert.pooler")
        ]
        if encoder_missing:
            raise ValueError(
                f"model {model_dir} lacks {len(encoder_missing)} of the encoder's weights "
                f"({encoder_missing[0]} first): it is not a pretrained ALBERT. Give a complete checkpoint "
                f"directory, or --from-scratch to train every weight from random values on purpose"
            )
    if model.config.position_embedding_type != "absolute":
        # With relative positions nothing reads the absolute table (kept for the reference's checkpoint format):
        # frozen, as in pretraining, it is left out of the optimizer and out of DDP's gradient averaging.
        model.albert.embeddings.position_embeddings.weight.requires_grad_(False)
    return model


def epoch_batches(train: list[Encoded], batch_size: int, seed: int, epoch: int) -> list[list[Encoded]]:
    """The training examples shuffled by (seed, epoch) and cut into full batches: a pure function of its arguments,
    as the loop's exact resume needs."""
    order = list(train)
    random.Random(f"{seed}/epoch {epoch}").shuffle(order)
    return [order[i : i + batch_size] for i in range(0, len(order) - batch_size + 1, batch_size)]


@dataclass
class FinetuningResult:
    model: torch.nn.Module
    tokenizer: AlbertTokenizer
    task: Task
    data: TaskData
    history: list[dict[str, Any]]
    metrics: dict[str, float]  # the final validation metrics ({} when stopped early on purpose)
    baseline: float  # the task's baseline, in the units of task.metric
    output_dir: Path
    step: int
    summary: dict[str, Any] = field(default_factory=dict)  # metrics.json, when the run finished


def finetune(config: FinetuningConfig) -> FinetuningResult:
    """Run (or resume) a fine-tuning run as described in the module docstring. One run at a time in an output
    directory: a second one is refused and told who holds it (`training.loop.claim_output_dir`)."""
    config.check()
    holder = config.command or "finetune() called from Python"
    with claim_output_dir(Path(config.output_dir), RUN_FILES, config.resume, holder) as undo:
        return _finetune(config, undo)


def _finetune(config: FinetuningConfig, undo: UndoIfUntrained) -> FinetuningResult:
    task = get_task(config.task)
    out = Path(config.output_dir)
    if config.resume and (out / METRICS_NAME).is_file():
        raise ValueError(f"the run in {out} has finished (its {METRICS_NAME} is written): there is nothing to resume")
    model_dir = resolve_model_dir(config.model)
    model_config = AlbertConfig.from_json_file(model_dir / CONFIG_NAME)
    if config.max_seq_length > model_config.max_position_embeddings:
        raise ValueError(
            f"max_seq_length ({config.max_seq_length}) must be at most the model's "
            f"max_position_embeddings ({model_config.max_position_embeddings})"
        )
    session = start_session(config)
    dist, device = session.dist, session.device
    tokenizer = AlbertTokenizer.from_pretrained(model_dir)
    data = task.make_examples(
        tokenizer,
        max_seq_length=config.max_seq_length,
        train_size=config.train_size,
        validation_size=config.validation_size,
        seed=config.seed,
    )
    if len(data.train) < config.batch_size * dist.world_size:
        raise ValueError(
            f"batch_size ({config.batch_size}) times the processes ({dist.world_size}) is more than the "
            f"{len(data.train)} training examples; lower batch_size or raise train_size"
        )
    baseline = task.baseline(data.train, data.validation)
    model = build_model(task, model_dir, config.from_scratch, config.seed).to(device)
    model.train()
    if dist.rank == 0:
        out.mkdir(parents=True, exist_ok=True)
    dist.barrier()
    examples = [[encoded.inputs, encoded.labels] for encoded in data.train]
    loop = TrainingLoop(model, ModelLoss(model), config, session, out, data_fingerprint=data_fingerprint(examples))
    undo.follow(loop.state)
    pad_id = tokenizer.pad_token_id
    metrics = loop.run(
        lambda epoch: epoch_batches(data.train, config.batch_size, config.seed, epoch),
        collate=lambda chunk: task.collate(chunk, pad_id),
        evaluate=lambda: task.evaluate(model, data.validation, config.eval_batch_size, device),
        description=f"fine-tuning {task.name}",
    )
    summary: dict[str, Any] = {}
    if loop.state.step >= config.steps and dist.rank == 0:
        loop.update_clock()
        summary = export_run(model, tokenizer, out, config, task, data, metrics, baseline, loop, model_dir)
    dist.barrier()
    return FinetuningResult(
        model, tokenizer, task, data, loop.state.history, metrics, baseline, out, loop.state.step, summary
    )


def export_run(
    model: torch.nn.Module,
    tokenizer: AlbertTokenizer,
    out: Path,
    config: FinetuningConfig,
    task: Task,
    data: TaskData,
    metrics: dict[str, float],
    baseline: float,
    loop: TrainingLoop,
    model_dir: Path,
) -> dict[str, Any]:
    """The model directory (config.json + model.safetensors, tokenizer files), metrics.json and the card; each file
    written under a temporary name and renamed, so a failure leaves no half file. Returns metrics.json's content."""
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    device, dist = loop.session.device, loop.session.dist
    summary = {
        "task": task.name,
        "question": task.question,
        "metric": task.metric,
        "score": metrics[task.metric],
        "baseline": baseline,
        "baseline_name": task.baseline_name,
        "validation": metrics,
        "model": "bundled" if config.model is None else config.model,
        "model_directory": str(model_dir),
        "from_scratch": config.from_scratch,
        "train_examples": len(data.train),
        "validation_examples": len(data.validation),
        "plays": data.plays,
        "steps": loop.state.step,
        "batch_size": config.batch_size * dist.world_size,
        "wall_time_seconds": round(loop.state.elapsed_seconds, 1),
        "cpu_time_seconds": round(loop.state.cpu_seconds, 1),
        "device": str(device),
        "hardware": hardware_description(device, dist),
        "precision": resolve_precision(config.precision, device),
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "parameters": sum(p.numel() for p in model.parameters()),
        "command": command_for_card(config.command, dist),
        "examples": task.show(model, data.validation[:3], device=device),
        "evaluations": [{"step": r["step"], **r["eval"]} for r in loop.state.history if "eval" in r],
        "training_config": dataclasses.asdict(config),
    }
    card = model_card(summary, type(model).__name__)
    write_files(
        {
            out / METRICS_NAME: lambda f: f.write((json.dumps(summary, indent=2) + "\n").encode("utf-8")),
            out / CARD_NAME: lambda f: f.write(card.encode("utf-8")),
        }
    )
    return summary


def model_card(summary: dict[str, Any], class_name: str) -> str:
    """The README.md of a fine-tuned model (`card.md` filled from its metrics.json)."""
    t = summary["training_config"]
    start = "random weights (--from-scratch)" if summary["from_scratch"] else "the pretrained encoder"
    base = "the bundled albert-tiny-shakespeare" if summary["model"] == "bundled" else f"`{summary['model']}`"
    values = dict(
        name=Path(t["output_dir"]).name,
        task=summary["task"],
        question=summary["question"],
        class_name=class_name,
        base=base,
        start=start,
        metric=summary["metric"],
        score=f"{summary['score']:.1%}",
        baseline=f"{summary['baseline']:.1%}",
        baseline_name=summary["baseline_name"],
        validation=", ".join(f"{k} {v:.1%}" for k, v in summary["validation"].items()),
        train_examples=f"{summary['train_examples']:,}",
        validation_examples=f"{summary['validation_examples']:,}",
        train_plays=len(summary["plays"].get("train", [])),
        validation_plays=", ".join(summary["plays"].get("validation", [])),
        training=(
            f"{summary['steps']:,} steps of {summary['batch_size']} examples, {t['optimizer']} lr "
            f"{t['learning_rate']}, {t['warmup_steps']} warm-up steps then linear decay to 0, matrix products "
            f"in {summary['precision']}"
        ),
        wall_time=f"{summary['wall_time_seconds']:,.0f} s for the whole command (data, training, evaluations)",
        hardware=summary["hardware"],
        torch_version=summary["torch"],
        python_version=summary["python"],
        parameters=f"{summary['parameters']:,}",
        command=summary["command"] or "(called from Python)",
        examples="\n".join(("    " + line).rstrip() for line in summary["examples"].split("\n")),
    )
    template = resources.files(__package__).joinpath("card.md").read_text(encoding="utf-8")
    return string.Template(template).substitute(values)
