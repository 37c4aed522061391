"""AlbertModel: embeddings -> encoder -> pooler, and what every model class of the package shares.

    x      = Embeddings(input_ids, token_type_ids, position_ids)    (B, T, E)   embeddings.py
    h_L    = Encoder(x, attention_mask)                             (B, T, H)   encoder.py
    pooled = tanh( W_pool h_L[:, 0] + b_pool )                      (B, H)      [CLS], for sentence-level tasks

The padding mask arrives as `attention_mask` (B, T) with 1 for real tokens and 0 for padding. It becomes an additive
bias (1 - mask) * (most negative float), shape (B, 1, 1, T), computed once here and added to every layer's scores.
(Google's TensorFlow code used -10000 instead of the most negative float; both give padding a weight of 0 after the
softmax in float32.)

Every input is checked before any computation, so a mistake gives an error that names the argument rather than an
index error from deep inside torch.

`AlbertPreTrainedModel` is the base of every class: weight initialisation as in the reference (normal with standard
deviation `initializer_range`, zero biases, LayerNorm at identity) and `from_pretrained` / `save_pretrained`
(`weights.py`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Optional

import torch
from torch import nn

from .config import AlbertConfig
from .embeddings import AlbertEmbeddings
from .encoder import AlbertTransformer


@dataclass
class AlbertModelOutput:
    """What AlbertModel returns (the reference's BaseModelOutputWithPooling)."""

    last_hidden_state: torch.Tensor  # (B, T, H)
    pooler_output: Optional[torch.Tensor] = None  # (B, H); None without a pooler
    hidden_states: Optional[tuple[torch.Tensor, ...]] = None  # L + 1 tensors (B, T, H)
    attentions: Optional[tuple[torch.Tensor, ...]] = None  # L x inner_group_num tensors (B, N, T, T)


class AlbertPreTrainedModel(nn.Module):
    """Initialisation and checkpoint reading/writing shared by every model class."""

    config_class = AlbertConfig
    # The attribute under which task models keep their AlbertModel; a prefix of the state-dict keys.
    base_model_prefix = "albert"
    # Checkpoint keys (patterns, as in the reference) of parts that other ALBERT classes have: the pooler, the MLM and
    # SOP heads of a pretraining checkpoint, a task head. A class without them leaves them out silently, as it should;
    # any other unused key is warned about, since no ALBERT class would read it (a wrong or damaged checkpoint).
    _keys_to_ignore_on_load_unexpected = (r"^(albert\.)?pooler\.", r"^predictions\.", r"^sop_classifier\.",
                                          r"^classifier\.", r"^qa_outputs\.")

    def __init__(self, config: AlbertConfig):
        super().__init__()
        if not isinstance(config, self.config_class):
            raise TypeError(f"config must be a {self.config_class.__name__}, got {type(config).__name__}")
        self.config = config

    @torch.no_grad()
    def init_weights(self) -> None:
        """The reference's initialisation: N(0, initializer_range) weights, zero biases, identity LayerNorms."""
        std = self.config.initializer_range
        for module in self.modules():
            if isinstance(module, nn.Linear):
                module.weight.normal_(mean=0.0, std=std)
                if module.bias is not None:
                    module.bias.zero_()
            elif isinstance(module, nn.Embedding):
                module.weight.normal_(mean=0.0, std=std)
                if module.padding_idx is not None:
                    module.weight[module.padding_idx].zero_()
            elif isinstance(module, nn.LayerNorm):
                module.weight.fill_(1.0)
                module.bias.zero_()
        self.tie_weights()

    @staticmethod
    def to_reference_key(key: str) -> str:
        """Our state-dict key -> the reference's. ALBERT keeps the reference's module names, so they are equal;
        `bert.py` translates."""
        return key

    def tie_weights(self) -> None:
        """Models with an MLM head tie its decoder to the word embeddings; the others have nothing to tie."""

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, *, output_loading_info: bool = False,
                        **config_overrides: Any):
        """Load a checkpoint in the reference's format: a directory with config.json and model.safetensors
        (or pytorch_model.bin), or a hub id such as "albert/albert-base-v2" when online. See `weights.py`."""
        from .weights import load_pretrained

        return load_pretrained(cls, name_or_path, output_loading_info=output_loading_info, **config_overrides)

    def save_pretrained(self, path: str | os.PathLike) -> None:
        """Write config.json and model.safetensors that transformers loads too. See `weights.py`."""
        from .weights import save_pretrained

        save_pretrained(self, path)


# The index types nn.Embedding accepts.
INDEX_DTYPES = (torch.int64, torch.int32)


def check_inputs(
    config: Any,
    input_ids: Optional[torch.Tensor],
    attention_mask: Optional[torch.Tensor],
    token_type_ids: Optional[torch.Tensor],
    position_ids: Optional[torch.Tensor],
    inputs_embeds: Optional[torch.Tensor],
    embedding_size: int,
) -> tuple[int, int]:
    """Validate a batch before any computation and return (B, T). Shared by ALBERT and BERT."""
    if (input_ids is None) == (inputs_embeds is None):
        raise ValueError("pass exactly one of input_ids and inputs_embeds, not "
                         + ("both" if input_ids is not None else "neither"))
    if input_ids is not None:
        if not isinstance(input_ids, torch.Tensor) or input_ids.dtype not in INDEX_DTYPES or input_ids.dim() != 2:
            raise TypeError(f"input_ids must be an int64 or int32 tensor of shape (batch, sequence), "
                            f"got {_describe(input_ids)}")
        _check_range("input_ids", input_ids, 0, config.vocab_size, "vocab_size")
        batch_size, seq_len = input_ids.shape
    else:
        if not isinstance(inputs_embeds, torch.Tensor) or inputs_embeds.dim() != 3 \
                or inputs_embeds.shape[-1] != embedding_size:
            raise ValueError(f"inputs_embeds must have shape (batch, sequence, {embedding_size}), "
                             f"got {_describe(inputs_embeds)}")
        batch_size, seq_len = inputs_embeds.shape[:2]
    if seq_len > config.max_position_embeddings:
        raise ValueError(f"the sequence has {seq_len} tokens but the model accepts at most max_position_embeddings "
                         f"= {config.max_position_embeddings}; truncate it")
    if seq_len == 0:
        raise ValueError("the sequence is empty: input_ids / inputs_embeds need at least one token")
    for name, tensor in (("attention_mask", attention_mask), ("token_type_ids", token_type_ids)):
        wrong = not isinstance(tensor, torch.Tensor) or tuple(tensor.shape) != (batch_size, seq_len)
        if tensor is not None and wrong:
            raise ValueError(f"{name} must have shape (batch, sequence) = {(batch_size, seq_len)}, got "
                             f"{_describe(tensor)}")
    for name, tensor in (("token_type_ids", token_type_ids), ("position_ids", position_ids)):
        if isinstance(tensor, torch.Tensor) and tensor.dtype not in INDEX_DTYPES:
            raise TypeError(f"{name} must be an integer tensor (int64 or int32), got {_describe(tensor)}")
    if token_type_ids is not None:
        _check_range("token_type_ids", token_type_ids, 0, config.type_vocab_size, "type_vocab_size")
    if position_ids is not None:
        if not isinstance(position_ids, torch.Tensor) or position_ids.shape[-1] != seq_len or position_ids.dim() > 2 \
                or (position_ids.dim() == 2 and position_ids.shape[0] not in (1, batch_size)):
            raise ValueError(f"position_ids must have shape (batch, sequence), (1, sequence) or (sequence,) with "
                             f"sequence = {seq_len}, got {_describe(position_ids)}")
        _check_range("position_ids", position_ids, 0, config.max_position_embeddings, "max_position_embeddings")
    return batch_size, seq_len


def check_head_mask(head_mask: Optional[torch.Tensor], num_applications: int, num_heads: int) -> Optional[torch.Tensor]:
    """Accept (N,) for every layer or (A, N) with one row per layer application; return (A, N) or None."""
    if head_mask is None:
        return None
    if not isinstance(head_mask, torch.Tensor):
        raise TypeError(f"head_mask must be a tensor, got {type(head_mask).__name__}")
    if head_mask.dim() == 1 and head_mask.shape[0] == num_heads:
        return head_mask.unsqueeze(0).expand(num_applications, -1)  # (N,) -> (A, N)
    if head_mask.dim() == 2 and tuple(head_mask.shape) == (num_applications, num_heads):
        return head_mask
    raise ValueError(f"head_mask must have shape (num_attention_heads,) = ({num_heads},) or (layer applications, "
                     f"num_attention_heads) = ({num_applications}, {num_heads}), got {tuple(head_mask.shape)}")


def _check_range(name: str, tensor: torch.Tensor, low: int, high: int, limit_name: str) -> None:
    if tensor.device.type == "meta":  # shapes only (parameter and FLOP counting): there are no values to check
        return
    if tensor.numel() and (tensor.min() < low or tensor.max() >= high):
        bad = tensor[(tensor < low) | (tensor >= high)][0].item()
        raise ValueError(f"{name} must be in [{low}, {high}) ({limit_name} = {high}), found {bad}")


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    return f"a {type(value).__name__}"


def attention_bias_from_mask(attention_mask: Optional[torch.Tensor], dtype: torch.dtype) -> Optional[torch.Tensor]:
    """(B, T) mask of 1 = attend, 0 = padding -> (B, 1, 1, T) additive bias: 0 or the most negative float."""
    if attention_mask is None:
        return None
    mask = attention_mask[:, None, None, :].to(dtype)  # (B, T) -> (B, 1, 1, T)
    return (1.0 - mask) * torch.finfo(dtype).min


class AlbertModel(AlbertPreTrainedModel):
    def __init__(self, config: AlbertConfig, add_pooling_layer: bool = True):
        super().__init__(config)
        self.embeddings = AlbertEmbeddings(config)
        self.encoder = AlbertTransformer(config)
        # Task heads that use every token (MLM, token classification, QA) are built without the pooler.
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
        check_inputs(self.config, input_ids, attention_mask, token_type_ids, position_ids, inputs_embeds,
                     self.config.embedding_size)
        head_mask = check_head_mask(head_mask, self.config.num_layer_applications, self.config.num_attention_heads)

        embeddings = self.embeddings(input_ids, token_type_ids, position_ids, inputs_embeds)  # (B, T, E)
        attention_bias = attention_bias_from_mask(attention_mask, embeddings.dtype)  # (B, 1, 1, T)
        if head_mask is not None:
            head_mask = head_mask.to(embeddings.dtype)
        sequence_output, hidden_states, attentions = self.encoder(
            embeddings, attention_bias, head_mask, output_attentions, output_hidden_states
        )  # (B, T, H)

        pooled_output = None
        if self.pooler is not None:
            pooled_output = self.pooler_activation(self.pooler(sequence_output[:, 0]))  # [CLS]: (B, H)
        return AlbertModelOutput(sequence_output, pooled_output, hidden_states, attentions)
