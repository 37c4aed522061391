"""Multiple choice: a line of a speech, and four candidates for the line that follows it; one is the real one.

SWAG (and RACE, which the ALBERT paper reports) give a context and C candidate endings. Each candidate becomes its
own sequence [CLS] context [SEP] candidate [SEP]; the model scores each from its pooled [CLS] vector, and a
softmax over the C scores picks one:

    input_ids (B, C, T) -> fold to (B*C, T) -> pooled (B*C, H) -> one score each (B*C, 1) -> logits (B, C)

Here the context is one printed line of a speech and the right candidate is the speech's next line:

    For this relief much thanks: 'tis bitter cold,
      A) Not a mouse stirring.                  <- another scene
      B) And I am sick at heart.                <- the next line
      C) ...

The three wrong candidates are lines of the same play, from other scenes, that themselves follow another line of
their speech. Same play, so the names, the vocabulary and the style give nothing away; other scenes, so no wrong
candidate is a neighbour of the right one; lines that follow a line, like the right candidate, so none stands
out as the opening of a speech. What is left is what SWAG asks: which continuation makes sense, in grammar
("cold," wants a clause; "And" continues one), metre, rhyme and meaning. A reader checks each label against the
play.

Score: accuracy. Baseline: chance, 1 / C = 1/4.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

import torch

from ..task_heads import AlbertForMultipleChoice
from .metrics import accuracy
from .plays import Play, load_plays, split_plays
from .task import Encoded, PieceCounter, Task, TaskData, check_sizes, collate, model_outputs, share_out, split_rng

NUM_CHOICES = 4
TRAIN_SIZE, VALIDATION_SIZE = 6000, 400
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class NextLineExample:
    line: str  # a line of a speech
    endings: tuple[str, ...]  # candidates for the line that follows it
    label: int  # the position of the real next line in endings
    play: str


def play_examples(
    play: Play, count: int, max_seq_length: int, rng: Any, count_pieces: PieceCounter
) -> list[NextLineExample]:
    """`count` examples from the pairs of consecutive lines of `play`'s speeches (see the module docstring)."""
    pairs = []  # (line, next line, scene)
    followers = []  # (line, scene): every line that follows another line of its speech
    for s, scene in enumerate(play.scenes):
        for speech in scene.speeches:
            for line, following in zip(speech.lines, speech.lines[1:], strict=False):
                pairs.append((line, following, s))
                followers.append((following, s))
    rng.shuffle(pairs)
    examples = []
    for line, following, scene in pairs:
        if len(examples) == count:
            break
        taken = {following.lower()}
        wrong: list[str] = []
        for candidate, other_scene in rng.sample(followers, min(len(followers), 50)):
            if other_scene != scene and candidate.lower() not in taken:
                wrong.append(candidate)
                taken.add(candidate.lower())
            if len(wrong) == NUM_CHOICES - 1:
                break
        else:
            continue  # a play too small to give three different lines from other scenes
        label = rng.randrange(NUM_CHOICES)
        endings = wrong[:label] + [following] + wrong[label:]
        # Every choice must fit whole: [CLS] line [SEP] ending [SEP].
        line_pieces, *ending_pieces = count_pieces([line] + endings)
        if line_pieces + max(ending_pieces) + 3 <= max_seq_length:
            examples.append(NextLineExample(line, tuple(endings), label, play.name))
    return examples


def make_examples(
    tokenizer: Any,
    max_seq_length: int = 64,
    train_size: Optional[int] = None,
    validation_size: Optional[int] = None,
    seed: int = 0,
) -> TaskData:
    """Examples from the training plays and from the held-out plays, equally many from each play."""
    train_size = TRAIN_SIZE if train_size is None else train_size
    validation_size = VALIDATION_SIZE if validation_size is None else validation_size
    check_sizes(max_seq_length, train_size, validation_size)
    count_pieces = PieceCounter(tokenizer)
    splits = {}
    for split, plays, size in zip(
        ("train", "validation"), split_plays(load_plays()), (train_size, validation_size), strict=True
    ):
        rng = split_rng(seed, split)
        examples: list[NextLineExample] = []
        for play, quota in zip(plays, share_out(size, len(plays)), strict=True):
            made = play_examples(play, quota, max_seq_length, rng, count_pieces)
            if len(made) < quota:
                raise ValueError(
                    f"{split}_size {size} asks {quota} examples of {play.name}, which gives only "
                    f"{len(made)}; choose a smaller {split}_size"
                )
            examples += made
        rng.shuffle(examples)
        splits[split] = (examples, [play.name for play in plays])
    return TaskData(
        train=encode(splits["train"][0], tokenizer, max_seq_length),
        validation=encode(splits["validation"][0], tokenizer, max_seq_length),
        plays={split: names for split, (_, names) in splits.items()},
    )


def encode(examples: Sequence[NextLineExample], tokenizer: Any, max_seq_length: int = 64) -> list[Encoded]:
    """One [CLS] line [SEP] ending [SEP] per choice, each cut to max_seq_length if longer (as SWAG's fine-tuning
    script does); label = the right ending's position. Every example must have the same number of choices."""
    if not examples:
        return []
    expected = len(examples[0].endings)
    for i, example in enumerate(examples):
        if len(example.endings) != expected:
            raise ValueError(
                f"examples[{i}] has {len(example.endings)} endings but examples[0] has {expected}; "
                "every multiple-choice example needs the same number of choices"
            )
        if not isinstance(example.label, int) or not 0 <= example.label < expected:
            raise ValueError(
                f"examples[{i}].label is {example.label!r}, which is not one of the choices 0 .. {expected - 1}"
            )
    if expected < 2:
        raise ValueError(f"a multiple-choice example needs at least 2 endings, examples[0] has {expected}")
    pairs = [(example.line, ending) for example in examples for ending in example.endings]
    encoding = tokenizer(pairs, truncation=True, max_length=max_seq_length)
    encoded = []
    for i, example in enumerate(examples):
        rows = range(i * expected, (i + 1) * expected)  # this example's choices
        keys = ("input_ids", "token_type_ids", "attention_mask")
        inputs = {key: [encoding[key][row] for row in rows] for key in keys}  # (C, T) each
        encoded.append(Encoded(example, inputs, {"labels": example.label}))
    return encoded


def predict(
    model: torch.nn.Module, examples: Sequence[Encoded], batch_size: int = 64, device: Optional[torch.device] = None
) -> list[int]:
    """The position of the ending the model chooses, for each example."""
    chosen = []
    for _, output in model_outputs(model, examples, batch_size, device):
        chosen += output.logits.float().argmax(-1).tolist()  # (B, C) -> (B,)
    return chosen


def evaluate(
    model: torch.nn.Module, examples: Sequence[Encoded], batch_size: int = 64, device: Optional[torch.device] = None
) -> dict[str, float]:
    return {"accuracy": accuracy(predict(model, examples, batch_size, device), [e.example.label for e in examples])}


def baseline(train: Sequence[Encoded], validation: Sequence[Encoded]) -> float:
    """Chance: the expected accuracy on `validation` of picking one ending at random (1 / number of choices)."""
    if not validation:
        raise ValueError("the baseline needs validation examples")
    return sum(1 / len(e.example.endings) for e in validation) / len(validation)


def show(model: torch.nn.Module, examples: Sequence[Encoded], device: Optional[torch.device] = None) -> str:
    """Each line with its candidates, marking the model's choice and the real next line."""
    blocks = []
    for encoded, chosen in zip(examples, predict(model, examples, device=device), strict=True):
        example = encoded.example
        rows = [f"{example.line}   ({example.play})"]
        for k, ending in enumerate(example.endings):
            marks = [
                mark for mark, on in (("model's choice", k == chosen), ("the next line", k == example.label)) if on
            ]
            rows.append(f"  {_LETTERS[k]}) {ending}" + (f"   <- {', '.join(marks)}" if marks else ""))
        blocks.append("\n".join(rows))
    return "\n\n".join(blocks)


TASK = Task(
    name="multiple-choice",
    question="Which of four lines follows this one?",
    model_class=AlbertForMultipleChoice,
    metric="accuracy",
    id2label=None,
    baseline_name="chance (1 / 4)",
    steps=300,
    make_examples=make_examples,
    collate=collate,
    predict=predict,
    evaluate=evaluate,
    baseline=baseline,
    show=show,
)
