"""Diagrams of ALBERT, drawn by code: the forward pass, the factorized embedding, the four sharing strategies, NSP
against SOP pairs, and the fine-tuning heads.

Each function returns a matplotlib `Figure`. In a notebook one line shows it (the figure is the cell's value), and
`fig.savefig("forward.png")` writes it. They need nothing but matplotlib, so they render offline, in JupyterLab and
in the `make html` pages alike.

    forward_pass_diagram(config)           ids -> V x E table -> E x H projection -> one layer applied L times
                                           -> MLM and SOP heads, with every weight's size and every tensor's shape
    factorized_embedding_diagram(config)   BERT's V x H table beside ALBERT's V x E table and E x H projection,
                                           areas proportional to the parameter counts (paper, section 3.1)
    sharing_strategies_diagram(config)     the paper's four strategies (section 4.5, table 4): which attention and
                                           FFN blocks at which depths are one set of weights
    nsp_sop_diagram()                      how BERT's next-sentence and ALBERT's sentence-order pairs are built
                                           (sections 3.1 and 4.6)
    finetuning_heads_diagram(config)       what each task head reads (pooled [CLS] or every token), its logits'
                                           shapes and its loss

The figures are drawn from the package's own objects so that they cannot drift from the code: numbers come from the
`AlbertConfig` passed in, the sharing pattern from models built with each `sharing` on PyTorch's meta device (shapes,
no storage), and the heads' wiring from `FINETUNING_HEADS`, which `tests/test_diagrams.py` checks against the task
models themselves.

Shapes use the package's dimension letters (B batch, T tokens, V vocabulary, E embedding size, H hidden size,
N heads, D head size H/N, I FFN size, L layers, C choices) and P for `max_position_embeddings`. A weight matrix is
written the paper's way, in the direction it maps: "E x H" maps size E to size H (nn.Linear stores it as (H, E)).
Given a config, the forward pass adds a key with the letters' values, so that the boxes stay short.

Each figure is laid out in inches (one axes covering the figure, 1 unit = 1 inch) and is 10 inches wide, so that
at a notebook's 100 dots per inch every label prints at its own size and none overlaps another (a test checks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

from ..config import SHARING_STRATEGIES, AlbertConfig
from ..model import AlbertModel
from ..task_heads import (AlbertForMultipleChoice, AlbertForQuestionAnswering, AlbertForSequenceClassification,
                          AlbertForTokenClassification)
from ..parameters import count_parameters

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

def _canvas(width: float, height: float):
    """A figure of width x height inches whose one axes is measured in inches from the bottom-left corner."""
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    # Detached from pyplot: a notebook shows the returned figure once (as the cell's value), not twice.
    plt.close(fig)
    return fig, ax


def _box(ax, x: float, y: float, width: float, height: float, text: str = "", color: str = INPUT_COLOR,
         size: float = TEXT_SIZE, title: str = "") -> None:
    """A rounded box with its bottom-left corner at (x, y); a bold title on top, the text centred below it."""
    ax.add_patch(FancyBboxPatch((x, y), width, height, boxstyle="round,pad=0,rounding_size=0.06", facecolor=color,
                                edgecolor=EDGE_COLOR, linewidth=1))
    if title:
        ax.text(x + width / 2, y + height - 0.07, title, ha="center", va="top", fontsize=size + 0.5,
                fontweight="bold")
        if text:
            ax.text(x + width / 2, y + (height - 0.28) / 2, text, ha="center", va="center", fontsize=size,
                    linespacing=1.35)
    elif text:
        ax.text(x + width / 2, y + height / 2, text, ha="center", va="center", fontsize=size, linespacing=1.35)


def _arrow(ax, start: tuple[float, float], end: tuple[float, float], label: str = "", side: str = "right",
           connection: str = "arc3") -> None:
    """An arrow from start to end with a label beside its middle (a tensor's shape, usually)."""
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color=EDGE_COLOR, linewidth=1.2,
                                 connectionstyle=connection, shrinkA=0, shrinkB=0))
    if label:
        mid_x, mid_y = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
        offset = 0.1 if side == "right" else -0.1
        ax.text(mid_x + offset, mid_y, label, ha="left" if side == "right" else "right", va="center",
                fontsize=TEXT_SIZE, family="monospace")


def _number(value: int) -> str:
    return f"{value:,}"


def _dimension_key(ax, x: float, top: float, config: Optional[AlbertConfig], letters: list[tuple[str, str, str]],
                   width: float = 2.25) -> None:
    """A key to the dimension letters: one line per letter, with its value when a config is given.
    `letters` holds (letter, meaning, config attribute or "" when the letter has no value in a config)."""
    lines = []
    for letter, meaning, attribute in letters:
        value = f" = {_number(getattr(config, attribute))}" if config is not None and attribute else ""
        lines.append(f"{letter}{value}  {meaning}")
    height = 0.32 + 0.19 * len(lines)
    _box(ax, x, top - height, width, height, color=KEY_COLOR, title="dimensions")
    for i, line in enumerate(lines):
        ax.text(x + 0.12, top - 0.36 - 0.19 * i, line, ha="left", va="top", fontsize=TEXT_SIZE - 0.5)


# ----------------------------------------------------------------------------------------------------------------
# (a) The forward pass
# ----------------------------------------------------------------------------------------------------------------

def _encoder_title(config: Optional[AlbertConfig]) -> str:
    """What the encoder box holds: one layer for every published ALBERT, else what the config's sharing says."""
    if config is None or (config.sharing == "all-shared" and config.num_hidden_groups == 1):
        title = "one AlbertLayer: the same weights at every depth"
    elif config.sharing == "all-shared":
        title = "G groups of layer weights; consecutive depths share a group"
    else:
        title = f"sharing = {config.sharing!r}: see sharing_strategies_diagram"
    return title


def forward_pass_diagram(config: Optional[AlbertConfig] = None) -> Figure:
    """AlbertForPreTraining from ids to the two heads: every weight matrix with its size in dimension letters, every
    tensor between two boxes with its shape, the loop that applies one layer L times, and the tie between the MLM
    decoder and the word-embedding table. With a config, a key gives the letters' values and the boxes say how
    positions enter (a P x E table, or relative distances inside attention) and which activation the config uses.
    """
    fig, ax = _canvas(10, 7.6)
    activation = "act" if config is None else config.hidden_act
    relative = config is not None and config.position_embedding_type != "absolute"
    ax.text(0.2, 7.4, "AlbertForPreTraining: the forward pass", fontsize=13, fontweight="bold", va="top")
    ax.text(0.2, 7.08, "boxes hold weights (sizes in dimension letters); arrows carry tensors (their shapes)",
            fontsize=TEXT_SIZE, va="top", color="#444444")

    left, width = 1.2, 5.4
    center = left + width / 2
    _box(ax, left, 6.3, width, 0.4, "input_ids, token_type_ids, attention_mask")
    _arrow(ax, (center, 6.3), (center, 5.95), "(B, T)")
    positions = (f"position_embeddings (P × E) left out: {config.position_embedding_type} puts positions in "
                 "attention" if relative else "+ position_embeddings (P × E), one row per position 0 .. T−1")
    _box(ax, left, 4.75, width, 1.2, color=E_SPACE_COLOR, title="embeddings",
         text="word_embeddings: V × E table, one row per id\n+ token_type_embeddings (2 × E), segment A or B\n"
              f"{positions}\nLayerNorm")
    _arrow(ax, (center, 4.75), (center, 4.4), "(B, T, E)")
    _box(ax, left, 3.95, width, 0.45, color=H_SPACE_COLOR, text="embedding_hidden_mapping_in: E × H  (E → H)")
    _arrow(ax, (center, 3.95), (center, 3.6), "(B, T, H)   $h_0$")

    # The encoder: one layer (attention, then FFN) and the loop that applies it L times.
    _box(ax, left, 1.95, width, 1.65, color=H_SPACE_COLOR, title=_encoder_title(config))
    attention = "attention: query, key, value, dense (H × H each)\nN heads of D = H / N; + residual, LayerNorm"
    if relative:
        attention += "\ndistance_embedding: (2P − 1) × D, one row per i − j"
    _box(ax, left + 0.25, 2.6, width - 0.5, 0.68, attention, color="white", size=TEXT_SIZE - 0.5)
    _box(ax, left + 0.25, 2.05, width - 0.5, 0.45, f"ffn: H × I, {activation}, ffn_output: I × H; + residual, "
         "LayerNorm", color="white", size=TEXT_SIZE - 0.5)
    _arrow(ax, (left + width, 2.2), (left + width, 3.3), connection="arc3,rad=1.1")
    loop = "× L\n" + r"$h_1 \ldots h_L$"
    if config is not None and config.inner_group_num > 1:  # a group of several layers runs at each depth
        loop += f"\n{config.inner_group_num} layers\nper group"
    ax.text(left + width + 0.62, 2.75, loop, ha="left", va="center", fontsize=TEXT_SIZE + 1, fontweight="bold")

    # The two heads, fed from the last hidden state.
    mlm_left, sop_left, head_width = left, left + 2.85, 2.55
    _arrow(ax, (center - 0.9, 1.95), (mlm_left + head_width / 2, 1.5), "(B, T, H)", side="left")
    _arrow(ax, (center + 0.9, 1.95), (sop_left + head_width / 2, 1.5), "(B, H): $h_L$[:, 0], [CLS]")
    _box(ax, mlm_left, 0.55, head_width, 0.95, color=HEAD_COLOR, title="MLM head: predictions",
         text=f"dense: H × E, {activation}, LayerNorm\ndecoder: E × V + bias", size=TEXT_SIZE - 0.5)
    _box(ax, sop_left, 0.55, head_width, 0.95, color=HEAD_COLOR, title="pooler + sop_classifier",
         text="pooler: H × H, tanh\nsop_classifier: H × 2", size=TEXT_SIZE - 0.5)
    ax.text(mlm_left + head_width / 2, 0.45, "prediction_logits (B, T, V)", ha="center", va="top",
            fontsize=TEXT_SIZE, family="monospace")
    ax.text(sop_left + head_width / 2, 0.45, "sop_logits (B, 2)", ha="center", va="top", fontsize=TEXT_SIZE,
            family="monospace")
    ax.text(0.2, 0.1, "loss = cross-entropy(prediction_logits, labels; −100 ignored) "
            "+ cross-entropy(sop_logits, sentence_order_label)", fontsize=TEXT_SIZE, va="bottom")

    # The decoder's weight is the word-embedding table itself.
    ax.plot([mlm_left, 0.75, 0.75, left], [0.85, 0.85, 5.5, 5.5], linestyle="--", color="#b2182b", linewidth=1.2)
    ax.text(0.62, 3.2, "tied: the decoder's E × V is the V × E table, transposed", rotation=90, ha="center",
            va="center", fontsize=TEXT_SIZE - 0.5, color="#b2182b")

    letters = [("B", "batch", ""), ("T", "tokens", ""), ("V", "vocabulary", "vocab_size"),
               ("E", "embedding size", "embedding_size"), ("H", "hidden size", "hidden_size"),
               ("N", "attention heads", "num_attention_heads"), ("D", "head size", "head_size"),
               ("I", "FFN size", "intermediate_size"), ("L", "layers (depth)", "num_hidden_layers"),
               ("P", "positions", "max_position_embeddings")]
    if config is not None and config.num_hidden_groups > 1:
        letters.append(("G", "groups of layer weights", "num_hidden_groups"))
    _dimension_key(ax, 7.6, 6.75, config, letters)
    return fig


# ----------------------------------------------------------------------------------------------------------------
# (b) The factorized embedding, to scale
# ----------------------------------------------------------------------------------------------------------------

def factorized_embedding_diagram(config: Optional[AlbertConfig] = None) -> Figure:
    """BERT's V x H table beside ALBERT's V x E table and E x H projection (paper, section 3.1), for
    `config` (ALBERT-base by default). One scale for rows and one for columns, so each rectangle's area is
    proportional to its parameter count (biases left out, as in the paper's O(V x E + E x H))."""
    config = config or AlbertConfig.from_preset("albert-base-v2")
    V, E, H = config.vocab_size, config.embedding_size, config.hidden_size
    fig, ax = _canvas(10, 5.4)
    ax.text(0.2, 5.2, "The factorized embedding, areas to scale", fontsize=13, fontweight="bold", va="top")
    ax.text(0.2, 4.88, f"V = {_number(V)}, E = {_number(E)}, H = {_number(H)}; a table has one row per piece; "
            "one scale for rows, one for columns; biases left out", fontsize=TEXT_SIZE, va="top", color="#444444")

    # Inches per column and per row: H + E + H columns and two gaps fill 8.6 inches, V rows fill 3.2 inches.
    gap = 0.7
    per_column = (8.6 - 2 * gap) / (2 * H + E)
    per_row = 3.2 / V
    bottom, top = 0.6, 0.6 + V * per_row
    bert_left = 0.5
    table_left = bert_left + H * per_column + gap
    projection_left = table_left + E * per_column + gap
    ax.text(bert_left + H * per_column / 2, top + 0.4, "BERT", ha="center", va="bottom", fontsize=TEXT_SIZE + 2,
            fontweight="bold")
    ax.text((table_left + projection_left + H * per_column) / 2, top + 0.4, "ALBERT", ha="center", va="bottom",
            fontsize=TEXT_SIZE + 2, fontweight="bold")

    def matrix(x: float, y: float, rows: int, columns: int, color: str, row_letter: str, column_letter: str):
        ax.add_patch(Rectangle((x, y), columns * per_column, rows * per_row, facecolor=color, edgecolor=EDGE_COLOR))
        ax.text(x + columns * per_column / 2, y + rows * per_row + 0.05, column_letter, ha="center", va="bottom",
                fontsize=TEXT_SIZE + 1, style="italic")
        if row_letter:
            ax.text(x - 0.06, y + rows * per_row / 2, row_letter, ha="right", va="center", fontsize=TEXT_SIZE + 1,
                    style="italic")

    matrix(bert_left, bottom, V, H, H_SPACE_COLOR, "V", "H")
    ax.text(bert_left + H * per_column / 2, (bottom + top) / 2,
            f"one V × H table\n{_number(V)} × {_number(H)}\n= {_number(V * H)}", ha="center", va="center",
            fontsize=TEXT_SIZE + 1)
    matrix(table_left, bottom, V, E, E_SPACE_COLOR, "V", "E")
    ax.text(table_left + E * per_column + 0.1, bottom + 0.3,
            f"V × E table\n{_number(V)} × {_number(E)}\n= {_number(V * E)}", ha="left", va="bottom",
            fontsize=TEXT_SIZE + 1)
    # The projection sits on top, where it multiplies the table: (V x E) @ (E x H) has the V x H table's shape.
    matrix(projection_left, top - E * per_row, E, H, H_SPACE_COLOR, "", "H")
    ax.annotate(f"E × H projection\n{_number(E)} × {_number(H)} = {_number(E * H)}",
                xy=(projection_left + H * per_column / 2, top - E * per_row / 2),
                xytext=(projection_left + H * per_column / 2, top - 0.45), ha="center", va="top",
                fontsize=TEXT_SIZE + 1, arrowprops=dict(arrowstyle="-|>", color=EDGE_COLOR))
    ax.text(projection_left + H * per_column / 2, top - 1.3, "(V × E) · (E × H) has the V × H shape:\nevery piece "
            "still gets a vector of size H,\nbuilt from its E numbers", ha="center", va="top", fontsize=TEXT_SIZE,
            style="italic", color="#444444")

    factorized = V * E + E * H
    ax.text(0.2, 0.1, f"V × E + E × H = {_number(factorized)}, {factorized / (V * H):.1%} of V × H = "
            f"{_number(V * H)}", fontsize=TEXT_SIZE + 1, va="bottom", fontweight="bold")
    return fig


# ----------------------------------------------------------------------------------------------------------------
# (c) The four sharing strategies
# ----------------------------------------------------------------------------------------------------------------

def _sharing_pattern(config: AlbertConfig) -> tuple[list[tuple[int, int]], int]:
    """For every layer application in order, (attention module, FFN module) as ids of the model's own objects, so
    that equal ids are the same weights; and the model's parameter count. Built on the meta device: no memory."""
    with torch.device("meta"):
        model = AlbertModel(config)
    encoder = model.encoder
    applications = []
    for depth in range(config.num_hidden_layers):
        for layer in encoder.albert_layer_groups[encoder.group_index(depth)].albert_layers:
            applications.append((id(layer.attention), id(layer.ffn)))
    return applications, count_parameters(model).total


def _shade(colormap: str, index: int, count: int) -> tuple:
    """The index-th of `count` distinct shades of a colormap, light to dark (one shade when count is 1)."""
    return plt.get_cmap(colormap)(0.3 + 0.55 * (index / max(count - 1, 1)))


def sharing_strategies_diagram(config: Optional[AlbertConfig] = None) -> Figure:
    """The paper's four cross-layer sharing strategies (section 4.5, table 4) for `config` (ALBERT-base by
    default): one row per depth, an attention and an FFN box at each; boxes of one colour and number are one set of
    weights. Read from models built with each `sharing`, and each labelled with its parameter count."""
    config = config or AlbertConfig.from_preset("albert-base-v2")
    strategies = {sharing: _sharing_pattern(config.replace(sharing=sharing, num_hidden_groups=1))
                  for sharing in SHARING_STRATEGIES}
    rows = len(strategies["all-shared"][0])
    row_height = min(0.3, 3.6 / rows)
    height = 1.75 + rows * row_height
    fig, ax = _canvas(10, height)
    ax.text(0.2, height - 0.2, "Cross-layer sharing: which sub-layers are the same weights", fontsize=13,
            fontweight="bold", va="top")
    ax.text(0.2, height - 0.52, f"L = {config.num_hidden_layers}, H = {_number(config.hidden_size)}; "
            "same colour and number = one set of weights, used at every depth where it appears",
            fontsize=TEXT_SIZE, va="top", color="#444444")
    column_width, left = 2.2, 0.95
    top = height - 1.05
    for row in range(rows):
        ax.text(left - 0.1, top - (row + 0.5) * row_height, f"depth {row + 1}", ha="right", va="center",
                fontsize=TEXT_SIZE - 1)
    for column, (sharing, (applications, total)) in enumerate(strategies.items()):
        x = left + column * (column_width + 0.05)
        ax.text(x + column_width / 2, top + 0.05, sharing, ha="center", va="bottom", fontsize=TEXT_SIZE + 1,
                fontweight="bold")
        attention_ids = list(dict.fromkeys(a for a, _ in applications))  # distinct, in order of first use
        ffn_ids = list(dict.fromkeys(f for _, f in applications))
        for row, (attention, ffn) in enumerate(applications):
            y = top - (row + 1) * row_height + 0.03
            for offset, ids, key, name, colormap in ((0.0, attention_ids, attention, "attention", "Blues"),
                                                     (1.05, ffn_ids, ffn, "FFN", "Oranges")):
                number = ids.index(key)
                color = _shade(colormap, number, len(ids))
                ax.add_patch(FancyBboxPatch((x + offset + 0.02, y), 1.0, row_height - 0.06,
                                            boxstyle="round,pad=0,rounding_size=0.04", facecolor=color,
                                            edgecolor="white"))
                dark = number / max(len(ids) - 1, 1) >= 0.5
                ax.text(x + offset + 0.52, y + (row_height - 0.06) / 2, f"{name} {number + 1}", ha="center",
                        va="center", fontsize=TEXT_SIZE - 1, color="white" if dark else "black")
        ax.text(x + column_width / 2, top - rows * row_height - 0.08,
                f"{len(attention_ids)} attention, {len(ffn_ids)} FFN\nAlbertModel: {total / 1e6:.1f}M parameters",
                ha="center", va="top", fontsize=TEXT_SIZE - 0.5)
    return fig


# ----------------------------------------------------------------------------------------------------------------
# (d) NSP against SOP pairs
# ----------------------------------------------------------------------------------------------------------------

def nsp_sop_diagram() -> Figure:
    """How the second pretraining task builds its pairs (paper, sections 3.1 and 4.6). BERT's next-sentence
    prediction (NSP): segment A with the segment that really follows it (IsNext, label 0) or with a segment of another
    document (NotNext, label 1). ALBERT's sentence-order prediction (SOP): two consecutive segments of one document,
    in their order (label 0) or swapped (label 1). An NSP negative changes the topic; an SOP negative only the order.
    """
    fig, ax = _canvas(10, 4.3)
    ax.text(0.2, 4.1, "The second pretraining task: next-sentence (BERT) against sentence-order (ALBERT)",
            fontsize=13, fontweight="bold", va="top")

    def segment(x: float, y: float, text: str, color: str, width: float = 0.75) -> float:
        ax.add_patch(Rectangle((x, y), width, 0.34, facecolor=color, edgecolor="white", linewidth=1.5))
        dark = color in (DOC_COLORS[1], DOC_COLORS[2])
        ax.text(x + width / 2, y + 0.17, text, ha="center", va="center", fontsize=TEXT_SIZE,
                fontweight="normal" if text.startswith("[") else "bold", color="white" if dark else "black")
        return x + width

    # The documents the segments come from.
    for y, name, segments, note in (
        (3.2, "a document", (("…", DOC_COLORS[0]), ("A", DOC_COLORS[1]), ("B", DOC_COLORS[2]), ("…", DOC_COLORS[3])),
         "A, B: consecutive segments (runs of sentences)"),
        (2.7, "another document", (("…", OTHER_DOC_COLOR), ("R", OTHER_DOC_COLOR), ("…", OTHER_DOC_COLOR)),
         "R: a random segment, usually about something else"),
    ):
        ax.text(0.2, y + 0.17, name, ha="left", va="center", fontsize=TEXT_SIZE)
        x = 1.6
        for text, color in segments:
            x = segment(x, y, text, color)
        ax.text(x + 0.12, y + 0.17, note, va="center", fontsize=TEXT_SIZE - 0.5)

    a, b, r = ("A", DOC_COLORS[1]), ("B", DOC_COLORS[2]), ("R", OTHER_DOC_COLOR)
    panels = (
        ("BERT: next-sentence prediction (NSP)", 0.2, [((a, b), "IsNext, label 0"), ((a, r), "NotNext, label 1")],
         "the negative changes the topic:\nthe topic alone often gives the answer away"),
        ("ALBERT: sentence-order prediction (SOP)", 5.2, [((a, b), "in order, label 0"), ((b, a), "swapped, label 1")],
         "both orders hold the same pieces:\nonly the order of ideas tells them apart"),
    )
    for title, x, rows, lesson in panels:
        ax.text(x, 2.3, title, fontsize=TEXT_SIZE + 1.5, fontweight="bold", va="center")
        ax.text(x, 2.05, "each kind half of the time", fontsize=TEXT_SIZE - 0.5, va="center", color="#444444")
        for i, ((first, second), label) in enumerate(rows):
            y = 1.45 - 0.5 * i
            end = x
            for text, color, width in (("[CLS]", INPUT_COLOR, 0.5), (*first, 0.75), ("[SEP]", INPUT_COLOR, 0.5),
                                       (*second, 0.75), ("[SEP]", INPUT_COLOR, 0.5)):
                end = segment(end, y, text, color, width)
            ax.text(end + 0.12, y + 0.17, label, va="center", fontsize=TEXT_SIZE)
        ax.text(x, 0.8, lesson, va="top", fontsize=TEXT_SIZE, style="italic", linespacing=1.35)
    ax.text(0.2, 0.08, "token_type_ids: 0 for [CLS], the first segment and its [SEP]; 1 for the second segment and "
            "the last [SEP]", fontsize=TEXT_SIZE - 0.5, va="bottom", color="#444444")
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
    HeadWiring(AlbertForSequenceClassification, "one label per input:\nsentiment, entailment (GLUE)", "pooled", True,
               "classifier", "num_labels", (("logits", "(B, num_labels)"),),
               "cross-entropy\n(MSE if num_labels = 1,\nbinary CE if multi-label)"),
    HeadWiring(AlbertForTokenClassification, "one label per token:\nnamed entities", "tokens", True, "classifier",
               "num_labels", (("logits", "(B, T, num_labels)"),), "cross-entropy per token,\nlabel −100 ignored"),
    HeadWiring(AlbertForQuestionAnswering, "where the answer starts and ends\nin the text (SQuAD)", "tokens", False,
               "qa_outputs", "2", (("start_logits", "(B, T)"), ("end_logits", "(B, T)")),
               "mean of the cross-entropies\nof the start and end positions"),
    HeadWiring(AlbertForMultipleChoice, "pick one of C answers:\nRACE, SWAG", "pooled", True, "classifier", "1",
               (("logits", "(B, C)"),), "cross-entropy over the C choices"),
)


def finetuning_heads_diagram(config: Optional[AlbertConfig] = None) -> Figure:
    """The four fine-tuning heads side by side: what each reads from AlbertModel (the pooled [CLS] vector, or every
    token's final hidden state), its one linear layer, its logits' shapes and its loss. Multiple choice folds its C
    choices into the batch, runs them as B·C ordinary sequences and unfolds the scores to (B, C)."""
    fig, ax = _canvas(10, 5.7)
    ax.text(0.2, 5.5, "The fine-tuning heads: one linear layer on AlbertModel", fontsize=13, fontweight="bold",
            va="top")
    subtitle = "pooled = tanh(pooler($h_L$[:, 0])), the [CLS] vector; every token = $h_L$ itself"
    if config is not None:
        subtitle += f";   H = {_number(config.hidden_size)}, num_labels = {config.num_labels}"
    ax.text(0.2, 5.18, subtitle, fontsize=TEXT_SIZE, va="top", color="#444444")
    width, gap = 2.35, 0.1
    for column, head in enumerate(FINETUNING_HEADS):
        x = 0.2 + column * (width + gap)
        center = x + width / 2
        name = head.model_class.__name__.replace("AlbertFor", "AlbertFor\n")
        ax.text(center, 4.8, name, ha="center", va="top", fontsize=TEXT_SIZE + 0.5, fontweight="bold")
        ax.text(center, 4.35, head.task, ha="center", va="top", fontsize=TEXT_SIZE - 1, style="italic")
        choices = head.model_class is AlbertForMultipleChoice
        _box(ax, x, 3.35, width, 0.5, "input_ids (B, C, T)\nfolded: (B·C, T)" if choices else "input_ids (B, T)",
             size=TEXT_SIZE - 0.5)
        _arrow(ax, (center, 3.35), (center, 3.1))
        _box(ax, x, 2.65, width, 0.45, "AlbertModel", color=H_SPACE_COLOR)
        rows = "B·C" if choices else "B"
        read = f"pooled [CLS]\n({rows}, H)" if head.reads == "pooled" else "every token\n(B, T, H)"
        _arrow(ax, (center, 2.65), (center, 2.15), read)
        _box(ax, x, 1.65, width, 0.5, f"{'dropout, ' if head.dropout else ''}{head.layer}:\nH × {head.outputs}",
             color=HEAD_COLOR, size=TEXT_SIZE - 0.5)
        shapes = "\n".join(f"{field} {shape}" for field, shape in head.logits)
        if choices:
            shapes = f"({rows}, 1) → view →\nlogits (B, C)"
        elif len(head.logits) > 1:
            shapes = "(B, T, 2), split:\n" + shapes
        _arrow(ax, (center, 1.65), (center, 1.4))
        ax.text(center, 1.35, shapes, ha="center", va="top", fontsize=TEXT_SIZE - 0.5, family="monospace",
                linespacing=1.35)
        ax.text(center, 0.6, "loss: " + head.loss, ha="center", va="top", fontsize=TEXT_SIZE - 1, linespacing=1.35)
    return fig
