"""Token classification: tag the characters' names mentioned in spoken lines, B-PER / I-PER / O.

Named-entity recognition (CoNLL-2003) gives every word a tag, and the model predicts one per piece from the
piece's own hidden state:

    [CLS] good    horatio ,  welcome  [SEP]        words:  Good | Horatio, | welcome.
          O       B-PER   -100  O                  tags:   O    | B-PER    | O
    last_hidden_state (B, T, H)  ->  logits (B, T, 3)  ->  cross-entropy over the labelled pieces

The passages are those of the genre task (a few consecutive spoken lines, up to max_seq_length pieces) from all 34
training plays and the 4 held-out ones. A word is tagged when it mentions a character's name (`plays.tag_names`):
the names are the capitalised words of the speaker cues that the plays never, or hardly ever, write in lower case
(`plays.character_names`, which explains the rule), taken from all 38 plays, as an annotator reading each play would
know its characters. Consecutive names with nothing between them are one entity ("Titus Andronicus"). Words are
the text's whitespace-separated words, punctuation attached ("Horatio," is one word); every tag can be checked by
eye against the printed line.

**Labels on pieces** follow transformers' token-classification examples: a word's tag goes on its first piece,
the word's other pieces and the special tokens get -100, which the loss ignores. So the model is trained and
judged once per word. Which piece belongs to which word comes from the tokenizer's `offset_mapping`.

**Score**: entity-level F1 (`metrics.entity_scores`), where a name counts as found only if its whole span is
tagged, computed from the tag predicted on each word's first piece.

**Why this is a real test.** The lower-cased input hides the capital letters that make names easy to spot, and
most names of the held-out plays (Antipholus, Dromio, Apemantus, Pericles, Thaisa) never occur in a training play:
the model must tell a name from its pieces and its place in the sentence ("good ___,", "O ___!").

Baseline: a dictionary of the names tagged in the training examples, looked up in the validation text (by the
same matching rule as the labels).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional, Sequence

import torch

from ..checks import IGNORE_INDEX
from ..task_heads import AlbertForTokenClassification
from .metrics import bio_entities, entity_scores
from .plays import capitalised_word, character_names, load_plays, split_plays, tag_names
from .task import (
    Encoded,
    PieceCounter,
    Task,
    TaskData,
    check_sizes,
    collate,
    model_outputs,
    sample_windows,
    share_out,
    split_rng,
)

ID2LABEL = {0: "O", 1: "B-PER", 2: "I-PER"}
LABEL2ID = {label: i for i, label in ID2LABEL.items()}
TRAIN_SIZE, VALIDATION_SIZE = 8000, 400


@dataclass(frozen=True)
class NamesExample:
    text: str  # consecutive spoken lines of one scene, joined by newlines
    tags: tuple[str, ...]  # one BIO tag per whitespace-separated word of text
    play: str

    @property
    def words(self) -> list[str]:
        return self.text.split()


def make_examples(
    tokenizer: Any,
    max_seq_length: int = 64,
    train_size: Optional[int] = None,
    validation_size: Optional[int] = None,
    seed: int = 0,
) -> TaskData:
    """Tagged passages: `train_size` from the training plays, `validation_size` from the held-out ones, equally
    many from each play."""
    train_size = TRAIN_SIZE if train_size is None else train_size
    validation_size = VALIDATION_SIZE if validation_size is None else validation_size
    check_sizes(max_seq_length, train_size, validation_size)
    all_plays = load_plays()
    names = character_names(all_plays)
    count_pieces = PieceCounter(tokenizer)
    splits = {}
    for split, plays, size in zip(
        ("train", "validation"), split_plays(all_plays), (train_size, validation_size), strict=True
    ):
        rng = split_rng(seed, split)
        examples: list[NamesExample] = []
        for play, quota in zip(plays, share_out(size, len(plays)), strict=True):
            scenes = [[line for speech in scene.speeches for line in speech.lines] for scene in play.scenes]

            def tagged(s: int, a: int, b: int, play=play, scenes=scenes) -> NamesExample:
                text = "\n".join(scenes[s][a:b])
                return NamesExample(text, tuple(tag_names(text, names)), play.name)

            made = sample_windows(scenes, quota, max_seq_length - 2, rng, count_pieces, tagged)
            if len(made) < quota:
                raise ValueError(
                    f"{split}_size {size} asks {quota} passages of {play.name}, which has only "
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


def word_ids_from_offsets(text: str, offsets: Sequence[tuple[int, int]], special: Sequence[int]) -> list[Optional[int]]:
    """The whitespace-separated word of `text` each piece belongs to (None for special tokens), as a fast
    tokenizer's `word_ids()` gives it for words passed one by one (`is_split_into_words`).

    A piece belongs to the word of its first character that is not whitespace. A lone '▁' covers only the space
    before a word ("▁" "(" for " ("), and belongs to that next word.
    """
    word_of_char: list[Optional[int]] = [None] * (len(text) + 1)
    for index, match in enumerate(re.finditer(r"\S+", text)):
        word_of_char[match.start() : match.end()] = [index] * (match.end() - match.start())
    word_ids: list[Optional[int]] = []
    for (start, end), is_special in zip(offsets, special, strict=True):
        if is_special:
            word_ids.append(None)
            continue
        inside = [word_of_char[c] for c in range(start, end) if word_of_char[c] is not None]
        word_ids.append(inside[0] if inside else word_of_char[end])
    return word_ids


def encode(examples: Sequence[NamesExample], tokenizer: Any, max_seq_length: int = 64) -> list[Encoded]:
    """[CLS] text [SEP] with each word's tag on its first piece and -100 elsewhere. An example longer than
    max_seq_length is an error rather than cut: cutting it would silently drop the tags of its last words."""
    for i, example in enumerate(examples):
        if len(example.tags) != len(example.words):
            raise ValueError(
                f"examples[{i}] has {len(example.words)} words but {len(example.tags)} tags; give one tag "
                "per whitespace-separated word"
            )
        unknown = [tag for tag in example.tags if tag not in LABEL2ID]
        if unknown:
            raise ValueError(f"examples[{i}].tags has {unknown[0]!r}, which is not one of {list(LABEL2ID)}")
    encoding = tokenizer(
        [example.text for example in examples], return_offsets_mapping=True, return_special_tokens_mask=True
    )
    encoded = []
    for i, example in enumerate(examples):
        input_ids = encoding["input_ids"][i]
        if len(input_ids) > max_seq_length:
            raise ValueError(
                f"examples[{i}] ({example.play}) has {len(input_ids)} pieces with [CLS] and [SEP], more "
                f"than max_seq_length = {max_seq_length}; shorten its text"
            )
        word_ids = word_ids_from_offsets(
            example.text, encoding["offset_mapping"][i], encoding["special_tokens_mask"][i]
        )
        labels, seen = [], set()
        for word in word_ids:
            if word is None or word in seen:
                labels.append(IGNORE_INDEX)  # special token, or a word's second, third, ... piece
            else:
                labels.append(LABEL2ID[example.tags[word]])
                seen.add(word)
        unlabelled = [w for w, tag in enumerate(example.tags) if w not in seen and tag != "O"]
        if unlabelled:
            raise ValueError(
                f"examples[{i}]: word {unlabelled[0]} ({example.words[unlabelled[0]]!r}) is tagged but "
                "the tokenizer gives it no piece to carry the tag"
            )
        encoded.append(
            Encoded(
                example,
                {key: encoding[key][i] for key in ("input_ids", "token_type_ids", "attention_mask")},
                {"labels": labels},
                offset_mapping=encoding["offset_mapping"][i],
                word_ids=word_ids,
            )
        )
    return encoded


def predict(
    model: torch.nn.Module, examples: Sequence[Encoded], batch_size: int = 64, device: Optional[torch.device] = None
) -> list[list[str]]:
    """For each example, the tag predicted for each word: the tag of the word's first piece."""
    predicted = []
    for chunk, output in model_outputs(model, examples, batch_size, device):
        piece_labels = output.logits.float().argmax(-1).tolist()  # (B, T, 3) -> (B, T)
        for encoded, labels in zip(chunk, piece_labels, strict=True):
            tags = ["O"] * len(encoded.example.tags)
            for position in range(len(encoded.word_ids) - 1, -1, -1):  # backwards, so the first piece writes last
                word = encoded.word_ids[position]
                if word is not None:
                    tags[word] = ID2LABEL[labels[position]]
            predicted.append(tags)
    return predicted


def evaluate(
    model: torch.nn.Module, examples: Sequence[Encoded], batch_size: int = 64, device: Optional[torch.device] = None
) -> dict[str, float]:
    """Entity-level F1, precision and recall of the predicted names."""
    return entity_scores(predict(model, examples, batch_size, device), [list(e.example.tags) for e in examples])


def baseline(train: Sequence[Encoded], validation: Sequence[Encoded]) -> float:
    """Entity F1 on `validation` of tagging every word that mentions a name tagged somewhere in `train`."""
    dictionary = frozenset(
        capitalised_word(word)
        for e in train
        for word, tag in zip(e.example.words, e.example.tags, strict=True)
        if tag != "O"
    )
    predictions = [tag_names(e.example.text, dictionary) for e in validation]
    return entity_scores(predictions, [list(e.example.tags) for e in validation])["entity_f1"]


def bracket_entities(words: Sequence[str], tags: Sequence[str]) -> str:
    """The words with each entity in brackets: "Welcome, [Horatio:] welcome, good [Titus Andronicus.]"."""
    words = list(words)
    for _, first, last in bio_entities(tags):
        words[first] = "[" + words[first]
        words[last] = words[last] + "]"  # the same word when the entity has one word
    return " ".join(words)


def show(model: torch.nn.Module, examples: Sequence[Encoded], device: Optional[torch.device] = None) -> str:
    """Each passage with the names the model tagged in brackets, and the true tagging where it differs."""
    blocks = []
    for encoded, tags in zip(examples, predict(model, examples, device=device), strict=True):
        example = encoded.example
        block = f"{example.play}:\n  model: {bracket_entities(example.words, tags)}"
        if tags != list(example.tags):
            block += f"\n  true:  {bracket_entities(example.words, example.tags)}"
        blocks.append(block)
    return "\n\n".join(blocks)


TASK = Task(
    name="token-classification",
    question="Which words of these lines are characters' names?",
    model_class=AlbertForTokenClassification,
    metric="entity_f1",
    id2label=ID2LABEL,
    baseline_name="a dictionary of the names tagged in the training examples",
    steps=400,
    make_examples=make_examples,
    collate=collate,
    predict=predict,
    evaluate=evaluate,
    baseline=baseline,
    show=show,
)
