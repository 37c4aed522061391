"""The encoder: project E up to H, then apply the layers, reusing weights across depth (paper, section 3.1).

    h_0 = W_proj x + b             x: (B, T, E) -> h_0: (B, T, H)     the second half of the factorized embedding
    h_i = Group_g(i)( h_(i-1) )     for depth i = 1 .. L

**Cross-layer parameter sharing.** BERT has L layers with L sets of weights. ALBERT keeps G groups of weights
(num_hidden_groups, G = 1 in every published ALBERT) and applies group g(i) = floor((i - 1) G / L) at depth i, so
consecutive depths share a group. With G = 1 one layer is applied L times: twelve depths, one set of weights.
Parameters shrink by a factor of up to L; computation does not shrink at all, since every depth still runs a full
layer. That is why ALBERT-base is about as slow as BERT-base at inference.

A group holds `inner_group_num` layers applied one after the other (1 in every published ALBERT), so a forward pass
runs L x inner_group_num layers ("layer applications") built from G x inner_group_num distinct sets of weights.

The paper's table 4 also compares sharing only part of each layer. `sharing` in the config selects one strategy:

| sharing            | distinct attention weights | distinct FFN weights |
|--------------------|----------------------------|----------------------|
| "all-shared"       | G x inner                  | G x inner            |
| "shared-attention" | 1                          | L x inner            |
| "shared-FFN"       | L x inner                  | 1                    |
| "not-shared"       | L x inner                  | L x inner            |

Partial sharing is done the plain PyTorch way: the same `nn.Module` object is placed in several layers, so its
parameters are literally the same tensors (and `model.parameters()` lists them once).

Outputs, as in the reference: hidden_states holds h_0 and the output of each of the L group applications (L + 1
tensors, each (B, T, H)); attentions holds one (B, N, T, T) tensor per layer application. Row a of `head_mask`
silences heads in layer application a. (transformers 4.56.2 slices head_mask by group, so with shared layers its row 0
acts on every depth and the other rows are ignored; ours gives each application its own row.)
"""

from typing import Optional

import torch
from torch import nn

from .config import AlbertConfig
from .layer import AlbertLayer


class AlbertLayerGroup(nn.Module):
    """One group of weights: inner_group_num layers, applied in order."""

    def __init__(self, config: AlbertConfig):
        super().__init__()
        self.albert_layers = nn.ModuleList([AlbertLayer(config) for _ in range(config.inner_group_num)])


class AlbertTransformer(nn.Module):
    def __init__(self, config: AlbertConfig):
        super().__init__()
        self.config = config
        self.embedding_hidden_mapping_in = nn.Linear(config.embedding_size, config.hidden_size)  # E -> H
        self.albert_layer_groups = nn.ModuleList([AlbertLayerGroup(config) for _ in range(config.num_hidden_groups)])
        self.tie_sub_layers()

    def tie_sub_layers(self) -> None:
        """For the partial strategies, make every layer use the first layer's attention (or FFN) module."""
        layers = [layer for group in self.albert_layer_groups for layer in group.albert_layers]
        first = layers[0]
        for layer in layers[1:]:
            if self.config.sharing == "shared-attention":
                layer.attention = first.attention
            elif self.config.sharing == "shared-FFN":
                layer.ffn, layer.ffn_output = first.ffn, first.ffn_output
                layer.full_layer_layer_norm = first.full_layer_layer_norm

    def group_index(self, depth: int) -> int:
        """Which group of weights runs at depth 0..L-1: about floor(depth * G / L).

        Computed with the reference's float expression so that every checkpoint behaves as in transformers. Floats
        make it differ from the exact floor(depth * G / L) in rare configs (L = 18, G = 14, depth 9 gives group 6,
        not 7); every published ALBERT has G = 1, where both give 0.
        """
        return int(depth / (self.config.num_hidden_layers / self.config.num_hidden_groups))

    def forward(
        self,
        embeddings: torch.Tensor,
        attention_bias: Optional[torch.Tensor] = None,
        head_mask: Optional[torch.Tensor] = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
    ) -> tuple[torch.Tensor, Optional[tuple[torch.Tensor, ...]], Optional[tuple[torch.Tensor, ...]]]:
        hidden_states = self.embedding_hidden_mapping_in(embeddings)  # (B, T, E) -> (B, T, H)
        all_hidden_states = [hidden_states]
        all_attentions = []

        application = 0  # counts layer applications: 0 .. L * inner_group_num - 1
        for depth in range(self.config.num_hidden_layers):
            group = self.albert_layer_groups[self.group_index(depth)]
            for layer in group.albert_layers:
                layer_head_mask = None if head_mask is None else head_mask[application]  # (N,)
                hidden_states, probs = layer(hidden_states, attention_bias, layer_head_mask, output_attentions)
                all_attentions.append(probs)
                application += 1
            all_hidden_states.append(hidden_states)  # (B, T, H)

        return (
            hidden_states,
            tuple(all_hidden_states) if output_hidden_states else None,
            tuple(all_attentions) if output_attentions else None,
        )
