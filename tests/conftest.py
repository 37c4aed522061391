"""Fixtures that several test files share: the results page, read as tables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

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
