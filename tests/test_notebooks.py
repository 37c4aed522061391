"""The course's reading load. A numbered notebook is its main path: it teaches the idea in at most 2,000 words of
markdown. Measurements and deep dives that would push it over go to its appendix notebook (appendix_NN_*.ipynb,
linked from where they were) or to docs/results.md. Words are counted as runs of non-space characters, so an equation
or a table cell counts as well."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

from albert_explained.course import text_says

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
APPENDICES = sorted(NOTEBOOK_DIR.glob("appendix_*.ipynb"))
WORD_BUDGET = 2_000


def markdown_cells(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown"]


def test_every_numbered_notebook_is_counted():
    assert [path.name[:2] for path in NOTEBOOKS] == [f"{i:02d}" for i in range(len(NOTEBOOKS))]
    assert len(NOTEBOOKS) >= 10


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_a_numbered_notebook_keeps_to_the_word_budget_and_holds_no_appendix(notebook):
    texts = markdown_cells(notebook)
    words = sum(len(text.split()) for text in texts)
    assert words <= WORD_BUDGET, f"{notebook.name}: {words:,} words of markdown"
    headings = [line for text in texts for line in text.splitlines() if re.match(r"#+\s*Appendix", line)]
    assert not headings, f"{notebook.name}: appendices go to an appendix notebook: {headings}"


@pytest.mark.parametrize("appendix", APPENDICES, ids=lambda path: path.stem)
def test_an_appendix_belongs_to_a_numbered_notebook_that_links_to_it(appendix):
    number, name = re.fullmatch(r"appendix_(\d\d)_(.+)\.ipynb", appendix.name).groups()
    notebook = NOTEBOOK_DIR / f"{number}_{name}.ipynb"
    assert notebook in NOTEBOOKS, f"{appendix.name} has no notebook {notebook.name}"
    assert any(f"]({appendix.name}" in text for text in markdown_cells(notebook)), f"{notebook.name} never links it"
    assert any(f"]({notebook.name})" in text for text in markdown_cells(appendix)), f"{appendix.name} never links back"


def test_text_says_passes_a_true_claim_and_quotes_a_false_one():
    text_says("the loss falls", True)
    text_says("one-element tensors count", torch.tensor(True))
    with pytest.raises(AssertionError, match="the text says 'the loss falls', but this output does not show it"):
        text_says("the loss falls", torch.tensor(False))
