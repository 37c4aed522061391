"""The architecture: the forward pass, the factorized embedding to scale, and the paper's four sharing strategies.

These are the diagrams' sections (a) to (c); (d) and (e) are in tasks.py, the shared drawing in drawing.py.
"""

from __future__ import annotations

from typing import Optional

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Rectangle

from ...config import SHARING_STRATEGIES, AlbertConfig
from ...model import AlbertModel
from ...parameters import count_parameters
from .drawing import (
    E_SPACE_COLOR,
    EDGE_COLOR,
    H_SPACE_COLOR,
    HEAD_COLOR,
    TEXT_SIZE,
    arrow,
    box,
    canvas,
    dimension_key,
    with_commas,
)

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
    fig, ax = canvas(10, 7.6)
    activation = "act" if config is None else config.hidden_act
    relative = config is not None and config.position_embedding_type != "absolute"
    ax.text(0.2, 7.4, "AlbertForPreTraining: the forward pass", fontsize=13, fontweight="bold", va="top")
    ax.text(
        0.2,
        7.08,
        "boxes hold weights (sizes in dimension letters); arrows carry tensors (their shapes)",
        fontsize=TEXT_SIZE,
        va="top",
        color="#444444",
    )

    left, width = 1.2, 5.4
    center = left + width / 2
    box(ax, left, 6.3, width, 0.4, "input_ids, token_type_ids, attention_mask")
    arrow(ax, (center, 6.3), (center, 5.95), "(B, T)")
    positions = (
        f"position_embeddings (P × E) left out: {config.position_embedding_type} puts positions in attention"
        if relative
        else "+ position_embeddings (P × E), one row per position 0 .. T−1"
    )
    box(
        ax,
        left,
        4.75,
        width,
        1.2,
        color=E_SPACE_COLOR,
        title="embeddings",
        text="word_embeddings: V × E table, one row per id\n+ token_type_embeddings (2 × E), segment A or B\n"
        f"{positions}\nLayerNorm",
    )
    arrow(ax, (center, 4.75), (center, 4.4), "(B, T, E)")
    box(ax, left, 3.95, width, 0.45, color=H_SPACE_COLOR, text="embedding_hidden_mapping_in: E × H  (E → H)")
    arrow(ax, (center, 3.95), (center, 3.6), "(B, T, H)   $h_0$")

    # The encoder: one layer (attention, then FFN) and the loop that applies it L times.
    box(ax, left, 1.95, width, 1.65, color=H_SPACE_COLOR, title=_encoder_title(config))
    attention = "attention: query, key, value, dense (H × H each)\nN heads of D = H / N; + residual, LayerNorm"
    if relative:
        attention += "\ndistance_embedding: (2P − 1) × D, one row per i − j"
    box(ax, left + 0.25, 2.6, width - 0.5, 0.68, attention, color="white", size=TEXT_SIZE - 0.5)
    box(
        ax,
        left + 0.25,
        2.05,
        width - 0.5,
        0.45,
        f"ffn: H × I, {activation}, ffn_output: I × H; + residual, LayerNorm",
        color="white",
        size=TEXT_SIZE - 0.5,
    )
    arrow(ax, (left + width, 2.2), (left + width, 3.3), connection="arc3,rad=1.1")
    loop = "× L\n" + r"$h_1 \ldots h_L$"
    if config is not None and config.inner_group_num > 1:  # a group of several layers runs at each depth
        loop += f"\n{config.inner_group_num} layers\nper group"
    ax.text(left + width + 0.62, 2.75, loop, ha="left", va="center", fontsize=TEXT_SIZE + 1, fontweight="bold")

    # The two heads, fed from the last hidden state.
    mlm_left, sop_left, head_width = left, left + 2.85, 2.55
    arrow(ax, (center - 0.9, 1.95), (mlm_left + head_width / 2, 1.5), "(B, T, H)", side="left")
    arrow(ax, (center + 0.9, 1.95), (sop_left + head_width / 2, 1.5), "(B, H): $h_L$[:, 0], [CLS]")
    box(
        ax,
        mlm_left,
        0.55,
        head_width,
        0.95,
        color=HEAD_COLOR,
        title="MLM head: predictions",
        text=f"dense: H × E, {activation}, LayerNorm\ndecoder: E × V + bias",
        size=TEXT_SIZE - 0.5,
    )
    box(
        ax,
        sop_left,
        0.55,
        head_width,
        0.95,
        color=HEAD_COLOR,
        title="pooler + sop_classifier",
        text="pooler: H × H, tanh\nsop_classifier: H × 2",
        size=TEXT_SIZE - 0.5,
    )
    ax.text(
        mlm_left + head_width / 2,
        0.45,
        "prediction_logits (B, T, V)",
        ha="center",
        va="top",
        fontsize=TEXT_SIZE,
        family="monospace",
    )
    ax.text(
        sop_left + head_width / 2,
        0.45,
        "sop_logits (B, 2)",
        ha="center",
        va="top",
        fontsize=TEXT_SIZE,
        family="monospace",
    )
    ax.text(
        0.2,
        0.1,
        "loss = cross-entropy(prediction_logits, labels; −100 ignored) "
        "+ cross-entropy(sop_logits, sentence_order_label)",
        fontsize=TEXT_SIZE,
        va="bottom",
    )

    # The decoder's weight is the word-embedding table itself.
    ax.plot([mlm_left, 0.75, 0.75, left], [0.85, 0.85, 5.5, 5.5], linestyle="--", color="#b2182b", linewidth=1.2)
    ax.text(
        0.62,
        3.2,
        "tied: the decoder's E × V is the V × E table, transposed",
        rotation=90,
        ha="center",
        va="center",
        fontsize=TEXT_SIZE - 0.5,
        color="#b2182b",
    )

    letters = [
        ("B", "batch", ""),
        ("T", "tokens", ""),
        ("V", "vocabulary", "vocab_size"),
        ("E", "embedding size", "embedding_size"),
        ("H", "hidden size", "hidden_size"),
        ("N", "attention heads", "num_attention_heads"),
        ("D", "head size", "head_size"),
        ("I", "FFN size", "intermediate_size"),
        ("L", "layers (depth)", "num_hidden_layers"),
        ("P", "positions", "max_position_embeddings"),
    ]
    if config is not None and config.num_hidden_groups > 1:
        letters.append(("G", "groups of layer weights", "num_hidden_groups"))
    dimension_key(ax, 7.6, 6.75, config, letters)
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
    fig, ax = canvas(10, 5.4)
    ax.text(0.2, 5.2, "The factorized embedding, areas to scale", fontsize=13, fontweight="bold", va="top")
    ax.text(
        0.2,
        4.88,
        f"V = {with_commas(V)}, E = {with_commas(E)}, H = {with_commas(H)}; a table has one row per "
        "piece; one scale for rows, one for columns; biases left out",
        fontsize=TEXT_SIZE,
        va="top",
        color="#444444",
    )

    # Inches per column and per row: H + E + H columns and two gaps fill 8.6 inches, V rows fill 3.2 inches.
    gap = 0.7
    per_column = (8.6 - 2 * gap) / (2 * H + E)
    per_row = 3.2 / V
    bottom, top = 0.6, 0.6 + V * per_row
    bert_left = 0.5
    table_left = bert_left + H * per_column + gap
    projection_left = table_left + E * per_column + gap
    ax.text(
        bert_left + H * per_column / 2,
        top + 0.4,
        "BERT",
        ha="center",
        va="bottom",
        fontsize=TEXT_SIZE + 2,
        fontweight="bold",
    )
    ax.text(
        (table_left + projection_left + H * per_column) / 2,
        top + 0.4,
        "ALBERT",
        ha="center",
        va="bottom",
        fontsize=TEXT_SIZE + 2,
        fontweight="bold",
    )

    def matrix(x: float, y: float, rows: int, columns: int, color: str, row_letter: str, column_letter: str):
        ax.add_patch(Rectangle((x, y), columns * per_column, rows * per_row, facecolor=color, edgecolor=EDGE_COLOR))
        ax.text(
            x + columns * per_column / 2,
            y + rows * per_row + 0.05,
            column_letter,
            ha="center",
            va="bottom",
            fontsize=TEXT_SIZE + 1,
            style="italic",
        )
        if row_letter:
            ax.text(
                x - 0.06,
                y + rows * per_row / 2,
                row_letter,
                ha="right",
                va="center",
                fontsize=TEXT_SIZE + 1,
                style="italic",
            )

    matrix(bert_left, bottom, V, H, H_SPACE_COLOR, "V", "H")
    ax.text(
        bert_left + H * per_column / 2,
        (bottom + top) / 2,
        f"one V × H table\n{with_commas(V)} × {with_commas(H)}\n= {with_commas(V * H)}",
        ha="center",
        va="center",
        fontsize=TEXT_SIZE + 1,
    )
    matrix(table_left, bottom, V, E, E_SPACE_COLOR, "V", "E")
    ax.text(
        table_left + E * per_column + 0.1,
        bottom + 0.3,
        f"V × E table\n{with_commas(V)} × {with_commas(E)}\n= {with_commas(V * E)}",
        ha="left",
        va="bottom",
        fontsize=TEXT_SIZE + 1,
    )
    # The projection sits on top, where it multiplies the table: (V x E) @ (E x H) has the V x H table's shape.
    matrix(projection_left, top - E * per_row, E, H, H_SPACE_COLOR, "", "H")
    ax.annotate(
        f"E × H projection\n{with_commas(E)} × {with_commas(H)} = {with_commas(E * H)}",
        xy=(projection_left + H * per_column / 2, top - E * per_row / 2),
        xytext=(projection_left + H * per_column / 2, top - 0.45),
        ha="center",
        va="top",
        fontsize=TEXT_SIZE + 1,
        arrowprops=dict(arrowstyle="-|>", color=EDGE_COLOR),
    )
    ax.text(
        projection_left + H * per_column / 2,
        top - 1.3,
        "(V × E) · (E × H) has the V × H shape:\nevery piece still gets a vector of size H,\nbuilt from its E numbers",
        ha="center",
        va="top",
        fontsize=TEXT_SIZE,
        style="italic",
        color="#444444",
    )

    factorized = V * E + E * H
    ax.text(
        0.2,
        0.1,
        f"V × E + E × H = {with_commas(factorized)}, {factorized / (V * H):.1%} of V × H = {with_commas(V * H)}",
        fontsize=TEXT_SIZE + 1,
        va="bottom",
        fontweight="bold",
    )
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
    strategies = {
        sharing: _sharing_pattern(config.replace(sharing=sharing, num_hidden_groups=1))
        for sharing in SHARING_STRATEGIES
    }
    rows = len(strategies["all-shared"][0])
    row_height = min(0.3, 3.6 / rows)
    height = 1.75 + rows * row_height
    fig, ax = canvas(10, height)
    ax.text(
        0.2,
        height - 0.2,
        "Cross-layer sharing: which sub-layers are the same weights",
        fontsize=13,
        fontweight="bold",
        va="top",
    )
    ax.text(
        0.2,
        height - 0.52,
        f"L = {config.num_hidden_layers}, H = {with_commas(config.hidden_size)}; "
        "same colour and number = one set of weights, used at every depth where it appears",
        fontsize=TEXT_SIZE,
        va="top",
        color="#444444",
    )
    column_width, left = 2.2, 0.95
    top = height - 1.05
    for row in range(rows):
        ax.text(
            left - 0.1,
            top - (row + 0.5) * row_height,
            f"depth {row + 1}",
            ha="right",
            va="center",
            fontsize=TEXT_SIZE - 1,
        )
    for column, (sharing, (applications, total)) in enumerate(strategies.items()):
        x = left + column * (column_width + 0.05)
        ax.text(
            x + column_width / 2,
            top + 0.05,
            sharing,
            ha="center",
            va="bottom",
            fontsize=TEXT_SIZE + 1,
            fontweight="bold",
        )
        attention_ids = list(dict.fromkeys(a for a, _ in applications))  # distinct, in order of first use
        ffn_ids = list(dict.fromkeys(f for _, f in applications))
        for row, (attention, ffn) in enumerate(applications):
            y = top - (row + 1) * row_height + 0.03
            for offset, ids, key, name, colormap in (
                (0.0, attention_ids, attention, "attention", "Blues"),
                (1.05, ffn_ids, ffn, "FFN", "Oranges"),
            ):
                number = ids.index(key)
                color = _shade(colormap, number, len(ids))
                ax.add_patch(
                    FancyBboxPatch(
                        (x + offset + 0.02, y),
                        1.0,
                        row_height - 0.06,
                        boxstyle="round,pad=0,rounding_size=0.04",
                        facecolor=color,
                        edgecolor="white",
                    )
                )
                dark = number / max(len(ids) - 1, 1) >= 0.5
                ax.text(
                    x + offset + 0.52,
                    y + (row_height - 0.06) / 2,
                    f"{name} {number + 1}",
                    ha="center",
                    va="center",
                    fontsize=TEXT_SIZE - 1,
                    color="white" if dark else "black",
                )
        ax.text(
            x + column_width / 2,
            top - rows * row_height - 0.08,
            f"{len(attention_ids)} attention, {len(ffn_ids)} FFN\nAlbertModel: {total / 1e6:.1f}M parameters",
            ha="center",
            va="top",
            fontsize=TEXT_SIZE - 0.5,
        )
    return fig
