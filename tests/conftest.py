"""Fixtures that several test files share: a slice of Shakespeare, a small tokenizer trained on it, the slice as a
corpus folder, a tiny ALBERT checkpoint directory to fine-tune, the results page read as tables, and a disk that fills
up while a chosen file is written.

test_tokenizer.py and test_visualize.py train tokenizers of their own on purpose: the first on text full of accents,
scripts and symbols (to compare with the reference), the second a word-level one that keeps toy sentences short."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

import albert_explained.files
from albert_explained import AlbertConfig
from albert_explained.bundled import bundled_model_dir
from albert_explained.model import AlbertForPreTraining
from albert_explained.pretraining.corpus import Document, load_plays
from albert_explained.tokenizer import AlbertTokenizer, train_tokenizer

SMALL_PLAYS = ("hamlet", "macbeth", "othello", "the-tempest")
RESULTS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "results.md"


@dataclass
class ResultsPage:
    """docs/results.md: its text, its sections by heading, and the first table of a section."""

    text: str

    def section(self, heading: str) -> str:
        """The text under `## heading`, up to the next heading of that level."""
        start = self.text.index(f"\n## {heading}\n") + len(heading) + 5
        end = self.text.find("\n## ", start)
        return self.text[start:] if end == -1 else self.text[start:end]

    def table(self, heading: str) -> dict[str, list[str]]:
        """The section's first table as {first cell: the other cells}, the header and the |---| row left out."""
        rows = [line for line in self.section(heading).splitlines() if line.startswith("|")]
        if len(rows) < 3:
            raise ValueError(f"section {heading!r} of {RESULTS_PAGE} has no table")
        cells = [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]
        return {row[0]: row[1:] for row in cells}


@pytest.fixture(scope="session")
def results_page() -> ResultsPage:
    return ResultsPage(RESULTS_PAGE.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def small_plays() -> list[Document]:
    """Four plays, their first 400 lines each: enough text for a tokenizer and a few batches."""
    plays = load_plays(list(SMALL_PLAYS))
    for play in plays:
        play.sentences = play.sentences[:400]
    return plays


@pytest.fixture(scope="session")
def plays_tokenizer(small_plays, tmp_path_factory) -> AlbertTokenizer:
    """A SentencePiece tokenizer of 300 pieces trained on `small_plays` (one thread, so always the same pieces)."""
    lines = [line for play in small_plays for line in play.sentences]
    return train_tokenizer(lines, 300, tmp_path_factory.mktemp("plays-tokenizer"), num_threads=1)


@pytest.fixture(scope="session")
def small_corpus_dir(small_plays, tmp_path_factory) -> Path:
    """The four plays as a corpus folder (one .txt per document), 150 lines each: training runs take seconds."""
    folder = tmp_path_factory.mktemp("corpus")
    for play in small_plays:
        (folder / f"{play.name}.txt").write_text("\n".join(play.sentences[:150]) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A random tiny ALBERT (relative positions, as the bundled model) saved with the bundled tokenizer: a
    checkpoint directory like a pretraining run's model/. No dropout, so that two implementations compute the same."""
    directory = tmp_path_factory.mktemp("tiny-albert")
    tokenizer = AlbertTokenizer.from_pretrained(bundled_model_dir())
    config = AlbertConfig.from_preset(
        "tiny",
        vocab_size=len(tokenizer),
        embedding_size=16,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        position_embedding_type="relative_key",
        classifier_dropout_prob=0.0,
    )
    torch.manual_seed(0)
    AlbertForPreTraining(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


class _FillsUp:
    """A file whose disk fills up halfway through: it writes half of what it is given, then fails as the operating
    system does (OSError ENOSPC)."""

    def __init__(self, f):
        self._f = f

    def write(self, data) -> int:
        self._f.write(bytes(data)[: len(data) // 2])
        self._f.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._f.close()


@pytest.fixture
def disk_fills_while_writing(monkeypatch):
    """disk_fills_while_writing("config.json"): from now on, writing a file of that name runs out of space (files.py
    writes every file through files._create). tests/test_faults.py fills real file-size limits as well."""
    real_create = albert_explained.files._create

    def arrange(name: str) -> None:
        def create(path):
            f = real_create(path)
            return _FillsUp(f) if path.name.startswith(f".{name}.") else f

        monkeypatch.setattr(albert_explained.files, "_create", create)

    return arrange
