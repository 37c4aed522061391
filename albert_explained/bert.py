"""BERT, built from ALBERT's parts, so that the two models are compared by one code.

BERT (Devlin et al., 2019) is ALBERT without its two parameter reductions:

| piece                 | BERT                         | ALBERT                                       |
|-----------------------|------------------------------|----------------------------------------------|
| embeddings            | V x H (E = H)                | V x E, then an E x H projection              |
| encoder layers        | L layers, L sets of weights  | L layers, one set of weights (G groups)      |
| FFN output dropout    | yes                          | no (as in the reference, see model.py)       |
| second pretraining    | next-sentence prediction     | sentence-order prediction                    |

So `BertModel` is `AlbertEmbeddings` of size H, L separate `AlbertLayer`s and the same pooler, with no projection.
Every layer runs the same computation as an ALBERT layer; the two models differ in how many weights they keep.

Checkpoints: transformers' `BertModel` names the same tensors differently (its attention is split into `self` and
`output` modules, its FFN into `intermediate` and `output`). `REFERENCE_NAMES` translates our names to the reference's,
so `from_pretrained` reads a transformers BertModel checkpoint and `save_pretrained` writes one.

Shapes: input_ids (B, T) -> last_hidden_state (B, T, H), pooler_output (B, H).
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from .config import BertConfig
from .checks import check_inputs
from .model import AlbertEmbeddings, AlbertLayer, AlbertModelOutput, attention_bias_from_mask
from .weights import AlbertPreTrainedModel

# Our module names -> transformers' BertModel names, for the parts of a layer whose names differ.
REFERENCE_NAMES = {
    "attention.query.": "attention.self.query.",
    "attention.key.": "attention.self.key.",
    "attention.value.": "attention.self.value.",
    "attention.distance_embedding.": "attention.self.distance_embedding.",
    "attention.dense.": "attention.output.dense.",
    "attention.LayerNorm.": "attention.output.LayerNorm.",
    "ffn.": "intermediate.dense.",
    "ffn_output.": "output.dense.",
    "full_layer_layer_norm.": "output.LayerNorm.",
}


class BertEncoder(nn.Module):
    """L layers, each with its own weights: no projection, no sharing."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.layer = nn.ModuleList(
            [
                AlbertLayer(config, ffn_dropout_prob=config.hidden_dropout_prob, scale_relative_scores=True)
                for _ in range(config.num_hidden_layers)
            ]
        )


class BertModel(AlbertPreTrainedModel):
    config_class = BertConfig
    base_model_prefix = "bert"
    # The heads of BERT checkpoints (BertForPreTraining's cls.*, task heads) that BertModel has no use for.
    _keys_to_ignore_on_load_unexpected = (r"^cls\.", r"^classifier\.", r"^qa_outputs\.")

    def __init__(self, config: BertConfig, add_pooling_layer: bool = True):
        super().__init__(config)
        self.embeddings = AlbertEmbeddings(config, embedding_size=config.hidden_size)  # E = H
        self.encoder = BertEncoder(config)
        self.pooler = nn.Linear(config.hidden_size, config.hidden_size) if add_pooling_layer else None
        self.pooler_activation = nn.Tanh() if add_pooling_layer else None
        self.init_weights()

    def forward(
        self,
        input_ids: Optional[torch.Tensor] = None,
        attention_mask: Optional[torch.Tensor] = None,
        token_type_ids: Optional[torch.Tensor] = None,
        position_ids: Optional[torch.Tensor] = None,
        head_mask: Optional[torch.Tensor] = None,
        inputs_embeds: Optional[torch.Tensor] = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
    ) -> AlbertModelOutput:
        config = self.config
        # The checks also expand head_mask to one row per layer: (L, N), or None.
        head_mask = check_inputs(
            config,
            input_ids,
            attention_mask,
            token_type_ids,
            position_ids,
            head_mask,
            inputs_embeds,
            config.hidden_size,
            config.num_hidden_layers,
        )

        hidden_states = self.embeddings(input_ids, token_type_ids, position_ids, inputs_embeds)  # (B, T, H)
        attention_bias = attention_bias_from_mask(attention_mask, hidden_states.dtype)  # (B, 1, 1, T)
        all_hidden_states, all_attentions = [hidden_states], []
        for i, layer in enumerate(self.encoder.layer):
            layer_head_mask = None if head_mask is None else head_mask[i].to(hidden_states.dtype)
            hidden_states, probs = layer(hidden_states, attention_bias, layer_head_mask, output_attentions)
            all_hidden_states.append(hidden_states)
            all_attentions.append(probs)

        pooled_output = None
        if self.pooler is not None:
            pooled_output = self.pooler_activation(self.pooler(hidden_states[:, 0]))  # [CLS]: (B, H)
        return AlbertModelOutput(
            hidden_states,
            pooled_output,
            tuple(all_hidden_states) if output_hidden_states else None,
            tuple(all_attentions) if output_attentions else None,
        )

    @staticmethod
    def to_reference_key(key: str) -> str:
        """Our state-dict key -> transformers' BertModel key."""
        if key.startswith("pooler."):
            return "pooler.dense." + key[len("pooler.") :]
        if key.startswith("encoder.layer."):
            # "encoder.layer.3.ffn.weight" -> "encoder.layer.3.intermediate.dense.weight"
            depth, _, name = key[len("encoder.layer.") :].partition(".")
            for ours, theirs in REFERENCE_NAMES.items():
                if name.startswith(ours):
                    return f"encoder.layer.{depth}.{theirs}{name[len(ours) :]}"
        return key
