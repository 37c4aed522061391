"""Configuration: every number that decides the shape of an ALBERT (or BERT) model.

ALBERT's architecture is BERT's Transformer encoder with three changes (paper, section 3.1):

1. **Factorized embedding parameterization.** Tokens are embedded in a small space of size E and projected up to
   the hidden size H, so the vocabulary costs V x E + E x H parameters instead of V x H.
2. **Cross-layer parameter sharing.** The L layers of the encoder reuse one set of weights (or a few groups of them).
3. **Sentence-order prediction (SOP)** replaces BERT's next-sentence prediction as the second pretraining loss.

`AlbertConfig` carries the same field names and defaults as Hugging Face transformers' `AlbertConfig`, so a
`config.json` written by either library is read by the other. The defaults describe ALBERT-xxlarge, as in the
reference; use `AlbertConfig.from_preset("albert-base-v2")` (or `"tiny"`) for the others.

Fields that the reference does not have:

- `attn_implementation`: "sdpa" (default) uses PyTorch's fused `scaled_dot_product_attention` whenever the attention
  probabilities are not needed; "eager" always runs the step-by-step path of `model.py` (section 2). The reference
  reads the same key from config.json.
- `sharing`: which parts of a layer are shared across depth, with the paper's names (section 4.5, table 4):
  "all-shared" (default; the layers of each group share everything), "shared-attention", "shared-FFN" and
  "not-shared". The last three give every depth its own group (num_hidden_groups = num_hidden_layers) and then tie
  the attention or the FFN sub-layer of all depths together. A checkpoint of such a model is still an ordinary
  reference checkpoint with L groups (the tied weights are written once per group), so transformers loads it.

`BertConfig` is the baseline: BERT is the special case E = H, no projection, no sharing (see `bert.py`).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from .files import MAX_JSON_BYTES, parse_json, read_text_file, write_text

# Layers a forward pass may run. Published models run 12 or 24; a thousand is far beyond any that trains, and a
# config asking for millions (a typo, a hostile file) would otherwise hang in the forward pass or in building the
# modules, since a shared layer costs no memory and so passes the memory check.
MAX_LAYER_APPLICATIONS = 1_000

POSITION_EMBEDDING_TYPES = ("absolute", "relative_key", "relative_key_query")
SHARING_STRATEGIES = ("all-shared", "shared-attention", "shared-FFN", "not-shared")
ATTN_IMPLEMENTATIONS = ("eager", "sdpa")
# The activations `hidden_act` can name (model.ACTIVATIONS maps each to its module).
HIDDEN_ACTS = ("gelu", "gelu_new", "relu", "silu")
PROBLEM_TYPES = (None, "regression", "single_label_classification", "multi_label_classification")

# Keys that transformers writes into config.json for its own bookkeeping (or that Google's original configs carry,
# such as "net_structure_type"); they do not change the model, so reading ignores them.
_IGNORED_KEYS = {
    "architectures",
    "model_type",
    "transformers_version",
    "torch_dtype",
    "dtype",
    "output_past",
    "down_scale_factor",
    "gap_size",
    "net_structure_type",
    "num_memory_blocks",
    "layers_to_keep",
    "_name_or_path",
    "output_attentions",
    "output_hidden_states",
    "return_dict",
    "use_return_dict",
    "is_decoder",
    "add_cross_attention",
    "use_cache",
    "tie_word_embeddings",
    "finetuning_task",
    "chunk_size_feed_forward",
    "gradient_checkpointing",
    "label2id",
}


def _as_label_indices(label2id: Any) -> Optional[dict[str, int]]:
    """label2id as {label: index}, or None if it is not a mapping of labels to whole numbers."""
    try:
        return {str(label): int(index) for label, index in label2id.items() if int(index) == float(index)}
    except (AttributeError, TypeError, ValueError):
        return None


def _check_field_types(config: Any) -> None:
    """Raise TypeError naming the first field whose value has the wrong type (json can hold "12" for 12)."""
    allowed = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,)}
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        type_name = field.type.replace("Optional[", "").rstrip("]")
        if field.type.startswith("Optional[") and value is None:
            continue
        if type_name not in allowed:  # dict fields are checked where they are used
            continue
        # bool is a subclass of int in Python; a config that says `"hidden_size": true` is still wrong.
        if isinstance(value, bool) and type_name != "bool" or not isinstance(value, allowed[type_name]):
            raise TypeError(f"{field.name} must be of type {type_name}, got {value!r} ({type(value).__name__})")


def _check_choice(name: str, value: Any, choices: tuple) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")


def _check_positive(config: Any, *names: str) -> None:
    for name in names:
        if getattr(config, name) < 1:
            raise ValueError(f"{name} must be a positive integer, got {getattr(config, name)}")


def _check_probability(config: Any, *names: str) -> None:
    for name in names:
        value = getattr(config, name)
        if value is not None and not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1, got {value}")


def _check_numbers(config: Any) -> None:
    """The values that the types and choices do not cover: each would give NaNs, a crash deep in torch, or a silently
    different model."""
    if not (math.isfinite(config.layer_norm_eps) and 0 < config.layer_norm_eps < 1):
        # LayerNorm divides by sqrt(variance + eps): eps keeps a constant vector (variance 0) from giving NaN. An eps
        # as large as the variance itself flattens every vector towards its mean: every token's output the same.
        raise ValueError(
            f"layer_norm_eps must be a small positive number, below 1 (the reference uses 1e-12), got "
            f"{config.layer_norm_eps}"
        )
    if not (math.isfinite(config.initializer_range) and 0 <= config.initializer_range <= 1):
        # Weights drawn with a standard deviation above 1 make activations grow layer after layer, to inf.
        raise ValueError(
            f"initializer_range is the standard deviation of the initial weights and must be between 0 "
            f"and 1 (the reference uses 0.02), got {config.initializer_range}"
        )
    if not 0 <= config.pad_token_id < config.vocab_size:
        # nn.Embedding would read a negative padding index from the end of the table: a different token, silently.
        raise ValueError(
            f"pad_token_id must be a token id, between 0 and vocab_size - 1 ({config.vocab_size - 1}), "
            f"got {config.pad_token_id}"
        )


def _warn_unknown_keys(unknown: set[str], known: set[str], source: str) -> None:
    """A key that no field reads is usually a typo ("num_hiden_layers"): the value it meant to set is not used."""
    for key in sorted(unknown):
        close = difflib.get_close_matches(key, sorted(known), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        warnings.warn(f"{source}: unknown key {key!r} is ignored{hint}", stacklevel=4)


class _JsonConfig:
    """Reading and writing the reference's config.json, shared by AlbertConfig and BertConfig."""

    model_type = ""

    def to_dict(self) -> dict[str, Any]:
        """The config as the reference writes it: every field, plus model_type and id2label / label2id."""
        data = dataclasses.asdict(self)
        num_labels = data.pop("num_labels")
        id2label = data.pop("id2label") or {i: f"LABEL_{i}" for i in range(num_labels)}
        data["id2label"] = {str(i): label for i, label in id2label.items()}
        data["label2id"] = {label: int(i) for i, label in id2label.items()}
        data["model_type"] = self.model_type
        return data

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any], **overrides: Any):
        """Build a config from a dict in the reference's format; keys for the reference's bookkeeping are ignored, and
        any other unknown key is ignored with a warning that names it (a typo, usually). `overrides` must be fields."""
        return cls._from_dict(data, overrides, source="config")

    @classmethod
    def _from_dict(cls, data: Any, overrides: dict[str, Any], source: str):
        if not isinstance(data, dict):
            raise TypeError(f"a config must be a JSON object (dict), got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        wrong = sorted(set(overrides) - known)
        if wrong:
            close = difflib.get_close_matches(wrong[0], sorted(known), n=1)
            raise TypeError(
                f"{cls.__name__} has no field {wrong[0]!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
            )
        kwargs = {k: v for k, v in {**data, **overrides}.items() if k in known}
        _warn_unknown_keys(set(data) - known - _IGNORED_KEYS, known, source)
        if "id2label" in kwargs and kwargs["id2label"] is not None:
            id2label = kwargs["id2label"]
            if not isinstance(id2label, dict):
                raise TypeError(f"id2label must be a JSON object, got {type(id2label).__name__}")
            if not all(str(i).isdigit() for i in id2label):
                raise ValueError(f'id2label keys must be class indices ("0", "1", ...), got {list(id2label)}')
            kwargs["id2label"] = {int(i): str(label) for i, label in id2label.items()}
            kwargs.setdefault("num_labels", len(kwargs["id2label"]))
        # The file's own pair (an id2label override, as fine-tuning passes, replaces both).
        label2id, id2label = data.get("label2id"), data.get("id2label")
        if (
            "id2label" not in overrides
            and isinstance(id2label, dict)
            and label2id is not None
            and _as_label_indices(label2id) != {str(label): int(i) for i, label in kwargs["id2label"].items()}
        ):
            warnings.warn(
                f"{source}: label2id {label2id} is not the inverse of id2label {id2label}; id2label is "
                f"used, and label2id is written from it when the config is saved",
                stacklevel=3,
            )
        return cls(**kwargs)

    @classmethod
    def from_json_file(cls, path: str | os.PathLike, **overrides: Any):
        """Read a config.json. Errors name the file: invalid JSON, wrong types or impossible values."""
        path = Path(path)
        data = parse_json(read_text_file(path, "config file", MAX_JSON_BYTES), str(path))
        try:
            return cls._from_dict(data, overrides, source=str(path))
        except (TypeError, ValueError) as error:
            raise type(error)(f"{path}: {error}") from error

    def to_json_file(self, path: str | os.PathLike) -> None:
        write_text(path, self.to_json_string())

    @classmethod
    def from_preset(cls, name: str, **overrides: Any):
        """A published configuration by name (see `PRESETS`), with any field overridden."""
        presets = cls.presets()
        if name not in presets:
            raise ValueError(f"unknown preset {name!r}; choose one of {sorted(presets)}")
        return cls(**{**presets[name], **overrides})

    def replace(self, **changes: Any):
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def __post_init__(self) -> None:
        self.validate()


@dataclass
class AlbertConfig(_JsonConfig):
    """Every hyper-parameter of ALBERT, with the reference's names and defaults (which describe xxlarge)."""

    vocab_size: int = 30000  # V
    embedding_size: int = 128  # E: the factorized embedding size
    hidden_size: int = 4096  # H
    num_hidden_layers: int = 12  # L: how many times a layer group is applied
    num_hidden_groups: int = 1  # G: how many distinct groups of layer weights
    num_attention_heads: int = 64  # N
    intermediate_size: int = 16384  # I: the FFN's inner size
    inner_group_num: int = 1  # layers inside one group, applied one after the other
    hidden_act: str = "gelu_new"
    hidden_dropout_prob: float = 0.0
    attention_probs_dropout_prob: float = 0.0
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    initializer_range: float = 0.02
    layer_norm_eps: float = 1e-12
    classifier_dropout_prob: Optional[float] = 0.1
    position_embedding_type: str = "absolute"
    pad_token_id: int = 0
    bos_token_id: int = 2
    eos_token_id: int = 3
    # For the task heads (the reference keeps these in its base PretrainedConfig).
    num_labels: int = 2
    id2label: Optional[dict] = None
    problem_type: Optional[str] = None
    # Not in the reference's AlbertConfig: see the module docstring.
    attn_implementation: str = "sdpa"
    sharing: str = "all-shared"

    model_type = "albert"

    def __post_init__(self) -> None:
        if self.sharing != "all-shared" and self.num_hidden_groups == 1:
            # The paper's other strategies start from one group per depth and tie some sub-layers back together.
            self.num_hidden_groups = self.num_hidden_layers
        self.validate()

    def validate(self) -> None:
        """Raise an error naming the first field whose value is impossible. Run when the config is made and again
        when a model is built from it, so that a field changed in between (config.hidden_size = 100) is checked."""
        _check_field_types(self)
        _check_positive(
            self,
            "vocab_size",
            "embedding_size",
            "hidden_size",
            "num_hidden_layers",
            "num_attention_heads",
            "intermediate_size",
            "inner_group_num",
            "max_position_embeddings",
            "type_vocab_size",
            "num_labels",
        )
        if self.hidden_size % self.num_attention_heads != 0:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) must be divisible by num_attention_heads "
                f"({self.num_attention_heads})"
            )
        _check_choice("hidden_act", self.hidden_act, HIDDEN_ACTS)
        _check_choice("position_embedding_type", self.position_embedding_type, POSITION_EMBEDDING_TYPES)
        _check_choice("sharing", self.sharing, SHARING_STRATEGIES)
        _check_choice("attn_implementation", self.attn_implementation, ATTN_IMPLEMENTATIONS)
        _check_choice("problem_type", self.problem_type, PROBLEM_TYPES)
        _check_probability(self, "hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout_prob")
        _check_numbers(self)
        if not 1 <= self.num_hidden_groups <= self.num_hidden_layers:
            raise ValueError(
                f"num_hidden_groups must be between 1 and num_hidden_layers ({self.num_hidden_layers}), "
                f"got {self.num_hidden_groups}"
            )
        if self.sharing != "all-shared" and self.num_hidden_groups != self.num_hidden_layers:
            raise ValueError(
                f"sharing={self.sharing!r} gives every depth its own group, so num_hidden_groups must be "
                f"1 or num_hidden_layers ({self.num_hidden_layers}), got {self.num_hidden_groups}"
            )
        if self.id2label is not None and len(self.id2label) != self.num_labels:
            raise ValueError(f"id2label has {len(self.id2label)} labels but num_labels is {self.num_labels}")
        if self.num_layer_applications > MAX_LAYER_APPLICATIONS:
            raise ValueError(
                f"num_hidden_layers x inner_group_num must be at most {MAX_LAYER_APPLICATIONS:,} layer "
                f"applications per forward pass, got {self.num_hidden_layers:,} x "
                f"{self.inner_group_num:,}"
            )

    @property
    def head_size(self) -> int:
        """D = H / N, the width of one attention head."""
        return self.hidden_size // self.num_attention_heads

    @property
    def num_layer_applications(self) -> int:
        """How many AlbertLayers a forward pass runs: L group applications of inner_group_num layers each."""
        return self.num_hidden_layers * self.inner_group_num

    @staticmethod
    def presets() -> dict[str, dict[str, Any]]:
        return ALBERT_PRESETS


def _albert_preset(hidden: int, layers: int, heads: int, version: int, dropout: float = 0.0) -> dict[str, Any]:
    # v1 configs on the hub name the tanh GELU "gelu" (Google's code meant the tanh form by that name; transformers
    # reads it as the erf form, which is what those checkpoints run with there). v2 configs say "gelu_new".
    return dict(
        vocab_size=30000,
        embedding_size=128,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=4 * hidden,
        hidden_act="gelu" if version == 1 else "gelu_new",
        hidden_dropout_prob=dropout,
        attention_probs_dropout_prob=dropout,
    )


# The published checkpoints' config.json files (E = 128, V = 30000, FFN = 4H, classifier dropout 0.1 everywhere).
# Parameter counts of AlbertModel (with pooler) in comments; `count_parameters` computes them.
ALBERT_PRESETS: dict[str, dict[str, Any]] = {
    "albert-base-v1": _albert_preset(768, 12, 12, version=1, dropout=0.1),  # 11,683,584
    "albert-large-v1": _albert_preset(1024, 24, 16, version=1, dropout=0.1),  # 17,683,968
    "albert-xlarge-v1": _albert_preset(2048, 24, 16, version=1, dropout=0.1),  # 58,724,864
    "albert-xxlarge-v1": _albert_preset(4096, 12, 64, version=1),  # 222,595,584
    "albert-base-v2": _albert_preset(768, 12, 12, version=2),  # v2 trained without dropout
    "albert-large-v2": _albert_preset(1024, 24, 16, version=2),
    "albert-xlarge-v2": _albert_preset(2048, 24, 16, version=2),  # 16 heads of 128, not H/64
    "albert-xxlarge-v2": _albert_preset(4096, 12, 64, version=2),
    # Not published: small enough to train on a laptop CPU in minutes. vocab_size is usually replaced by the
    # tokenizer's own.
    "tiny": dict(
        vocab_size=1000,
        embedding_size=32,
        hidden_size=64,
        num_hidden_layers=4,
        num_attention_heads=4,
        intermediate_size=256,
        max_position_embeddings=128,
        hidden_act="gelu_new",
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    ),
}


@dataclass
class BertConfig(_JsonConfig):
    """BERT's hyper-parameters with transformers' names and defaults (BERT-base, uncased vocabulary)."""

    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    initializer_range: float = 0.02
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0
    position_embedding_type: str = "absolute"
    classifier_dropout: Optional[float] = None
    num_labels: int = 2
    id2label: Optional[dict] = None
    problem_type: Optional[str] = None
    attn_implementation: str = "sdpa"

    model_type = "bert"

    def validate(self) -> None:
        """As AlbertConfig.validate."""
        _check_field_types(self)
        _check_positive(
            self,
            "vocab_size",
            "hidden_size",
            "num_hidden_layers",
            "num_attention_heads",
            "intermediate_size",
            "max_position_embeddings",
            "type_vocab_size",
            "num_labels",
        )
        if self.hidden_size % self.num_attention_heads != 0:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) must be divisible by num_attention_heads "
                f"({self.num_attention_heads})"
            )
        _check_choice("hidden_act", self.hidden_act, HIDDEN_ACTS)
        _check_choice("position_embedding_type", self.position_embedding_type, POSITION_EMBEDDING_TYPES)
        _check_choice("attn_implementation", self.attn_implementation, ATTN_IMPLEMENTATIONS)
        _check_choice("problem_type", self.problem_type, PROBLEM_TYPES)
        _check_probability(self, "hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout")
        _check_numbers(self)
        if self.num_hidden_layers > MAX_LAYER_APPLICATIONS:
            raise ValueError(
                f"num_hidden_layers must be at most {MAX_LAYER_APPLICATIONS:,}, got {self.num_hidden_layers:,}"
            )

    @staticmethod
    def presets() -> dict[str, dict[str, Any]]:
        return BERT_PRESETS

    @classmethod
    def like(cls, albert: AlbertConfig, **overrides: Any) -> "BertConfig":
        """The BERT that an ALBERT config would be without its two parameter reductions (E = H, no sharing)."""
        fields = dict(
            vocab_size=albert.vocab_size,
            hidden_size=albert.hidden_size,
            num_hidden_layers=albert.num_hidden_layers,
            num_attention_heads=albert.num_attention_heads,
            intermediate_size=albert.intermediate_size,
            hidden_act=albert.hidden_act,
            hidden_dropout_prob=albert.hidden_dropout_prob,
            attention_probs_dropout_prob=albert.attention_probs_dropout_prob,
            max_position_embeddings=albert.max_position_embeddings,
            type_vocab_size=albert.type_vocab_size,
            initializer_range=albert.initializer_range,
            layer_norm_eps=albert.layer_norm_eps,
            pad_token_id=albert.pad_token_id,
            position_embedding_type=albert.position_embedding_type,
            attn_implementation=albert.attn_implementation,
        )
        return cls(**{**fields, **overrides})


# BERT's published sizes (Devlin et al., 2019) with its 30,522-piece WordPiece vocabulary.
BERT_PRESETS: dict[str, dict[str, Any]] = {
    "bert-base": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072),
    "bert-large": dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096),
}
