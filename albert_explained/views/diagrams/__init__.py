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

    drawing.py        the colours, and boxes, arrows and labels placed in inches
    architecture.py   the forward pass, the factorized embedding, the sharing strategies
    tasks.py          NSP against SOP pairs, the fine-tuning heads
"""

from .architecture import factorized_embedding_diagram, forward_pass_diagram, sharing_strategies_diagram
from .tasks import FINETUNING_HEADS, HeadWiring, finetuning_heads_diagram, nsp_sop_diagram

__all__ = [
    "forward_pass_diagram",
    "factorized_embedding_diagram",
    "sharing_strategies_diagram",
    "nsp_sop_diagram",
    "finetuning_heads_diagram",
    "FINETUNING_HEADS",
    "HeadWiring",
]
