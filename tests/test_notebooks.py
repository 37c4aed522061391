"""The course's reading load. A numbered notebook's main path, its markdown up to the first "Appendix" heading, teaches
the idea in at most 2,000 words; measurements and deep dives that would push it over go to an appendix or to
docs/results.md. Words are counted as runs of non-space characters, so an equation or a table cell counts as well."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
WORD_BUDGET = 2_000


def main_path_words(notebook: Path) -> int:
    total = 0
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"])
        if re.match(r"#+\s*Appendix", text.strip()):
            break
        total += len(text.split())
    return total


def test_every_numbered_notebook_is_counted():
    assert [path.name[:2] for path in NOTEBOOKS] == [f"{i:02d}" for i in range(len(NOTEBOOKS))]
    assert len(NOTEBOOKS) >= 10


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_the_main_path_keeps_to_the_word_budget(notebook):
    words = main_path_words(notebook)
    assert words <= WORD_BUDGET, f"{notebook.name}: {words:,} words of markdown before its appendix"
