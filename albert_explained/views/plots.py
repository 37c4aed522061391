"""Pictures of attention drawn with matplotlib: they need no network and save to PNG, PDF or SVG.

One head as a heatmap (rows are the tokens that attend, columns the tokens attended to) or as bertviz-style lines, all
heads of a layer, every layer x head at once, and the figures of the analyses in analysis.py: a number per head as a
layer x head table, entropy, shares, rollout, the head-masking curve, and ALBERT's own view, one head of the shared
layer at every depth; and the paper's figure 1, how far each layer moves the hidden state. Every function returns
the Figure, so it can be shown or saved (`save_figure`).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Mapping, Optional, Sequence, Union

import torch

from ..files import make_parent_folder, write_file
from .analysis import MaskingCurve
from .sample import AttentionSample


VIEWS = ("heatmap", "lines")
FIGURE_SUFFIXES = (".png", ".pdf", ".svg")  # the figure files the attention command writes
SEGMENT_B_COLOR = "tab:orange"


def _color_segment_b(labels, sentence_b_start: Optional[int]) -> None:
    if sentence_b_start is not None:
        for label in labels[sentence_b_start:]:
            label.set_color(SEGMENT_B_COLOR)


def plot_attention_heatmap(
    matrix: torch.Tensor,
    tokens: Sequence[str],
    ax=None,
    title: str = "",
    sentence_b_start: Optional[int] = None,
    show_labels: bool = True,
    colorbar: bool = True,
    vmax: float = 1.0,
):
    """One (t, t) attention matrix: rows are the tokens that attend (queries), columns the tokens attended to. The
    colour scale runs from 0 to `vmax` (1, a weight's largest possible value, unless given)."""
    import matplotlib.pyplot as plt

    matrix = torch.as_tensor(matrix).detach().float().cpu()
    if ax is None:
        size = min(2.0 + 0.25 * len(tokens), 10.0)
        _, ax = plt.subplots(figsize=(size + 0.8, size))
    image = ax.imshow(matrix.numpy(), cmap="Blues", vmin=0.0, vmax=vmax)
    ax.set_xticks(range(len(tokens)))
    ax.set_yticks(range(len(tokens)))
    if show_labels:
        ax.set_xticklabels(tokens, rotation=90, fontsize=8)
        ax.set_yticklabels(tokens, fontsize=8)
        _color_segment_b(ax.get_xticklabels(), sentence_b_start)
        _color_segment_b(ax.get_yticklabels(), sentence_b_start)
        ax.set_xlabel("attended to (key)")
        ax.set_ylabel("attending (query)")
    else:
        ax.set_xticklabels([])
        ax.set_yticklabels([])
    if sentence_b_start is not None:  # a thin cross between sentence A and sentence B
        for line in (ax.axhline, ax.axvline):
            line(sentence_b_start - 0.5, color=SEGMENT_B_COLOR, linewidth=0.8)
    ax.set_title(title, fontsize=9)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return ax.figure


def plot_attention_lines(
    matrix: torch.Tensor,
    tokens: Sequence[str],
    ax=None,
    title: str = "",
    sentence_b_start: Optional[int] = None,
    query: Optional[int] = None,
):
    """bertviz's picture drawn with matplotlib: tokens twice, a line from each token (left) to each token it
    attends to (right), as opaque as the weight. With `query`, only that token's lines."""
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    matrix = torch.as_tensor(matrix).detach().float().cpu()
    num_tokens = len(tokens)
    if ax is None:
        _, ax = plt.subplots(figsize=(3.6, 0.8 + 0.28 * num_tokens))
    y = [num_tokens - 1 - i for i in range(num_tokens)]  # first token at the top
    segments, colors = [], []
    for i in range(num_tokens) if query is None else [query]:
        for j in range(num_tokens):
            weight = matrix[i, j].item()
            if weight > 0.01:  # fainter lines would only grey the picture
                segments.append([(0.05, y[i]), (0.95, y[j])])
                colors.append((0.12, 0.47, 0.71, weight))  # tab:blue, as opaque as the weight
    ax.add_collection(LineCollection(segments, colors=colors, linewidths=2.0))  # one artist: fast to draw
    for side, x, align in ((0, 0.0, "right"), (1, 1.0, "left")):
        for i, token in enumerate(tokens):
            color = SEGMENT_B_COLOR if sentence_b_start is not None and i >= sentence_b_start else "black"
            weight = "bold" if side == 0 and i == query else "normal"
            ax.text(x, y[i], token, ha=align, va="center", fontsize=9, color=color, fontweight=weight)
    ax.set_xlim(-0.6, 1.6)
    ax.set_ylim(-0.8, num_tokens - 0.2)
    ax.axis("off")
    ax.set_title(title, fontsize=9)
    return ax.figure


def plot_head(sample: AttentionSample, layer: int, head: Optional[int] = None, view: str = "heatmap", ax=None):
    """One head (or, with head=None, the mean of the layer's heads) of one sentence, as a heatmap or as lines."""
    sample.check_layer_head(layer, head)
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}, got {view!r}")
    matrix = sample.attentions[layer].mean(0) if head is None else sample.attentions[layer, head]  # (t, t)
    title = f"layer {layer}, " + ("mean of heads" if head is None else f"head {head}")
    draw = plot_attention_heatmap if view == "heatmap" else plot_attention_lines
    return draw(matrix, sample.tokens, ax=ax, title=title, sentence_b_start=sample.sentence_b_start)


def plot_layer(sample: AttentionSample, layer: int, view: str = "heatmap"):
    """Every head of one layer side by side, token labels on the first."""
    import matplotlib.pyplot as plt

    sample.check_layer_head(layer)
    n, t = sample.num_heads, len(sample.tokens)
    size = min(1.2 + 0.15 * t, 5.0)
    fig, axes = plt.subplots(1, n, figsize=(size * n if view == "heatmap" else 3.0 * n, size), squeeze=False)
    for head, ax in enumerate(axes[0]):
        if view == "heatmap":
            plot_attention_heatmap(
                sample.attentions[layer, head],
                sample.tokens,
                ax=ax,
                title=f"head {head}",
                sentence_b_start=sample.sentence_b_start,
                show_labels=head == 0,
                colorbar=False,
            )
        else:
            plot_head(sample, layer, head, view="lines", ax=ax)
    fig.suptitle(f"layer {layer}: every head")
    fig.tight_layout()
    return fig


def plot_layer_heads(
    sample: AttentionSample,
    layers: Optional[Sequence[int]] = None,
    heads: Optional[Sequence[int]] = None,
    cell: float = 1.3,
):
    """The model view: a grid of small heatmaps, one row per layer, one column per head."""
    import matplotlib.pyplot as plt

    layers = list(range(sample.num_layers)) if layers is None else list(layers)
    heads = list(range(sample.num_heads)) if heads is None else list(heads)
    for layer in layers:
        sample.check_layer_head(layer)
    for head in heads:
        sample.check_layer_head(0, head)
    fig, axes = plt.subplots(
        len(layers), len(heads), figsize=(cell * len(heads) + 0.5, cell * len(layers) + 0.5), squeeze=False
    )
    for r, layer in enumerate(layers):
        for c, head in enumerate(heads):
            ax = axes[r][c]
            ax.imshow(sample.attentions[layer, head].numpy(), cmap="Blues", vmin=0.0, vmax=1.0)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"head {head}", fontsize=8)
            if c == 0:
                ax.set_ylabel(f"layer {layer}", fontsize=8)
    fig.suptitle("every layer x head (rows: queries, columns: keys)", fontsize=9)
    fig.tight_layout()
    return fig


def save_figure(fig, path: Union[str, os.PathLike], dpi: int = 150) -> Path:
    """Write a figure to PNG (or any format matplotlib knows from the extension: .pdf, .svg), atomically."""
    path = Path(path)
    make_parent_folder(path)
    # Written through a file object (files.write_file), so the format comes from the name here, not from matplotlib.
    image_format = path.suffix[1:].lower() or None  # None: matplotlib's default, PNG
    return write_file(path, lambda f: fig.savefig(f, format=image_format, dpi=dpi, bbox_inches="tight"))


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def plot_head_scores(
    scores: torch.Tensor,
    title: str = "",
    ax=None,
    fmt: str = ".2f",
    cmap: str = "viridis",
    vmin: Optional[float] = None,
    vmax: Optional[float] = None,
    colorbar: bool = True,
):
    """A layer x head table of one number per head (A, N), as a heatmap with the numbers written in."""
    plt = _pyplot()
    scores = torch.as_tensor(scores).detach().float().cpu()
    num_layers, num_heads = scores.shape
    if ax is None:
        # At least 4 x 3 inches: a model of 2 heads and 4 layers still gets a table a reader can see.
        _, ax = plt.subplots(figsize=(max(4.0, 1.0 + 0.6 * num_heads), max(3.0, 0.8 + 0.45 * num_layers)))
    image = ax.imshow(scores.numpy(), cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    if num_layers * num_heads <= 400:  # numbers stay legible up to about 20 x 20
        for layer in range(num_layers):
            for head in range(num_heads):
                value = scores[layer, head].item()
                red, green, blue, _ = image.cmap(image.norm(value))  # the cell's colour
                light = 0.299 * red + 0.587 * green + 0.114 * blue > 0.5  # perceived brightness
                ax.text(
                    head,
                    layer,
                    format(value, fmt),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="black" if light else "white",
                )
    ax.set_xticks(range(num_heads))
    ax.set_yticks(range(num_layers))
    ax.set_xlabel("head")
    ax.set_ylabel("layer (depth)")
    ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return ax.figure


def plot_entropy(entropy: torch.Tensor, seq_len: Optional[int] = None, ax=None):
    """Heatmap of attention_entropy; with seq_len, the colour scale runs from 0 to log T (uniform attention)."""
    top = math.log(seq_len) if seq_len else None
    title = "attention entropy (nats)" + (f", uniform = log {seq_len} = {top:.2f}" if top else "")
    return plot_head_scores(entropy, title, ax=ax, vmin=0.0 if top else None, vmax=top, cmap="magma")


def plot_shares(shares: Mapping[str, torch.Tensor]):
    """One layer x head heatmap per target of attention_shares, on a common 0..1 scale."""
    plt = _pyplot()
    num_layers, num_heads = next(iter(shares.values())).shape
    fig, axes = plt.subplots(
        1, len(shares), figsize=(len(shares) * (0.8 + 0.45 * num_heads), 1.4 + 0.45 * num_layers), squeeze=False
    )
    for ax, (name, values) in zip(axes[0], shares.items(), strict=True):
        plot_head_scores(values, f"to {name}", ax=ax, vmin=0.0, vmax=1.0, cmap="Blues", colorbar=False)
    fig.suptitle("share of each head's attention")
    fig.tight_layout()
    return fig


def plot_rollout(rollout: torch.Tensor, tokens: Sequence[str], last_layer: Optional[torch.Tensor] = None):
    """The rollout matrix (T, T) of one sentence; with last_layer (T, T), the raw top-layer attention beside it.

    Each panel gets its own colour scale, from 0 to its largest value: rollout spreads each row over many tokens, so
    its values stay small (often under 0.2), and on attention's 0..1 scale the panel would look almost white."""
    plt = _pyplot()
    panels = [("raw attention, top layer (mean of heads)", last_layer)] if last_layer is not None else []
    panels.append(("attention rollout through all layers", rollout))
    size = min(2.0 + 0.25 * len(tokens), 8.0)
    fig, axes = plt.subplots(1, len(panels), figsize=((size + 0.8) * len(panels), size), squeeze=False)
    for ax, (title, matrix) in zip(axes[0], panels, strict=True):
        top = float(torch.as_tensor(matrix).max())
        plot_attention_heatmap(matrix, tokens, ax=ax, title=f"{title}\n(colour scale 0 to {top:.2f})", vmax=top)
    fig.tight_layout()
    return fig


def plot_masking_curve(curve: MaskingCurve, ax=None):
    """MLM accuracy against the number of masked heads: by importance, and at random."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(curve.num_masked, curve.accuracy, "o-", label="least important first")
    if curve.random_accuracy:
        ax.plot(curve.num_masked, curve.random_accuracy, "s--", color="gray", label="random heads (mean)")
    ax.set_xlabel(f"heads masked (of {curve.total_heads})")
    ax.set_ylabel("MLM accuracy")
    ax.set_ylim(0, max(max(curve.accuracy), max(curve.random_accuracy, default=0)) * 1.1 + 1e-3)
    ax.legend()
    ax.grid(alpha=0.3)
    ax.set_title("masking heads by importance (Michel et al., 2019)")
    return ax.figure


def plot_head_across_depths(
    attentions: torch.Tensor, tokens: Sequence[str], head: Optional[int], divergence: Optional[torch.Tensor] = None
):
    """ALBERT's own view: one head of the shared layer at every depth, side by side, for one sentence.

    attentions: (A, N, T, T) for one sentence (AttentionSample.attentions); head None draws the mean of the heads.
    divergence: depth_divergence(...)[head], (A, A), drawn as a last panel when given.
    """
    plt = _pyplot()
    attentions = torch.as_tensor(attentions)
    num_layers = attentions.shape[0]
    panels = num_layers + (divergence is not None)
    columns = min(panels, 3)  # rows of at most three panels, at most 14 inches wide: labels stay readable
    rows = math.ceil(panels / columns)
    size = min(1.2 + 0.15 * len(tokens), 5.0, 14.0 / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(size * columns, (size + 0.6) * rows + 0.4), squeeze=False)
    axes = axes.flatten()
    for ax in axes[panels:]:
        ax.axis("off")
    for depth in range(num_layers):
        matrix = attentions[depth].mean(0) if head is None else attentions[depth, head]  # (T, T)
        plot_attention_heatmap(
            matrix, tokens, ax=axes[depth], title=f"depth {depth}", show_labels=depth == 0, colorbar=False
        )
    if divergence is not None:
        ax = axes[panels - 1]
        plot_head_scores(
            divergence, "JS divergence between depths", ax=ax, cmap="Reds", vmin=0.0, vmax=math.log(2), colorbar=False
        )
        ax.set_xlabel("depth")
        ax.set_ylabel("depth")
    which = "mean of the heads" if head is None else f"head {head}"
    fig.suptitle(f"{which}: the same weights W_Q, W_K, W_V at every depth")
    fig.tight_layout()
    return fig


def plot_layer_transitions(panels: Sequence[tuple[str, Mapping[str, tuple[Sequence[float], Sequence[float]]]]]):
    """The paper's figure 1, one row per (title, {name: (distances, angles)}) from `layer_transitions`: the L2
    distance on the left, the angle on the right, against the layer."""
    plt = _pyplot()
    fig, axes = plt.subplots(len(panels), 2, figsize=(11, 3.6 * len(panels)), squeeze=False)
    for row, (title, curves) in enumerate(panels):
        for name, (distances, angles) in curves.items():
            layers = range(1, len(distances) + 1)
            axes[row, 0].plot(layers, distances, "o-", ms=3, label=name)
            axes[row, 1].plot(layers, angles, "o-", ms=3, label=name)
        # ALBERT's first step can be several times larger than all the others (h_0 is not yet normalised). A first
        # point more than twice the largest later one would squash every other point to the bottom: it is drawn as
        # a triangle at the top edge, with its value written beside it, in the band above the other points.
        later = max(max(distances[1:]) for distances, _ in curves.values())
        off_chart = {name: distances[0] for name, (distances, _) in curves.items() if distances[0] > 2 * later}
        top = 1.35 * later if off_chart else 1.1 * max(max(distances) for distances, _ in curves.values())
        for k, (name, value) in enumerate(off_chart.items()):
            color = next(line.get_color() for line in axes[row, 0].get_lines() if line.get_label() == name)
            axes[row, 0].plot([1], [top], "^", color=color, ms=7, clip_on=False)
            axes[row, 0].annotate(
                f"{name}, layer 1: {value:.1f} (off the chart)",
                (1, top),
                xytext=(10, -8 - 12 * k),
                textcoords="offset points",
                fontsize=8,
                va="top",
                color=color,
            )
        axes[row, 0].set_ylim(0, top)
        axes[row, 0].set(xlabel="layer", ylabel="L2 distance", title=f"{title}: L2 distance, input vs output")
        axes[row, 1].set(xlabel="layer", ylabel="angle (degrees)", title=f"{title}: angle, input vs output")
        axes[row, 0].legend(loc="best")
        for ax in axes[row]:
            ax.xaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    return fig
