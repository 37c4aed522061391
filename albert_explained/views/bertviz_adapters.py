"""bertviz (Vig, 2019), fed from our model: its head view and model view of one example of a batch.

bertviz's `head_view` and `model_view` want, for one sentence, a tuple with one (1, N, t, t) tensor per layer and the
list of t tokens. The adapters here build exactly that from our model's outputs and tokenizer, for any item of a
padded batch: padding removed, SentencePiece's '▁' stripped, sentence B marked for pairs. bertviz loads require.js,
d3 and jQuery from a public CDN when the page is shown, so it draws nothing offline, behind a firewall or in some
front-ends; the package's own views (plots.py, explorer.py, page.py) need no network.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

import torch

from .sample import sample_from


def head_view(outputs: Any, encoding: Optional[Mapping[str, torch.Tensor]] = None, tokenizer: Any = None,
              index: int = 0, **bertviz_options: Any):
    """bertviz's head view of example `index`: head_view(model(**enc, output_attentions=True), enc, tokenizer).

    `outputs` may also be an AttentionSample. Other keyword arguments go to bertviz.head_view (layer, heads,
    include_layers, html_action="return" to get the HTML instead of displaying it). Needs the network to draw.
    """
    from bertviz import head_view as bertviz_head_view

    return bertviz_head_view(**sample_from(outputs, encoding, tokenizer, index).bertviz_arguments(), **bertviz_options)


def model_view(outputs: Any, encoding: Optional[Mapping[str, torch.Tensor]] = None, tokenizer: Any = None,
               index: int = 0, **bertviz_options: Any):
    """bertviz's model view (every layer x head) of example `index`; arguments as for head_view."""
    from bertviz import model_view as bertviz_model_view

    return bertviz_model_view(**sample_from(outputs, encoding, tokenizer, index).bertviz_arguments(), **bertviz_options)
