"""The course's claims about its own outputs, checked.

The notebooks are tests: `pytest` runs each one top to bottom (nbmake). Where a sentence states something about an
output (the loss falls at every evaluation, the model ranks the swapped pair higher, the two timings are within a
factor of two), the code cell that makes the output ends with a `text_says` line for it. A reader can skip those
lines: they only guard the prose, so that a change to the package or a retrained model that makes a sentence false
fails the test suite instead of leaving the sentence in the course.
"""

from __future__ import annotations

from typing import Any


def text_says(claim: str, holds: Any) -> None:
    """Check one claim the notebook's text makes about an output: AssertionError, quoting the claim, if `holds` is
    false (a bool, or a one-element tensor)."""
    if not bool(holds):
        raise AssertionError(
            f"the text says {claim!r}, but this output does not show it: update the text or find what changed"
        )
