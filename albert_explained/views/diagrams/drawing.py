"""What every diagram shares: one colour per space a tensor lives in, and boxes, arrows and labels placed in inches.

Each figure is one axes covering the whole figure, 1 unit = 1 inch, so that a label prints at its own size whatever
the figure's width and `tests/test_diagrams.py` can check that no two labels overlap.
"""

from __future__ import annotations

from typing import Optional

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from ...config import AlbertConfig

# One colour per space a tensor lives in, the same in every figure.
INPUT_COLOR = "#eeeeee"
E_SPACE_COLOR = "#d9f0d3"  # embeddings, size E
H_SPACE_COLOR = "#dbe9f6"  # hidden states, size H
HEAD_COLOR = "#fde0c5"  # heads and their outputs
KEY_COLOR = "#f7f7f7"
EDGE_COLOR = "#555555"
TEXT_SIZE = 9
DOC_COLORS = ("#9ecae1", "#4292c6", "#2171b5", "#6baed6")  # segments of one document: shades of one colour
OTHER_DOC_COLOR = "#a1d99b"  # a segment of another document


# ----------------------------------------------------------------------------------------------------------------
# Drawing in inches
# ----------------------------------------------------------------------------------------------------------------


def canvas(width: float, height: float):
    """A figure of width x height inches whose one axes is measured in inches from the bottom-left corner."""
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    # Detached from pyplot: a notebook shows the returned figure once (as the cell's value), not twice.
    plt.close(fig)
    return fig, ax


def box(
    ax,
    x: float,
    y: float,
    width: float,
    height: float,
    text: str = "",
    color: str = INPUT_COLOR,
    size: float = TEXT_SIZE,
    title: str = "",
) -> None:
    """A rounded box with its bottom-left corner at (x, y); a bold title on top, the text centred below it."""
    ax.add_patch(
        FancyBboxPatch(
            (x, y),
            width,
            height,
            boxstyle="round,pad=0,rounding_size=0.06",
            facecolor=color,
            edgecolor=EDGE_COLOR,
            linewidth=1,
        )
    )
    if title:
        ax.text(x + width / 2, y + height - 0.07, title, ha="center", va="top", fontsize=size + 0.5, fontweight="bold")
        if text:
            ax.text(
                x + width / 2, y + (height - 0.28) / 2, text, ha="center", va="center", fontsize=size, linespacing=1.35
            )
    elif text:
        ax.text(x + width / 2, y + height / 2, text, ha="center", va="center", fontsize=size, linespacing=1.35)


def arrow(
    ax,
    start: tuple[float, float],
    end: tuple[float, float],
    label: str = "",
    side: str = "right",
    connection: str = "arc3",
) -> None:
    """An arrow from start to end with a label beside its middle (a tensor's shape, usually)."""
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=12,
            color=EDGE_COLOR,
            linewidth=1.2,
            connectionstyle=connection,
            shrinkA=0,
            shrinkB=0,
        )
    )
    if label:
        mid_x, mid_y = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
        offset = 0.1 if side == "right" else -0.1
        ax.text(
            mid_x + offset,
            mid_y,
            label,
            ha="left" if side == "right" else "right",
            va="center",
            fontsize=TEXT_SIZE,
            family="monospace",
        )


def with_commas(value: int) -> str:
    return f"{value:,}"


def dimension_key(
    ax, x: float, top: float, config: Optional[AlbertConfig], letters: list[tuple[str, str, str]], width: float = 2.25
) -> None:
    """A key to the dimension letters: one line per letter, with its value when a config is given.
    `letters` holds (letter, meaning, config attribute or "" when the letter has no value in a config)."""
    lines = []
    for letter, meaning, attribute in letters:
        value = f" = {with_commas(getattr(config, attribute))}" if config is not None and attribute else ""
        lines.append(f"{letter}{value}  {meaning}")
    height = 0.32 + 0.19 * len(lines)
    box(ax, x, top - height, width, height, color=KEY_COLOR, title="dimensions")
    for i, line in enumerate(lines):
        ax.text(x + 0.12, top - 0.36 - 0.19 * i, line, ha="left", va="top", fontsize=TEXT_SIZE - 0.5)
