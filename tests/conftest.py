"""Fixtures that several test files share: a slice of Shakespeare, a small tokenizer trained on it, the slice as a
corpus folder, and the results page read as tables.

test_tokenizer.py and test_visualize.py train tokenizers of their own on purpose: the first on text full of accents,
scripts and symbols (to compare with the reference), the second a word-level one that keeps toy sentences short."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

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
