"""Seeing attention: bertviz fed from our model, and views that work with no network at all.

Every attention head produces, for a sentence of T tokens, a T x T matrix P whose row i is a probability distribution:
how much token i reads from each token j when it builds its next representation (`attention.py`). Looking at these
matrices is the first thing people do with a Transformer, and this file gives four ways to do it:

1. **bertviz** (Vig, 2019), the tool most people know. Its `head_view` and `model_view` want, for one sentence, a
   tuple with one (1, N, T, T) tensor per layer and the list of T tokens. `head_view` / `model_view` below build
   exactly that from our model's outputs and tokenizer, for any item of a padded batch: padding removed, SentencePiece's
   '▁' stripped, sentence B marked for pairs. bertviz loads require.js, d3 and jQuery from a public CDN when the
   page is shown, so it draws nothing offline, behind a firewall or in some front-ends (JupyterLab, VS Code). When
   the CDN cannot be reached from here, the adapters say so and show view 4 instead.
2. **matplotlib figures**, which need nothing but matplotlib and save to PNG or PDF: one head as a heatmap or as
   bertviz-style lines, all heads of a layer, every layer x head at once.
3. **An ipywidgets explorer** (`AttentionExplorer`): a text box, a layer slider, a head menu and a choice of view,
   redrawing the matplotlib figure as you change them.
4. **A self-contained HTML page** (`attention_html`, `save_html`): the attention values and a small renderer written
   for this project (plain JavaScript on a <canvas>) in one file, with no reference to anything on the network, so
   it opens in any browser offline and its picture can be saved as PNG from the page.

The analyses that turn attention into numbers (entropy, shares, rollout, head importance, depth divergence) are in
`attention_analysis.py`. `albert-explained attention "text"` on the command line uses this file
(`add_attention_command`).

Layers and heads are counted from 0, as Python indexes `outputs.attentions` and as bertviz does. For ALBERT,
"layer" means layer application: with all-shared weights, layer 3 is the one shared layer applied the fourth time.

Shapes: outputs.attentions is A x (B, N, T, T); one example (`AttentionSample.attentions`) is (A, N, t, t) with t the
number of real tokens.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import socket
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence, Union

import torch

VIEWS = ("heatmap", "lines")


# ----------------------------------------------------------------------------------------------------------------
# From model outputs to one example's attention and tokens
# ----------------------------------------------------------------------------------------------------------------

def prettify_tokens(tokens: Sequence[str]) -> list[str]:
    """SentencePiece pieces -> labels: '▁the' -> 'the' (the '▁' only says a word starts here); a lone '▁' stays."""
    return [token if token == "▁" else token.replace("▁", "") for token in tokens]


def _attention_tuple(outputs: Any) -> tuple[torch.Tensor, ...]:
    """The attention tuple from a model output, or the tuple itself."""
    attentions = getattr(outputs, "attentions", outputs)
    if attentions is None or (isinstance(attentions, (tuple, list)) and any(a is None for a in attentions)):
        raise ValueError("the outputs hold no attentions: call the model with output_attentions=True")
    if isinstance(attentions, torch.Tensor) or not all(isinstance(a, torch.Tensor) and a.dim() == 4
                                                        for a in attentions):
        raise ValueError("attentions must be a tuple with one (batch, heads, tokens, tokens) tensor per layer, as "
                         "model(..., output_attentions=True).attentions returns")
    return tuple(attentions)


@dataclass
class AttentionSample:
    """One sentence (or pair) and its attention at every layer and head, padding removed."""

    tokens: list[str]  # t labels, prettified
    attentions: torch.Tensor  # (A, N, t, t): layer application, head, query token, key token
    input_ids: torch.Tensor  # (t,)
    sentence_b_start: Optional[int] = None  # index of sentence B's first token for a pair, else None
    raw_tokens: Optional[list[str]] = None  # the pieces as the tokenizer spells them

    @property
    def num_layers(self) -> int:
        return self.attentions.shape[0]

    @property
    def num_heads(self) -> int:
        return self.attentions.shape[1]

    @classmethod
    def from_outputs(cls, outputs: Any, encoding: Mapping[str, torch.Tensor], tokenizer: Any = None,
                     index: int = 0) -> "AttentionSample":
        """Example `index` of a batch: outputs of model(**encoding, output_attentions=True) and that encoding.

        tokenizer: anything with convert_ids_to_tokens (default: the bundled model's tokenizer).
        """
        attentions = torch.stack(_attention_tuple(outputs)).detach().float().cpu()  # (A, B, N, T, T)
        input_ids = encoding["input_ids"].detach().cpu()  # (B, T)
        batch, seq_len = input_ids.shape
        if attentions.shape[1] != batch or attentions.shape[-1] != seq_len:
            raise ValueError(f"the attentions are for batch {attentions.shape[1]} x {attentions.shape[-1]} tokens but "
                             f"input_ids has shape {tuple(input_ids.shape)}: pass the encoding the model ran on")
        if not -batch <= index < batch:
            raise IndexError(f"index {index} is outside the batch of {batch}")
        mask = encoding.get("attention_mask")
        real = torch.ones(seq_len, dtype=torch.bool) if mask is None else mask[index].detach().cpu().bool()  # (T,)
        positions = real.nonzero().flatten()  # the real tokens; right or left padding alike
        ids = input_ids[index, positions]  # (t,)
        example = attentions[:, index][:, :, positions][:, :, :, positions]  # (A, N, t, t)

        sentence_b_start = None
        types = encoding.get("token_type_ids")
        if types is not None and (types[index, positions] == 1).any():
            sentence_b_start = int((types[index, positions] == 1).nonzero()[0, 0])  # first token of segment 1
        tokenizer = tokenizer if tokenizer is not None else model_and_tokenizer(None, None)[1]
        raw = list(tokenizer.convert_ids_to_tokens(ids.tolist()))
        return cls(prettify_tokens(raw), example, ids, sentence_b_start, raw)

    def bertviz_arguments(self) -> dict[str, Any]:
        """attention (A tensors of shape (1, N, t, t)), tokens and sentence_b_start, as bertviz wants them."""
        return {"attention": tuple(layer.unsqueeze(0) for layer in self.attentions),  # (N, t, t) -> (1, N, t, t)
                "tokens": list(self.tokens), "sentence_b_start": self.sentence_b_start}

    def check_layer_head(self, layer: int, head: Optional[int] = None) -> None:
        if not 0 <= layer < self.num_layers:
            raise ValueError(f"layer must be between 0 and {self.num_layers - 1} (this model has {self.num_layers} "
                             f"layer applications), got {layer}")
        if head is not None and not 0 <= head < self.num_heads:
            raise ValueError(f"head must be between 0 and {self.num_heads - 1} (this model has {self.num_heads} "
                             f"heads), got {head}")


def model_and_tokenizer(model: Optional[torch.nn.Module], tokenizer: Any) -> tuple[torch.nn.Module, Any]:
    """Both as given, or the bundled pair when neither is given."""
    if model is None and tokenizer is None:
        from .bundled import inference_model

        return inference_model()
    if model is None or tokenizer is None:
        raise ValueError("pass both model and tokenizer, or neither (to use the bundled model): a model needs the "
                         "tokenizer it was trained with")
    return model, tokenizer


@torch.no_grad()
def attend(text: str, text_pair: Optional[str] = None, model: Optional[torch.nn.Module] = None,
           tokenizer: Any = None) -> AttentionSample:
    """Tokenize a text (or a pair), run the model and return its attention: the starting point of every view."""
    model, tokenizer = model_and_tokenizer(model, tokenizer)
    encoding = tokenizer(text, text_pair, return_tensors="pt")
    inputs = {key: encoding[key].to(model.device) for key in ("input_ids", "attention_mask", "token_type_ids")
              if key in encoding}
    was_training = model.training
    model.eval()
    try:
        outputs = model(**inputs, output_attentions=True)
    finally:
        model.train(was_training)
    return AttentionSample.from_outputs(outputs, encoding, tokenizer)


def _sample(outputs: Any, encoding: Optional[Mapping[str, torch.Tensor]], tokenizer: Any,
            index: int) -> AttentionSample:
    if isinstance(outputs, AttentionSample):
        return outputs
    if encoding is None:
        raise ValueError("pass the encoding the model ran on (with input_ids and attention_mask), or an "
                         "AttentionSample")
    return AttentionSample.from_outputs(outputs, encoding, tokenizer, index)


# ----------------------------------------------------------------------------------------------------------------
# bertviz adapters
# ----------------------------------------------------------------------------------------------------------------

BERTVIZ_CDN = "cdnjs.cloudflare.com"  # where bertviz's page loads require.js, d3 and jQuery from


@lru_cache(maxsize=None)
def can_reach(host: str = BERTVIZ_CDN, port: int = 443, timeout: float = 2.0) -> bool:
    """Whether one TCP connection to host:port opens within `timeout` seconds: a name lookup and a handshake, asked
    once per process. Offline the lookup fails at once. The browser that shows a notebook is nearly always on the
    kernel's network, so this tells whether bertviz's page will draw."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError:
        return False
    return True


def _bertviz(view: str, sample: AttentionSample, bertviz_options: dict[str, Any]):
    """bertviz's `view` of the sample, or, when it would show an error box (no network), the offline page."""
    if bertviz_options.get("html_action", "view") == "view" and not can_reach():
        from IPython.display import display

        print(f"bertviz needs the network: its page loads require.js, d3 and jQuery from {BERTVIZ_CDN}, which "
              f"cannot be reached from here. Below is the same attention in this package's offline view instead.")
        display(show_html(sample, layer=bertviz_options.get("layer") or 0, view="lines" if view == "head_view"
                          else "layer", include_layers=bertviz_options.get("include_layers")))
        return None
    import bertviz

    return getattr(bertviz, view)(**sample.bertviz_arguments(), **bertviz_options)


def head_view(outputs: Any, encoding: Optional[Mapping[str, torch.Tensor]] = None, tokenizer: Any = None,
              index: int = 0, **bertviz_options: Any):
    """bertviz's head view of example `index`: head_view(model(**enc, output_attentions=True), enc, tokenizer).

    `outputs` may also be an AttentionSample. Other keyword arguments go to bertviz.head_view (layer, heads,
    include_layers, html_action="return" to get the HTML instead of displaying it). bertviz needs the network to
    draw: when its CDN cannot be reached (`can_reach`), a note says so and the offline page (`show_html`) is shown.
    """
    return _bertviz("head_view", _sample(outputs, encoding, tokenizer, index), bertviz_options)


def model_view(outputs: Any, encoding: Optional[Mapping[str, torch.Tensor]] = None, tokenizer: Any = None,
               index: int = 0, **bertviz_options: Any):
    """bertviz's model view (every layer x head) of example `index`; arguments and offline behaviour as for
    head_view (the offline page opens on all heads of the layer)."""
    return _bertviz("model_view", _sample(outputs, encoding, tokenizer, index), bertviz_options)


# ----------------------------------------------------------------------------------------------------------------
# matplotlib views: no network, save to PNG
# ----------------------------------------------------------------------------------------------------------------

SEGMENT_B_COLOR = "tab:orange"


def _color_segment_b(labels, sentence_b_start: Optional[int]) -> None:
    if sentence_b_start is not None:
        for label in labels[sentence_b_start:]:
            label.set_color(SEGMENT_B_COLOR)


def plot_attention_heatmap(matrix: torch.Tensor, tokens: Sequence[str], ax=None, title: str = "",
                           sentence_b_start: Optional[int] = None, show_labels: bool = True, colorbar: bool = True):
    """One (t, t) attention matrix: rows are the tokens that attend (queries), columns the tokens attended to."""
    import matplotlib.pyplot as plt

    matrix = torch.as_tensor(matrix).detach().float().cpu()
    if ax is None:
        size = min(2.0 + 0.25 * len(tokens), 10.0)
        _, ax = plt.subplots(figsize=(size + 0.8, size))
    image = ax.imshow(matrix.numpy(), cmap="Blues", vmin=0.0, vmax=1.0)
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


def plot_attention_lines(matrix: torch.Tensor, tokens: Sequence[str], ax=None, title: str = "",
                         sentence_b_start: Optional[int] = None, query: Optional[int] = None):
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
            plot_attention_heatmap(sample.attentions[layer, head], sample.tokens, ax=ax, title=f"head {head}",
                                   sentence_b_start=sample.sentence_b_start, show_labels=head == 0, colorbar=False)
        else:
            plot_head(sample, layer, head, view="lines", ax=ax)
    fig.suptitle(f"layer {layer}: every head")
    fig.tight_layout()
    return fig


def plot_layer_heads(sample: AttentionSample, layers: Optional[Sequence[int]] = None,
                     heads: Optional[Sequence[int]] = None, cell: float = 1.3):
    """The model view: a grid of small heatmaps, one row per layer, one column per head."""
    import matplotlib.pyplot as plt

    layers = list(range(sample.num_layers)) if layers is None else list(layers)
    heads = list(range(sample.num_heads)) if heads is None else list(heads)
    for layer in layers:
        sample.check_layer_head(layer)
    for head in heads:
        sample.check_layer_head(0, head)
    fig, axes = plt.subplots(len(layers), len(heads), figsize=(cell * len(heads) + 0.5, cell * len(layers) + 0.5),
                             squeeze=False)
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


FIGURE_SUFFIXES = (".png", ".pdf", ".svg")  # the figure files the attention command writes
PAGE_SUFFIXES = (".html", ".htm")  # and the interactive page (save_html)


def save_figure(fig, path: Union[str, os.PathLike], dpi: int = 150) -> Path:
    """Write a figure to PNG (or any format matplotlib knows from the extension: .pdf, .svg)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path


# ----------------------------------------------------------------------------------------------------------------
# The ipywidgets explorer
# ----------------------------------------------------------------------------------------------------------------

EXPLORER_VIEWS = ("heatmap", "lines", "all heads of the layer", "this head at every depth", "every layer x head")


class AttentionExplorer:
    """Type a sentence, pick a layer, a head and a view; the figure below redraws. Works wherever ipywidgets does
    (JupyterLab, Notebook 7, VS Code, Colab) and needs no network. `explorer.figure` is the current figure and
    `explorer.save(path)` writes it (.png) or the interactive page (.html)."""

    def __init__(self, model: Optional[torch.nn.Module] = None, tokenizer: Any = None,
                 text: str = "The cat sat on the mat.", text_pair: Optional[str] = None, layer: int = 0,
                 head: int = 0, view: str = "heatmap"):
        import ipywidgets as widgets

        self.model, self.tokenizer = model, tokenizer = model_and_tokenizer(model, tokenizer)
        self.sample = attend(text, text_pair or None, model, tokenizer)
        self.figure = None
        if view not in EXPLORER_VIEWS:
            raise ValueError(f"view must be one of {EXPLORER_VIEWS}, got {view!r}")
        self.sample.check_layer_head(layer, head)

        self.text = widgets.Text(value=text, description="sentence A", continuous_update=False,
                                 layout=widgets.Layout(width="60%"))
        self.text_pair = widgets.Text(value=text_pair or "", description="sentence B", placeholder="(optional)",
                                      continuous_update=False, layout=widgets.Layout(width="60%"))
        self.layer = widgets.IntSlider(value=layer, min=0, max=self.sample.num_layers - 1, description="layer")
        self.head = widgets.Dropdown(options=[("mean of heads", -1)] + [(str(h), h) for h in
                                                                         range(self.sample.num_heads)],
                                     value=head, description="head")
        self.view = widgets.ToggleButtons(options=EXPLORER_VIEWS, value=view, description="view")
        self.output = widgets.Output()
        self.widget = widgets.VBox([self.text, self.text_pair, widgets.HBox([self.layer, self.head]), self.view,
                                    self.output])
        for control in (self.text, self.text_pair):
            control.observe(self._on_text, names="value")
        for control in (self.layer, self.head, self.view):
            control.observe(self._on_choice, names="value")
        self.update()

    def _on_text(self, _change) -> None:
        try:
            self.sample = attend(self.text.value, self.text_pair.value or None, self.model, self.tokenizer)
        except ValueError as error:  # e.g. a text longer than the model's max_position_embeddings
            with self.output:
                self.output.clear_output(wait=True)
                print(f"cannot show this text: {error}")
            return
        self.update()

    def _on_choice(self, _change) -> None:
        self.update()

    def draw(self):
        """The figure for the current sentence and choices (a new matplotlib Figure)."""
        layer, head, view = self.layer.value, self.head.value, self.view.value
        head = None if head == -1 else head
        if view in VIEWS:
            return plot_head(self.sample, layer, head, view)
        if view == "all heads of the layer":
            return plot_layer(self.sample, layer)
        if view == "every layer x head":
            return plot_layer_heads(self.sample)
        from .attention_analysis import depth_divergence, plot_head_across_depths

        divergence = depth_divergence(self.sample.attentions[:, None])  # this sentence only: (N, A, A)
        return plot_head_across_depths(self.sample.attentions, self.sample.tokens, head,
                                       None if head is None else divergence[head])

    def update(self) -> None:
        import matplotlib.pyplot as plt
        from IPython.display import display

        if self.figure is not None:
            plt.close(self.figure)
        self.figure = self.draw()
        plt.close(self.figure)  # shown once, in the output area, not again by the inline backend
        with self.output:
            self.output.clear_output(wait=True)
            display(self.figure)

    def save(self, path: Union[str, os.PathLike]) -> Path:
        """The current figure as PNG (or .pdf/.svg), or with a .html path the self-contained interactive page."""
        if str(path).lower().endswith(PAGE_SUFFIXES):
            head = self.head.value if self.head.value >= 0 else 0
            return save_html(self.sample, path, layer=self.layer.value, head=head)
        return save_figure(self.figure, path)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


# ----------------------------------------------------------------------------------------------------------------
# Self-contained HTML: the values and a small canvas renderer in one file, nothing fetched
# ----------------------------------------------------------------------------------------------------------------

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>__TITLE__</title>
<style>
#__ID__ { font-family: Helvetica, Arial, sans-serif; font-size: 13px; color: #222; }
#__ID__ .controls { margin: 6px 0; display: flex; flex-wrap: wrap; gap: 10px; align-items: center; }
#__ID__ .status { color: #555; min-height: 1.4em; }
#__ID__ canvas { border: 1px solid #ddd; }
</style></head>
<body><div id="__ID__">
<div><b>__TITLE__</b> &mdash; rows attend to columns; hover a token or a cell. Sentence B in orange.</div>
<div class="controls">
 <label>layer <select class="layer"></select></label>
 <label>head <select class="head"></select></label>
 <label>view <select class="view">
  <option value="lines">lines</option><option value="heatmap">heatmap</option>
  <option value="layer">all heads of the layer</option><option value="depths">this head at every depth</option>
 </select></label>
 <button class="save">save PNG</button>
</div>
<div class="status"></div>
<canvas></canvas>
</div>
<script>
(function () {
  "use strict";
  var DATA = __DATA__;
  var root = document.getElementById("__ID__");
  var A = DATA.layers, N = DATA.heads, T = DATA.tokens.length, tokens = DATA.tokens;
  var canvas = root.querySelector("canvas"), ctx = canvas.getContext("2d");
  var layerSel = root.querySelector(".layer"), headSel = root.querySelector(".head");
  var viewSel = root.querySelector(".view"), status = root.querySelector(".status");
  var hover = null, regions = [];

  function option(select, value, text) {
    var o = document.createElement("option"); o.value = value; o.textContent = text; select.appendChild(o);
  }
  for (var l = 0; l < A; l++) option(layerSel, l, String(l));
  option(headSel, -1, "mean of heads");
  for (var h = 0; h < N; h++) option(headSel, h, String(h));
  layerSel.value = DATA.layer; headSel.value = DATA.head; viewSel.value = DATA.view;

  // attention[layer][head][i][j] is stored flat, in thousandths.
  function w(layer, head, i, j) {
    if (head < 0) {
      var s = 0; for (var k = 0; k < N; k++) s += w(layer, k, i, j); return s / N;
    }
    return DATA.attn[((layer * N + head) * T + i) * T + j] / 1000;
  }
  function isB(i) { return DATA.b_start !== null && i >= DATA.b_start; }
  function tokenColor(i) { return isB(i) ? "#d86f00" : "#222"; }
  function cellColor(x) { return "rgba(31,119,180," + x.toFixed(3) + ")"; }

  function resize(width, height) {
    var r = window.devicePixelRatio || 1;
    canvas.width = width * r; canvas.height = height * r;
    canvas.style.width = width + "px"; canvas.style.height = height + "px";
    ctx.setTransform(r, 0, 0, r, 0, 0);
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, width, height);
    ctx.font = "12px Helvetica, Arial, sans-serif"; ctx.textBaseline = "middle";
  }
  function labelWidth() {
    ctx.font = "12px Helvetica, Arial, sans-serif";
    var m = 0; tokens.forEach(function (t) { m = Math.max(m, ctx.measureText(t).width); }); return m + 8;
  }

  function drawLines(layer, head) {
    var lw = labelWidth(), row = 20, gap = 160, width = 2 * lw + gap + 20, height = T * row + 20;
    resize(width, height);
    var x0 = 10 + lw, x1 = x0 + gap;
    regions = [];
    for (var i = 0; i < T; i++) {
      if (hover !== null && hover.i !== i) continue;
      for (var j = 0; j < T; j++) {
        var a = w(layer, head, i, j); if (a < 0.01) continue;
        ctx.strokeStyle = "rgba(31,119,180," + a.toFixed(3) + ")"; ctx.lineWidth = 2;
        ctx.beginPath(); ctx.moveTo(x0 + 2, 10 + (i + 0.5) * row); ctx.lineTo(x1 - 2, 10 + (j + 0.5) * row);
        ctx.stroke();
      }
    }
    for (var k = 0; k < T; k++) {
      var y = 10 + (k + 0.5) * row;
      ctx.fillStyle = tokenColor(k);
      ctx.font = (hover !== null && hover.i === k ? "bold " : "") + "12px Helvetica, Arial, sans-serif";
      ctx.textAlign = "right"; ctx.fillText(tokens[k], x0 - 4, y);
      ctx.textAlign = "left"; ctx.fillText(tokens[k], x1 + 4, y);
      regions.push({x: 10, y: y - row / 2, w: lw, h: row, i: k, j: null});
    }
  }

  function drawMatrix(layer, head, left, top, cell, labels) {
    for (var i = 0; i < T; i++) for (var j = 0; j < T; j++) {
      ctx.fillStyle = cellColor(w(layer, head, i, j));
      ctx.fillRect(left + j * cell, top + i * cell, cell, cell);
      if (labels) regions.push({x: left + j * cell, y: top + i * cell, w: cell, h: cell, i: i, j: j,
                                layer: layer, head: head});
    }
    ctx.strokeStyle = "#ccc"; ctx.lineWidth = 1; ctx.strokeRect(left, top, T * cell, T * cell);
    if (DATA.b_start !== null) {
      ctx.strokeStyle = "#d86f00"; ctx.beginPath();
      ctx.moveTo(left + DATA.b_start * cell, top); ctx.lineTo(left + DATA.b_start * cell, top + T * cell);
      ctx.moveTo(left, top + DATA.b_start * cell); ctx.lineTo(left + T * cell, top + DATA.b_start * cell);
      ctx.stroke();
    }
  }

  function drawHeatmap(layer, head) {
    var lw = labelWidth(), cell = 20, width = lw + T * cell + 20, height = lw + T * cell + 20;
    resize(width, height); regions = [];
    var left = lw + 10, top = lw + 10;
    drawMatrix(layer, head, left, top, cell, true);
    for (var k = 0; k < T; k++) {
      ctx.fillStyle = tokenColor(k); ctx.textAlign = "right";
      ctx.fillText(tokens[k], left - 4, top + (k + 0.5) * cell);
      ctx.save(); ctx.translate(left + (k + 0.5) * cell, top - 4); ctx.rotate(-Math.PI / 2);
      ctx.textAlign = "left"; ctx.fillText(tokens[k], 0, 0); ctx.restore();
    }
  }

  function drawSmall(panels, title) {
    var cell = Math.max(2, Math.min(12, Math.floor(160 / T))), size = T * cell, pad = 14;
    resize(panels.length * (size + pad) + pad, size + 44); regions = [];
    panels.forEach(function (p, n) {
      var left = pad + n * (size + pad);
      ctx.fillStyle = "#222"; ctx.textAlign = "left"; ctx.fillText(p.label, left, 14);
      drawMatrix(p.layer, p.head, left, 30, cell, true);
    });
  }

  function draw() {
    var layer = +layerSel.value, head = +headSel.value, view = viewSel.value;
    if (view === "lines") drawLines(layer, head);
    else if (view === "heatmap") drawHeatmap(layer, head);
    else if (view === "layer") {
      var p = []; for (var h = 0; h < N; h++) p.push({layer: layer, head: h, label: "head " + h});
      drawSmall(p);
    } else {
      var q = []; for (var l = 0; l < A; l++) q.push({layer: l, head: head, label: "depth " + l});
      drawSmall(q);
    }
  }

  function describe(r) {
    if (r.j === null) return "";
    var where = r.layer !== undefined ? "layer " + r.layer + ", head " + (r.head < 0 ? "mean" : r.head) + ": " : "";
    return where + tokens[r.i] + " \\u2192 " + tokens[r.j] + " = " + w(r.layer, r.head, r.i, r.j).toFixed(3);
  }
  canvas.addEventListener("mousemove", function (e) {
    var box = canvas.getBoundingClientRect(), x = e.clientX - box.left, y = e.clientY - box.top, found = null;
    regions.forEach(function (r) { if (x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h) found = r; });
    if (viewSel.value === "lines") {
      var before = hover; hover = found; if ((before && before.i) !== (found && found.i)) draw();
    } else {
      status.textContent = found ? describe(found) : "";
    }
  });
  canvas.addEventListener("mouseleave", function () { if (hover !== null) { hover = null; draw(); } });
  [layerSel, headSel, viewSel].forEach(function (s) { s.addEventListener("change", function () {
    hover = null; status.textContent = ""; draw(); }); });
  root.querySelector(".save").addEventListener("click", function () {
    var a = document.createElement("a");
    a.download = "attention-layer" + layerSel.value + "-head" + headSel.value + "-" + viewSel.value + ".png";
    a.href = canvas.toDataURL("image/png"); document.body.appendChild(a); a.click(); a.remove();
  });
  draw();
})();
</script>
</body></html>
"""


def attention_html(sample: AttentionSample, layer: int = 0, head: int = 0, view: str = "lines",
                   title: Optional[str] = None, include_layers: Optional[Sequence[int]] = None) -> str:
    """One self-contained HTML page (a string) showing the sample's attention; opens offline in any browser.

    view: "lines", "heatmap", "layer" (all heads of the layer) or "depths" (this head at every depth).
    include_layers keeps only some layers, to make the page smaller for long texts or deep models.
    """
    if view not in ("lines", "heatmap", "layer", "depths"):
        raise ValueError(f"view must be 'lines', 'heatmap', 'layer' or 'depths', got {view!r}")
    sample.check_layer_head(layer, None if head == -1 else head)
    attentions = sample.attentions if include_layers is None else sample.attentions[list(include_layers)]
    if include_layers is not None:
        layer = list(include_layers).index(layer) if layer in include_layers else 0
    data = {
        "tokens": sample.tokens, "b_start": sample.sentence_b_start, "layers": attentions.shape[0],
        "heads": attentions.shape[1], "layer": layer, "head": head, "view": view,
        # Thousandths as integers: a third of the size of floats, and finer than a colour can show.
        "attn": (attentions * 1000).round().to(torch.int32).flatten().tolist(),
    }
    # Inside <script>, "</" could end the script early (a token such as "</s>"): escape it as JSON allows.
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    element_id = "attention-" + hashlib.sha1(payload.encode()).hexdigest()[:10]  # the same page gives the same id
    title = html.escape(title or " ".join(sample.tokens))
    return _PAGE.replace("__DATA__", payload).replace("__ID__", element_id).replace("__TITLE__", title)


def save_html(sample: AttentionSample, path: Union[str, os.PathLike], **options: Any) -> Path:
    """Write attention_html(sample, **options) to `path` (UTF-8)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(attention_html(sample, **options), encoding="utf-8")
    return path


def show_html(sample: AttentionSample, height: int = 520, **options: Any):
    """The HTML page inside a notebook: an <iframe srcdoc> so that several pages never interfere."""
    from IPython.display import HTML

    page = html.escape(attention_html(sample, **options), quote=True)
    return HTML(f'<div><iframe srcdoc="{page}" style="width:100%;height:{height}px;border:none"></iframe></div>')


# ----------------------------------------------------------------------------------------------------------------
# Command line: albert-explained attention "some text" --layer L --head H -o out.png
# ----------------------------------------------------------------------------------------------------------------

def add_attention_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the `attention` subcommand on an argparse subparsers object (cli.py calls this)."""
    parser = subparsers.add_parser(
        "attention", help="draw one sentence's attention to a PNG or a self-contained HTML page",
        description="Run a sentence through the model and draw where its tokens attend. A .png (or .pdf/.svg) "
                    "output gets one head (--head) or every head of the layer (no --head); a .html output gets an "
                    "interactive page that works offline, opened at --layer/--head. Layers and heads count from 0.",
    )
    parser.add_argument("text", help="the sentence (sentence A)")
    parser.add_argument("--pair", metavar="TEXT", help="a second sentence (sentence B), for a pair")
    parser.add_argument("--layer", type=int, default=0, help="layer (application), from 0 (default: 0)")
    parser.add_argument("--head", type=int, default=None,
                        help="head, from 0 (default: every head of the layer in a PNG, head 0 in HTML)")
    parser.add_argument("--view", choices=VIEWS, default="heatmap", help="picture for one head (default: heatmap)")
    parser.add_argument("--model", metavar="DIR", default=None,
                        help="checkpoint directory with config.json, model.safetensors and spiece.model "
                             "(default: the bundled model)")
    parser.add_argument("-o", "--output", default="attention.png",
                        help="output file: .png/.pdf/.svg for a figure, .html for the interactive page "
                             "(default: attention.png)")
    parser.set_defaults(handler=run_attention_command)
    return parser


def run_attention_command(args: argparse.Namespace) -> None:
    """Handler of `albert-explained attention`: writes the file and prints where each token looks."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no window, works on a server
    from .bundled import inference_model

    output = Path(args.output)
    if output.suffix.lower() not in FIGURE_SUFFIXES + PAGE_SUFFIXES:
        raise ValueError(f"--output must be a file name ending in {', '.join(FIGURE_SUFFIXES)} (a figure) or "
                         f"{', '.join(PAGE_SUFFIXES)} (the interactive page), got {args.output!r}")
    if output.is_dir():
        raise ValueError(f"--output {args.output!r} is a directory; give a file name, such as "
                         f"{output / 'attention.png'}")
    model, tokenizer = inference_model(args.model)  # the bundled model when --model is not given
    sample = attend(args.text, args.pair, model, tokenizer)
    sample.check_layer_head(args.layer, args.head)
    if output.suffix.lower() in PAGE_SUFFIXES:
        save_html(sample, output, layer=args.layer, head=args.head or 0,
                  view="lines" if args.view == "lines" else "heatmap")
    else:
        fig = plot_layer(sample, args.layer, args.view) if args.head is None else \
            plot_head(sample, args.layer, args.head, args.view)
        save_figure(fig, output)
    matrix = sample.attentions[args.layer].mean(0) if args.head is None else sample.attentions[args.layer, args.head]
    which = "mean of heads" if args.head is None else f"head {args.head}"
    print(f"layer {args.layer}, {which}: where each token looks most")
    for token, row in zip(sample.tokens, matrix, strict=True):
        j = int(row.argmax())
        print(f"  {token:>15} -> {sample.tokens[j]:<15} {row[j].item():.2f}")
    print(f"wrote {output}")
