"""bertviz (Vig, 2019), fed from our model: its head view and model view of one example of a batch.

bertviz's `head_view` and `model_view` want, for one sentence, a tuple with one (1, N, t, t) tensor per layer and the
list of t tokens. The adapters here build exactly that from our model's outputs and tokenizer, for any item of a
padded batch: padding removed, SentencePiece's '▁' stripped, sentence B marked for pairs. bertviz loads require.js,
d3 and jQuery from a public CDN when the page is shown, so it draws nothing offline, behind a firewall or in some
front-ends; the package's own views (plots.py, explorer.py, page.py) need no network. When the CDN cannot be reached
from here, the adapters say so and show the offline page (page.py) instead of bertviz's error box.
"""

from __future__ import annotations

import socket
from functools import lru_cache
from typing import Any, Mapping, Optional

import torch

from .page import show_html
from .sample import AttentionSample, sample_from

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

        print(
            f"bertviz needs the network: its page loads require.js, d3 and jQuery from {BERTVIZ_CDN}, which "
            f"cannot be reached from here. Below is the same attention in this package's offline view instead."
        )
        display(
            show_html(
                sample,
                layer=bertviz_options.get("layer") or 0,
                view="lines" if view == "head_view" else "layer",
                include_layers=bertviz_options.get("include_layers"),
            )
        )
        return None
    import bertviz

    return getattr(bertviz, view)(**sample.bertviz_arguments(), **bertviz_options)


def head_view(
    outputs: Any,
    encoding: Optional[Mapping[str, torch.Tensor]] = None,
    tokenizer: Any = None,
    index: int = 0,
    **bertviz_options: Any,
):
    """bertviz's head view of example `index`: head_view(model(**enc, output_attentions=True), enc, tokenizer).

    `outputs` may also be an AttentionSample. Other keyword arguments go to bertviz.head_view (layer, heads,
    include_layers, html_action="return" to get the HTML instead of displaying it). bertviz needs the network to
    draw: when its CDN cannot be reached (`can_reach`), a note says so and the offline page (`show_html`) is shown.
    """
    return _bertviz("head_view", sample_from(outputs, encoding, tokenizer, index), bertviz_options)


def model_view(
    outputs: Any,
    encoding: Optional[Mapping[str, torch.Tensor]] = None,
    tokenizer: Any = None,
    index: int = 0,
    **bertviz_options: Any,
):
    """bertviz's model view (every layer x head) of example `index`; arguments and offline behaviour as for
    head_view (the offline page opens on all heads of the layer)."""
    return _bertviz("model_view", sample_from(outputs, encoding, tokenizer, index), bertviz_options)
