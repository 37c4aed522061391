"""An ipywidgets explorer of attention: type a sentence, pick a layer, a head and a view; the figure redraws.

It draws with plots.py, so it needs no network and works wherever ipywidgets does (JupyterLab, Notebook 7, VS Code,
Colab); `save` writes the current figure, or with an .html name the offline page of page.py.

The figure is shown as a PNG in an `Image` widget, not displayed inside an `Output` widget. Where a notebook runs
without a browser (nbclient, under nbmake, `jupyter nbconvert --execute` or papermill), nbclient answers each display
in an `Output` widget with a message to the kernel, on the socket where it is waiting for the cell's reply; pyzmq can
then miss the reply, and the run stalls until the cell's timeout, or for ever without one. An `Image` widget's
messages only go from the kernel to the page.
"""

from __future__ import annotations

import html
import io
import os
from pathlib import Path
from typing import Any, Optional, Union

import torch

from .analysis import depth_divergence
from .page import PAGE_SUFFIXES, save_html
from .plots import VIEWS, plot_head, plot_head_across_depths, plot_layer, plot_layer_heads, save_figure
from .sample import attend, model_and_tokenizer


EXPLORER_VIEWS = ("heatmap", "lines", "all heads of the layer", "this head at every depth", "every layer x head")


class AttentionExplorer:
    """Type a sentence, pick a layer, a head and a view; the figure below redraws. Works wherever ipywidgets does
    (JupyterLab, Notebook 7, VS Code, Colab) and needs no network. `explorer.figure` is the current figure and
    `explorer.save(path)` writes it (.png) or the interactive page (.html)."""

    def __init__(
        self,
        model: Optional[torch.nn.Module] = None,
        tokenizer: Any = None,
        text: str = "The cat sat on the mat.",
        text_pair: Optional[str] = None,
        layer: int = 0,
        head: int = 0,
        view: str = "heatmap",
    ):
        import ipywidgets as widgets

        self.model, self.tokenizer = model, tokenizer = model_and_tokenizer(model, tokenizer)
        self.sample = attend(text, text_pair or None, model, tokenizer)
        self.figure = None
        self.problem: Optional[str] = None  # why the typed text cannot be shown, while it cannot
        if view not in EXPLORER_VIEWS:
            raise ValueError(f"view must be one of {EXPLORER_VIEWS}, got {view!r}")
        self.sample.check_layer_head(layer, head)

        self.text = widgets.Text(
            value=text, description="sentence A", continuous_update=False, layout=widgets.Layout(width="60%")
        )
        self.text_pair = widgets.Text(
            value=text_pair or "",
            description="sentence B",
            placeholder="(optional)",
            continuous_update=False,
            layout=widgets.Layout(width="60%"),
        )
        self.layer = widgets.IntSlider(value=layer, min=0, max=self.sample.num_layers - 1, description="layer")
        self.head = widgets.Dropdown(
            options=[("mean of heads", -1)] + [(str(h), h) for h in range(self.sample.num_heads)],
            value=head,
            description="head",
        )
        self.view = widgets.ToggleButtons(options=EXPLORER_VIEWS, value=view, description="view")
        # Why a typed text cannot be shown, when it cannot; an HTML widget because its lines wrap (a Label's do not).
        self.message = widgets.HTML(layout=widgets.Layout(display="none"))
        # The current figure, at its own size: a box's children are otherwise stretched to the box's width.
        self.image = widgets.Image(format="png", layout=widgets.Layout(align_self="flex-start"))
        self.widget = widgets.VBox(
            [self.text, self.text_pair, widgets.HBox([self.layer, self.head]), self.view, self.message, self.image]
        )
        for control in (self.text, self.text_pair):
            control.observe(self._on_text, names="value")
        for control in (self.layer, self.head, self.view):
            control.observe(self._on_choice, names="value")
        self.update()

    def _on_text(self, _change) -> None:
        import matplotlib.pyplot as plt

        try:
            self.sample = attend(self.text.value, self.text_pair.value or None, self.model, self.tokenizer)
        except ValueError as error:  # e.g. a text longer than the model's max_position_embeddings
            # Nothing of the previous text stays to be redrawn or saved as if it were this one's.
            self.sample, self.problem = None, f"cannot show this text: {error}"
            if self.figure is not None:  # plt.close(None) would close whatever figure is current: not ours
                plt.close(self.figure)
            self.figure = None
            self.message.value = html.escape(self.problem)
            self.message.layout.display = None
            self.image.layout.display = "none"
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
        divergence = depth_divergence(self.sample.attentions[:, None])  # this sentence only: (N, A, A)
        return plot_head_across_depths(
            self.sample.attentions, self.sample.tokens, head, None if head is None else divergence[head]
        )

    def update(self) -> None:
        import matplotlib.pyplot as plt

        if self.sample is None:  # the text box holds a text that cannot be shown: its message stays
            return
        if self.figure is not None:
            plt.close(self.figure)
        self.figure = self.draw()
        plt.close(self.figure)  # shown once, in the image, not again by the inline backend
        png = io.BytesIO()
        self.figure.savefig(png, format="png", bbox_inches="tight")  # as the inline backend's defaults draw them
        self.image.value = png.getvalue()
        self.problem = None
        self.message.layout.display = "none"
        self.image.layout.display = None

    def save(self, path: Union[str, os.PathLike]) -> Path:
        """The current figure as PNG (or .pdf/.svg), or with a .html path the self-contained interactive page."""
        if self.sample is None:
            raise ValueError(f"nothing to save: {self.problem}")
        if str(path).lower().endswith(PAGE_SUFFIXES):
            head = self.head.value if self.head.value >= 0 else 0
            return save_html(self.sample, path, layer=self.layer.value, head=head)
        return save_figure(self.figure, path)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
