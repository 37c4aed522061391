"""The tasks: how NSP and SOP build their pairs, and what each fine-tuning head reads and returns.

These are the diagrams' sections (d) and (e); (a) to (c) are in architecture.py, the shared drawing in drawing.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ...config import AlbertConfig
from ...task_heads import (
    AlbertForMultipleChoice,
    AlbertForQuestionAnswering,
    AlbertForSequenceClassification,
    AlbertForTokenClassification,
)
from .drawing import (
    DOC_COLORS,
    H_SPACE_COLOR,
    HEAD_COLOR,
    INPUT_COLOR,
    OTHER_DOC_COLOR,
    TEXT_SIZE,
    arrow,
    box,
    canvas,
    with_commas,
)

# ----------------------------------------------------------------------------------------------------------------
# (d) NSP against SOP pairs
# ----------------------------------------------------------------------------------------------------------------


def nsp_sop_diagram() -> Figure:
    """How the second pretraining task builds its pairs (paper, sections 3.1 and 4.6). BERT's next-sentence
    prediction (NSP): segment A with the segment that really follows it (IsNext, label 0) or with a segment of another
    document (NotNext, label 1). ALBERT's sentence-order prediction (SOP): two consecutive segments of one document,
    in their order (label 0) or swapped (label 1). An NSP negative changes the topic; an SOP negative only the order.
    """
    fig, ax = canvas(10, 4.3)
    ax.text(
        0.2,
        4.1,
        "The second pretraining task: next-sentence (BERT) against sentence-order (ALBERT)",
        fontsize=13,
        fontweight="bold",
        va="top",
    )

    def segment(x: float, y: float, text: str, color: str, width: float = 0.75) -> float:
        ax.add_patch(Rectangle((x, y), width, 0.34, facecolor=color, edgecolor="white", linewidth=1.5))
        dark = color in (DOC_COLORS[1], DOC_COLORS[2])
        ax.text(
            x + width / 2,
            y + 0.17,
            text,
            ha="center",
            va="center",
            fontsize=TEXT_SIZE,
            fontweight="normal" if text.startswith("[") else "bold",
            color="white" if dark else "black",
        )
        return x + width

    # The documents the segments come from.
    for y, name, segments, note in (
        (
            3.2,
            "a document",
            (("…", DOC_COLORS[0]), ("A", DOC_COLORS[1]), ("B", DOC_COLORS[2]), ("…", DOC_COLORS[3])),
            "A, B: consecutive segments (runs of sentences)",
        ),
        (
            2.7,
            "another document",
            (("…", OTHER_DOC_COLOR), ("R", OTHER_DOC_COLOR), ("…", OTHER_DOC_COLOR)),
            "R: a random segment, usually about something else",
        ),
    ):
        ax.text(0.2, y + 0.17, name, ha="left", va="center", fontsize=TEXT_SIZE)
        x = 1.6
        for text, color in segments:
            x = segment(x, y, text, color)
        ax.text(x + 0.12, y + 0.17, note, va="center", fontsize=TEXT_SIZE - 0.5)

    a, b, r = ("A", DOC_COLORS[1]), ("B", DOC_COLORS[2]), ("R", OTHER_DOC_COLOR)
    panels = (
        (
            "BERT: next-sentence prediction (NSP)",
            0.2,
            [((a, b), "IsNext, label 0"), ((a, r), "NotNext, label 1")],
            "the negative changes the topic:\nthe topic alone often gives the answer away",
        ),
        (
            "ALBERT: sentence-order prediction (SOP)",
            5.2,
            [((a, b), "in order, label 0"), ((b, a), "swapped, label 1")],
            "both orders hold the same pieces:\nonly the order of ideas tells them apart",
        ),
    )
    for title, x, rows, lesson in panels:
        ax.text(x, 2.3, title, fontsize=TEXT_SIZE + 1.5, fontweight="bold", va="center")
        ax.text(x, 2.05, "each kind half of the time", fontsize=TEXT_SIZE - 0.5, va="center", color="#444444")
        for i, ((first, second), label) in enumerate(rows):
            y = 1.45 - 0.5 * i
            end = x
            for text, color, width in (
                ("[CLS]", INPUT_COLOR, 0.5),
                (*first, 0.75),
                ("[SEP]", INPUT_COLOR, 0.5),
                (*second, 0.75),
                ("[SEP]", INPUT_COLOR, 0.5),
            ):
                end = segment(end, y, text, color, width)
            ax.text(end + 0.12, y + 0.17, label, va="center", fontsize=TEXT_SIZE)
        ax.text(x, 0.8, lesson, va="top", fontsize=TEXT_SIZE, style="italic", linespacing=1.35)
    ax.text(
        0.2,
        0.08,
        "token_type_ids: 0 for [CLS], the first segment and its [SEP]; 1 for the second segment and the last [SEP]",
        fontsize=TEXT_SIZE - 0.5,
        va="bottom",
        color="#444444",
    )
    return fig


# ----------------------------------------------------------------------------------------------------------------
# (e) The fine-tuning heads
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeadWiring:
    """What one task head reads and returns; `tests/test_diagrams.py` checks every field against the model."""

    model_class: type
    task: str  # examples of the task
    reads: str  # "pooled" ([CLS] through the pooler) or "tokens" (every final hidden state)
    dropout: bool  # whether the head applies dropout before its linear layer
    layer: str  # the attribute holding the head's nn.Linear
    outputs: str  # that Linear's output size, in letters
    logits: tuple[tuple[str, str], ...]  # (output field, its shape in letters)
    loss: str


FINETUNING_HEADS = (
    HeadWiring(
        AlbertForSequenceClassification,
        "one label per input:\nsentiment, entailment (GLUE)",
        "pooled",
        True,
        "classifier",
        "num_labels",
        (("logits", "(B, num_labels)"),),
        "cross-entropy\n(MSE if num_labels = 1,\nbinary CE if multi-label)",
    ),
    HeadWiring(
        AlbertForTokenClassification,
        "one label per token:\nnamed entities",
        "tokens",
        True,
        "classifier",
        "num_labels",
        (("logits", "(B, T, num_labels)"),),
        "cross-entropy per token,\nlabel −100 ignored",
    ),
    HeadWiring(
        AlbertForQuestionAnswering,
        "where the answer starts and ends\nin the text (SQuAD)",
        "tokens",
        False,
        "qa_outputs",
        "2",
        (("start_logits", "(B, T)"), ("end_logits", "(B, T)")),
        "mean of the cross-entropies\nof the start and end positions",
    ),
    HeadWiring(
        AlbertForMultipleChoice,
        "pick one of C answers:\nRACE, SWAG",
        "pooled",
        True,
        "classifier",
        "1",
        (("logits", "(B, C)"),),
        "cross-entropy over the C choices",
    ),
)


def finetuning_heads_diagram(config: Optional[AlbertConfig] = None) -> Figure:
    """The four fine-tuning heads side by side: what each reads from AlbertModel (the pooled [CLS] vector, or every
    token's final hidden state), its one linear layer, its logits' shapes and its loss. Multiple choice folds its C
    choices into the batch, runs them as B·C ordinary sequences and unfolds the scores to (B, C)."""
    fig, ax = canvas(10, 5.7)
    ax.text(
        0.2, 5.5, "The fine-tuning heads: one linear layer on AlbertModel", fontsize=13, fontweight="bold", va="top"
    )
    subtitle = "pooled = tanh(pooler($h_L$[:, 0])), the [CLS] vector; every token = $h_L$ itself"
    if config is not None:
        subtitle += f";   H = {with_commas(config.hidden_size)}, num_labels = {config.num_labels}"
    ax.text(0.2, 5.18, subtitle, fontsize=TEXT_SIZE, va="top", color="#444444")
    width, gap = 2.35, 0.1
    for column, head in enumerate(FINETUNING_HEADS):
        x = 0.2 + column * (width + gap)
        center = x + width / 2
        name = head.model_class.__name__.replace("AlbertFor", "AlbertFor\n")
        ax.text(center, 4.8, name, ha="center", va="top", fontsize=TEXT_SIZE + 0.5, fontweight="bold")
        ax.text(center, 4.35, head.task, ha="center", va="top", fontsize=TEXT_SIZE - 1, style="italic")
        choices = head.model_class is AlbertForMultipleChoice
        box(
            ax,
            x,
            3.35,
            width,
            0.5,
            "input_ids (B, C, T)\nfolded: (B·C, T)" if choices else "input_ids (B, T)",
            size=TEXT_SIZE - 0.5,
        )
        arrow(ax, (center, 3.35), (center, 3.1))
        box(ax, x, 2.65, width, 0.45, "AlbertModel", color=H_SPACE_COLOR)
        rows = "B·C" if choices else "B"
        read = f"pooled [CLS]\n({rows}, H)" if head.reads == "pooled" else "every token\n(B, T, H)"
        arrow(ax, (center, 2.65), (center, 2.15), read)
        box(
            ax,
            x,
            1.65,
            width,
            0.5,
            f"{'dropout, ' if head.dropout else ''}{head.layer}:\nH × {head.outputs}",
            color=HEAD_COLOR,
            size=TEXT_SIZE - 0.5,
        )
        shapes = "\n".join(f"{field} {shape}" for field, shape in head.logits)
        if choices:
            shapes = f"({rows}, 1) → view →\nlogits (B, C)"
        elif len(head.logits) > 1:
            shapes = "(B, T, 2), split:\n" + shapes
        arrow(ax, (center, 1.65), (center, 1.4))
        ax.text(
            center, 1.35, shapes, ha="center", va="top", fontsize=TEXT_SIZE - 0.5, family="monospace", linespacing=1.35
        )
        ax.text(center, 0.6, "loss: " + head.loss, ha="center", va="top", fontsize=TEXT_SIZE - 1, linespacing=1.35)
    return fig
