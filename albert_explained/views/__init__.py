"""Seeing attention: views that work with no network at all, analyses that turn attention into numbers, and bertviz.

    sample.py            a model's outputs -> one sentence's tokens and (A, N, t, t) attention (`attend`)
    analysis.py          entropy, shares, rollout, head importance, depth divergence: numbers per head;
                         and how far each layer moves the hidden state (the paper's figure 1)
    plots.py             matplotlib pictures of one head, a layer, every layer x head, and of each analysis
    explorer.py          an ipywidgets explorer that redraws those pictures as you choose
    page.py              a self-contained HTML page (page.html + page.js) that draws offline in any browser
    bertviz_adapters.py  bertviz's head view and model view fed from our model (bertviz needs the network)
    diagrams/            pictures of the architecture itself, for the notebooks

Each file imports only the ones above it in this list.
"""

from .analysis import (
    MaskingCurve,
    attention_entropy,
    attention_rollout,
    attention_shares,
    depth_divergence,
    head_importance,
    layer_transitions,
    least_important_mask,
    mask_tokens_for_mlm,
    masking_curve,
    mlm_accuracy,
)
from .bertviz_adapters import head_view, model_view
from .explorer import EXPLORER_VIEWS, AttentionExplorer
from .page import attention_html, save_html, show_html
from .plots import (
    plot_attention_heatmap,
    plot_attention_lines,
    plot_entropy,
    plot_head,
    plot_head_across_depths,
    plot_head_scores,
    plot_layer,
    plot_layer_heads,
    plot_layer_transitions,
    plot_masking_curve,
    plot_rollout,
    plot_shares,
    save_figure,
)
from .sample import AttentionSample, attend, prettify_tokens

__all__ = [
    "AttentionSample",
    "attend",
    "prettify_tokens",
    "MaskingCurve",
    "least_important_mask",
    "EXPLORER_VIEWS",
    "attention_entropy",
    "attention_shares",
    "attention_rollout",
    "depth_divergence",
    "head_importance",
    "mlm_accuracy",
    "masking_curve",
    "mask_tokens_for_mlm",
    "layer_transitions",
    "plot_attention_heatmap",
    "plot_attention_lines",
    "plot_head",
    "plot_layer",
    "plot_layer_heads",
    "plot_head_scores",
    "plot_entropy",
    "plot_shares",
    "plot_rollout",
    "plot_masking_curve",
    "plot_head_across_depths",
    "plot_layer_transitions",
    "save_figure",
    "AttentionExplorer",
    "attention_html",
    "save_html",
    "show_html",
    "head_view",
    "model_view",
]
