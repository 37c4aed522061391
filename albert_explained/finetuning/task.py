"""What every fine-tuning task gives the training loop: the `Task` record, encoded examples, batching, evaluation.

A task is data plus the few functions that connect it to one head. The loop (shared with pretraining) needs
nothing else:

    task = get_task("question-answering")
    model, tokenizer = load_pretrained(model_class=task.model_class)          # bundled encoder, fresh head
    # (for the classification heads: task.model_class.from_pretrained(directory, **task.config_overrides()))
    data = task.make_examples(tokenizer, max_seq_length=64, train_size=2000, validation_size=400, seed=0)
    for chunk in batches_of(data.train, 32):
        loss = model(**task.collate(chunk, tokenizer.pad_token_id)).loss    # keys = the head's arguments
        ...
    task.evaluate(model, data.validation)      # {"exact_match": 0.61, "f1": 0.70}; task.metric names the score
    task.baseline(data.train, data.validation) # the simple baseline's score, in the same units
    print(task.show(model, data.validation[:3]))

**Encoded examples.** `make_examples` returns `Encoded` examples: the readable example a reader can judge
(`.example`: a passage and its genre, a question and its answer, ...), the model inputs as lists
(`.inputs`: input_ids, token_type_ids, attention_mask, of length T, or C lists of length T for multiple choice)
and the labels under the names of the head's arguments (`.labels`: {"labels": 2}, {"labels": [-100, 0, 1, ...]},
{"start_positions": 9, "end_positions": 12}). Tasks that must map the model's output back to text keep what that
needs: each piece's characters (`offset_mapping`, question answering) or word (`word_ids`, token classification).

**collate** pads a list of them to the longest in the batch: input_ids with the tokenizer's pad id, token types and
attention mask with 0, per-piece labels with -100 (ignored by the loss). Its keys are exactly the keyword
arguments of the task's head, labels included, so `model(**batch).loss` is the loss to minimise. Shapes: (B, T),
or (B, C, T) for multiple choice; labels (B,), (B, T) for token classification; start/end positions (B,).

**Scores** are fractions in [0, 1]: accuracy, entity-level F1, SQuAD's exact match and token F1 (`metrics.py`).
`evaluate` runs the model in eval mode without gradients (under the package's autocast: bf16 on a GPU, fp32 on
a CPU) and puts back the mode it found, so it can be called in the middle of training.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional, Sequence

import torch

from ..checks import IGNORE_INDEX
from ..device import autocast, eval_mode  # the package's one autocast rule (bf16 on a GPU) and eval/train toggle

TASK_NAMES = ("sequence-classification", "token-classification", "question-answering", "multiple-choice")


@dataclass
class Encoded:
    """One example, readable and encoded (see the module docstring)."""

    example: Any  # the readable example: GenreExample, NamesExample, WhoSaysExample or NextLineExample
    inputs: dict[str, list]  # input_ids, token_type_ids, attention_mask: (T,) each, or (C, T) for multiple choice
    labels: dict[str, Any]  # the head's label arguments
    offset_mapping: Optional[list[tuple[int, int]]] = None  # (T,) character spans, question answering
    word_ids: Optional[list[Optional[int]]] = None  # (T,) the word each piece belongs to, token classification


@dataclass
class TaskData:
    """A task's examples: `train` from the 34 training plays, `validation` from the 4 held-out plays."""

    train: list[Encoded]
    validation: list[Encoded]
    plays: dict[str, list[str]] = field(default_factory=dict)  # {"train": [play names], "validation": [...]}


@dataclass(frozen=True)
class Task:
    """One fine-tuning task: which head it trains, how its data is made, batched, scored and shown.

    name: one of TASK_NAMES, the name of the head it trains ("question-answering").
    question: what the model learns to answer, in words ("Who says this line?").
    model_class: the head, e.g. AlbertForQuestionAnswering.
    metric: the key of `evaluate`'s result that is the task's score ("accuracy", "entity_f1", "exact_match").
    id2label: class index -> label name, for the heads with one output per class; None for question answering
        (two outputs per piece, start and end) and multiple choice (one score per choice).
    baseline_name: what the simple baseline does ("always the most frequent genre of the training examples").
    steps: the default length of a run, in optimizer steps of `FinetuningConfig.batch_size` examples: enough for
        the bundled model to pass the baseline clearly, a few minutes on a 2-core CPU (docs/results.md).
    make_examples(tokenizer, max_seq_length=64, train_size=None, validation_size=None, seed=0) -> TaskData
        (None sizes: the task's defaults: a few thousand training examples, so that a default run sees each about
        twice to five times; 400 validation examples).
    collate(examples, pad_id) -> dict[str, Tensor], the head's keyword arguments.
    predict(model, examples, batch_size=64, device=None) -> one readable prediction per example.
    evaluate(model, examples, batch_size=64, device=None) -> {metric: score, ...}.
    baseline(train, validation) -> float: the simple baseline's score on `validation`, in the units of `metric`,
        knowing only `train` (and the validation inputs, never their labels).
    show(model, examples, device=None) -> str: the model's predictions on a few examples, for a reader to judge.
    """

    name: str
    question: str
    model_class: type
    metric: str
    id2label: Optional[dict[int, str]]
    baseline_name: str
    steps: int
    make_examples: Callable[..., TaskData]
    collate: Callable[[Sequence[Encoded], int], dict[str, torch.Tensor]]
    predict: Callable[..., list]
    evaluate: Callable[..., dict[str, float]]
    baseline: Callable[[Sequence[Encoded], Sequence[Encoded]], float]
    show: Callable[..., str]

    def config_overrides(self) -> dict[str, Any]:
        """What the head's config needs on top of the pretrained one: `model_class.from_pretrained(directory,
        **task.config_overrides())`. The classification heads need their labels; question answering keeps
        num_labels = 2 (start and end) and multiple choice has one score per choice whatever num_labels says.
        (label2id is not a field: config.json gets it from id2label when the config is written.)"""
        if self.id2label is None:
            return {}
        return {"num_labels": len(self.id2label), "id2label": dict(self.id2label)}


# --- batching --------------------------------------------------------------------------------------------------------


def collate(examples: Sequence[Encoded], pad_id: int) -> dict[str, torch.Tensor]:
    """Pad encoded examples to the longest in the batch and stack them into the head's keyword arguments.

    Inputs are (T,) lists, or (C, T) for multiple choice, where every example must have the same C. Labels are
    one integer per example (B,) or one per piece (B, T), padded with -100.
    """
    if not examples:
        raise ValueError("collate needs at least one example")
    choices = [len(e.inputs["input_ids"]) if _is_nested(e.inputs["input_ids"]) else None for e in examples]
    if len(set(choices)) > 1:
        first = choices[0]
        other = next(i for i, c in enumerate(choices) if c != first)
        raise ValueError(
            f"examples[{other}] has {choices[other]} choices but examples[0] has {first}; a "
            "multiple-choice batch needs the same number of choices in every example"
        )
    rows_of = {key: [e.inputs[key] for e in examples] for key in examples[0].inputs}
    if choices[0] is not None:
        longest = max(len(row) for rows in rows_of["input_ids"] for row in rows)  # T over every choice
    else:
        longest = max(len(row) for row in rows_of["input_ids"])
    fill = {"input_ids": pad_id, "token_type_ids": 0, "attention_mask": 0}
    batch = {}
    for key, rows in rows_of.items():
        if choices[0] is not None:
            padded = [[_pad(row, longest, fill[key]) for row in example] for example in rows]
            batch[key] = torch.tensor(padded)  # (B, C, T)
        else:
            batch[key] = torch.tensor([_pad(row, longest, fill[key]) for row in rows])  # (B, T)
    for key in examples[0].labels:
        values = [e.labels[key] for e in examples]
        if isinstance(values[0], list):
            batch[key] = torch.tensor([_pad(v, longest, IGNORE_INDEX) for v in values])  # (B, T)
        else:
            batch[key] = torch.tensor(values)  # (B,)
    return batch


def _is_nested(values: list) -> bool:
    return bool(values) and isinstance(values[0], list)


def _pad(row: list[int], length: int, value: int) -> list[int]:
    return row + [value] * (length - len(row))


def batches_of(examples: Sequence[Encoded], batch_size: int) -> Iterator[list[Encoded]]:
    """Consecutive chunks of `batch_size` examples (the last one may be shorter)."""
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    for start in range(0, len(examples), batch_size):
        yield list(examples[start : start + batch_size])


@torch.no_grad()
def model_outputs(
    model: torch.nn.Module, examples: Sequence[Encoded], batch_size: int = 64, device: Optional[torch.device] = None
) -> Iterator[tuple[list[Encoded], Any]]:
    """Run the model over `examples` in eval mode without gradients: (chunk, the head's output) per batch.

    Labels are left out of the inputs, so nothing is computed but the logits. The model's mode is put back after
    the last batch, so evaluation can happen in the middle of training.
    """
    if not examples:
        raise ValueError("there are no examples to run the model on")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    with eval_mode(model):
        for chunk in batches_of(examples, batch_size):
            inputs = {
                key: value.to(device)
                for key, value in collate(chunk, pad_id_of(model)).items()
                if key in chunk[0].inputs
            }
            with autocast(device):
                yield chunk, model(**inputs)


def pad_id_of(model: torch.nn.Module) -> int:
    """The pad id in the model's config (0 for ALBERT). Padding is masked out by the attention mask, so any id would
    give the same outputs on the real pieces; this one keeps the batches equal to training's."""
    pad_id = getattr(model.config, "pad_token_id", None)
    return 0 if pad_id is None else pad_id


# --- sampling --------------------------------------------------------------------------------------------------------


def split_rng(seed: int, split: str) -> random.Random:
    """One random generator per split, so that the validation examples do not change with train_size."""
    return random.Random(f"{seed}/{split}")


def share_out(total: int, groups: int) -> list[int]:
    """`total` items shared as evenly as possible among `groups`: share_out(10, 4) = [3, 3, 2, 2]."""
    return [total // groups + (1 if i < total % groups else 0) for i in range(groups)]


class PieceCounter:
    """How many pieces each line has, asked of the tokenizer only for lines not seen before (tokenizing every line
    of the canon takes seconds; a task needs a few thousand). Pieces never cross whitespace, so a passage of lines
    joined by newlines has the sum of its lines' pieces."""

    def __init__(self, tokenizer: Any):
        self.tokenizer = tokenizer
        self.counts: dict[str, int] = {}

    def __call__(self, lines: Sequence[str]) -> list[int]:
        unknown = list(dict.fromkeys(line for line in lines if line not in self.counts))
        if unknown:
            for line, ids in zip(unknown, self.tokenizer(unknown, add_special_tokens=False)["input_ids"], strict=True):
                self.counts[line] = len(ids)
        return [self.counts[line] for line in lines]


def sample_windows(
    segments: Sequence[Sequence[str]],
    count: int,
    budget: int,
    rng: random.Random,
    count_pieces: PieceCounter,
    make: Callable[[int, int, int], Optional[Any]],
) -> list[Any]:
    """Up to `count` examples made from windows of consecutive lines that share no line.

    A window starts at a random line of a random segment (a scene) and takes as many of the following lines of
    that segment as fit in `budget` pieces. `make(segment, start, end)` turns segments[segment][start:end] into an
    example, or returns None to pass it over (its lines stay free for other windows).
    """
    starts = [(s, i) for s, lines in enumerate(segments) for i in range(len(lines))]
    rng.shuffle(starts)
    used: set[tuple[int, int]] = set()
    made: list[Any] = []
    for segment, start in starts:
        if len(made) == count:
            break
        lines = segments[segment]
        end, total = start, 0
        while end < len(lines) and (segment, end) not in used:
            pieces = count_pieces(lines[end : end + 16])  # a few lines at once; remembered for the next windows
            for n in pieces:
                if total + n > budget or (segment, end) in used:
                    break
                total, end = total + n, end + 1
            else:
                continue
            break
        if end == start:
            continue  # the first line alone is longer than the budget
        example = make(segment, start, end)
        if example is not None:
            made.append(example)
            used.update((segment, i) for i in range(start, end))
    return made


def check_sizes(max_seq_length: int, train_size: int, validation_size: int, smallest: int = 16) -> None:
    """The checks every make_examples does before any work."""
    if not isinstance(max_seq_length, int) or max_seq_length < smallest:
        raise ValueError(f"max_seq_length must be an integer of at least {smallest}, got {max_seq_length!r}")
    for name, size in (("train_size", train_size), ("validation_size", validation_size)):
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"{name} must be a positive integer, got {size!r}")


def check_labels(name: str, values: Sequence[Any], allowed: Sequence[Any]) -> None:
    """Every value must be one of `allowed`; the error names the first example that is not."""
    allowed_set = set(allowed)
    for i, value in enumerate(values):
        if value not in allowed_set:
            raise ValueError(f"examples[{i}].{name} is {value!r}, which is not one of {list(allowed)}")
