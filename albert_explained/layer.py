"""One Transformer encoder layer: self-attention, then a position-wise feed-forward network (FFN).

    a   = LayerNorm( h + Dropout( MultiHeadAttention(h) ) )        (attention.py)
    out = LayerNorm( a + W_2 act( W_1 a + b_1 ) + b_2 )             W_1: H -> I, W_2: I -> H, I = 4H

Both sub-layers are wrapped the same way: a residual connection (add the input back) and then LayerNorm, the
"post-LN" order of the original Transformer and BERT. The FFN works on every token separately; it is where most of a
layer's parameters are (2 x H x I = 8 H^2 against 4 H^2 for attention).

ALBERT's layer is BERT's layer; the names of the sub-modules (`ffn`, `ffn_output`, `full_layer_layer_norm`) are the
reference's state-dict keys, inherited from Google's TensorFlow code.

One difference from Google's code that the reference (transformers) has and we keep for parity: no dropout on the
FFN output. Google's ALBERT applies `hidden_dropout_prob` there, and so does BERT; the reference's PyTorch ALBERT
creates that dropout but never calls it. For ALBERT v2 (dropout 0) it changes nothing. `ffn_dropout_prob` lets
`bert.py` turn it on for BERT (and `scale_relative_scores` matches BERT's relative attention, see attention.py).

Shapes: (B, T, H) -> (B, T, H); attention probabilities (B, N, T, T) when asked for.
"""

from typing import Optional

import torch
from torch import nn

from .activations import get_activation
from .attention import AlbertAttention
from .config import AlbertConfig


class AlbertLayer(nn.Module):
    def __init__(self, config: AlbertConfig, ffn_dropout_prob: float = 0.0, scale_relative_scores: bool = False):
        super().__init__()
        self.attention = AlbertAttention(config, scale_relative_scores)
        self.ffn = nn.Linear(config.hidden_size, config.intermediate_size)  # W_1: H -> I
        self.activation = get_activation(config.hidden_act)
        self.ffn_output = nn.Linear(config.intermediate_size, config.hidden_size)  # W_2: I -> H
        self.ffn_dropout = nn.Dropout(ffn_dropout_prob)
        self.full_layer_layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_bias: Optional[torch.Tensor] = None,
        head_mask: Optional[torch.Tensor] = None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        attention_output, probs = self.attention(hidden_states, attention_bias, head_mask, output_attentions)
        ffn_hidden = self.activation(self.ffn(attention_output))  # (B, T, H) -> (B, T, I)
        ffn_output = self.ffn_dropout(self.ffn_output(ffn_hidden))  # (B, T, I) -> (B, T, H)
        return self.full_layer_layer_norm(ffn_output + attention_output), probs  # (B, T, H)
