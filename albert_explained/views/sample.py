"""From a model's outputs to one sentence's attention: the starting point of every view.

Every attention head produces, for a sentence of T tokens, a T x T matrix P whose row i is a probability distribution:
how much token i reads from each token j when it builds its next representation (model.py, section 2). A model run
with `output_attentions=True` returns a tuple with one (B, N, T, T) tensor per layer application (A = L x
inner_group_num of them; A = L in every published ALBERT). `AttentionSample` keeps what a view of one example needs:
its tokens and its (A, N, t, t) attention with padding removed (t real tokens), sentence B marked for pairs.

Layers and heads are counted from 0, as Python indexes `outputs.attentions` and as bertviz does. For ALBERT,
"layer" means layer application: with all-shared weights, layer 3 is the one shared layer applied the fourth time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

import torch

from ..device import eval_mode


def prettify_tokens(tokens: Sequence[str]) -> list[str]:
    """SentencePiece pieces -> labels: '▁the' -> 'the' (the '▁' only says a word starts here); a lone '▁' stays."""
    return [token if token == "▁" else token.replace("▁", "") for token in tokens]


def _attention_tuple(outputs: Any) -> tuple[torch.Tensor, ...]:
    """The attention tuple from a model output, or the tuple itself."""
    attentions = getattr(outputs, "attentions", outputs)
    if attentions is None or (isinstance(attentions, (tuple, list)) and any(a is None for a in attentions)):
        raise ValueError("the outputs hold no attentions: call the model with output_attentions=True")
    if isinstance(attentions, torch.Tensor) or not all(
        isinstance(a, torch.Tensor) and a.dim() == 4 for a in attentions
    ):
        raise ValueError(
            "attentions must be a tuple with one (batch, heads, tokens, tokens) tensor per layer, as "
            "model(..., output_attentions=True).attentions returns"
        )
    return tuple(attentions)


@dataclass
class AttentionSample:
    """One sentence (or pair) and its attention at every layer and head, padding removed."""

    tokens: list[str]  # t labels, prettified
    attentions: torch.Tensor  # (A, N, t, t): layer application, head, query token, key token
    input_ids: torch.Tensor  # (t,)
    sentence_b_start: Optional[int] = None  # index of sentence B's first token for a pair, else None
    raw_tokens: Optional[list[str]] = None  # the pieces as the tokenizer spells them

    def __post_init__(self) -> None:
        """A sample built by hand is checked as one built from a model's outputs is: every view trusts it."""
        if not isinstance(self.tokens, (list, tuple)) or not all(isinstance(t, str) for t in self.tokens):
            raise TypeError(f"tokens must be a list of strings, got {type(self.tokens).__name__}")
        t = len(self.tokens)
        if (
            not isinstance(self.attentions, torch.Tensor)
            or self.attentions.dim() != 4
            or tuple(self.attentions.shape[2:]) != (t, t)
            or min(self.attentions.shape) == 0
        ):
            shape = (
                tuple(self.attentions.shape)
                if isinstance(self.attentions, torch.Tensor)
                else type(self.attentions).__name__
            )
            raise ValueError(
                f"attentions must be a tensor of shape (layers, heads, {t}, {t}) for {t} tokens, with at "
                f"least one of each, got {shape}"
            )
        values = self.attentions.float()
        # Probabilities, up to the rounding of a bf16 model; masked heads give rows of zeros.
        if not (torch.isfinite(values).all() and values.min() >= 0 and values.max() <= 1.001):
            raise ValueError("attentions must be probabilities: finite values between 0 and 1")
        if self.sentence_b_start is not None and not (
            isinstance(self.sentence_b_start, int) and 0 <= self.sentence_b_start < t
        ):
            raise ValueError(
                f"sentence_b_start must be None or a token index from 0 to {t - 1}, got {self.sentence_b_start!r}"
            )

    @property
    def num_layers(self) -> int:
        return self.attentions.shape[0]

    @property
    def num_heads(self) -> int:
        return self.attentions.shape[1]

    @classmethod
    def from_outputs(
        cls, outputs: Any, encoding: Mapping[str, torch.Tensor], tokenizer: Any = None, index: int = 0
    ) -> "AttentionSample":
        """Example `index` of a batch: outputs of model(**encoding, output_attentions=True) and that encoding.

        tokenizer: anything with convert_ids_to_tokens (default: the bundled model's tokenizer).
        """
        attentions = torch.stack(_attention_tuple(outputs)).detach().float().cpu()  # (A, B, N, T, T)
        input_ids = encoding["input_ids"].detach().cpu()  # (B, T)
        batch, seq_len = input_ids.shape
        if attentions.shape[1] != batch or attentions.shape[-1] != seq_len:
            raise ValueError(
                f"the attentions are for batch {attentions.shape[1]} x {attentions.shape[-1]} tokens but "
                f"input_ids has shape {tuple(input_ids.shape)}: pass the encoding the model ran on"
            )
        if not -batch <= index < batch:
            raise IndexError(f"index {index} is outside the batch of {batch}")
        mask = encoding.get("attention_mask")
        real = torch.ones(seq_len, dtype=torch.bool) if mask is None else mask[index].detach().cpu().bool()  # (T,)
        positions = real.nonzero().flatten()  # the real tokens; right or left padding alike
        ids = input_ids[index, positions]  # (t,)
        example = attentions[:, index][:, :, positions][:, :, :, positions]  # (A, N, t, t)

        sentence_b_start = None
        types = encoding.get("token_type_ids")
        if types is not None and (types[index, positions] == 1).any():
            sentence_b_start = int((types[index, positions] == 1).nonzero()[0, 0])  # first token of segment 1
        tokenizer = tokenizer if tokenizer is not None else model_and_tokenizer(None, None)[1]
        raw = list(tokenizer.convert_ids_to_tokens(ids.tolist()))
        return cls(prettify_tokens(raw), example, ids, sentence_b_start, raw)

    def bertviz_arguments(self) -> dict[str, Any]:
        """attention (A tensors of shape (1, N, t, t)), tokens and sentence_b_start, as bertviz wants them."""
        return {
            "attention": tuple(layer.unsqueeze(0) for layer in self.attentions),  # (N, t, t) -> (1, N, t, t)
            "tokens": list(self.tokens),
            "sentence_b_start": self.sentence_b_start,
        }

    def check_layer_head(self, layer: int, head: Optional[int] = None) -> None:
        if not 0 <= layer < self.num_layers:
            raise ValueError(
                f"layer must be between 0 and {self.num_layers - 1} (this model has {self.num_layers} "
                f"layer applications), got {layer}"
            )
        if head is not None and not 0 <= head < self.num_heads:
            raise ValueError(
                f"head must be between 0 and {self.num_heads - 1} (this model has {self.num_heads} heads), got {head}"
            )


def model_and_tokenizer(model: Optional[torch.nn.Module], tokenizer: Any) -> tuple[torch.nn.Module, Any]:
    """Both as given, or the bundled pair when neither is given."""
    if model is None and tokenizer is None:
        from ..bundled import inference_model

        return inference_model()
    if model is None or tokenizer is None:
        raise ValueError(
            "pass both model and tokenizer, or neither (to use the bundled model): a model needs the "
            "tokenizer it was trained with"
        )
    return model, tokenizer


@torch.no_grad()
def attend(
    text: str, text_pair: Optional[str] = None, model: Optional[torch.nn.Module] = None, tokenizer: Any = None
) -> AttentionSample:
    """Tokenize a text (or a pair), run the model and return its attention: the starting point of every view."""
    model, tokenizer = model_and_tokenizer(model, tokenizer)
    encoding = tokenizer(text, text_pair, return_tensors="pt")
    inputs = {
        key: encoding[key].to(model.device)
        for key in ("input_ids", "attention_mask", "token_type_ids")
        if key in encoding
    }
    with eval_mode(model):
        outputs = model(**inputs, output_attentions=True)
    return AttentionSample.from_outputs(outputs, encoding, tokenizer)


def sample_from(
    outputs: Any, encoding: Optional[Mapping[str, torch.Tensor]], tokenizer: Any, index: int
) -> AttentionSample:
    """An AttentionSample as given, or example `index` of a batch's outputs and encoding."""
    if isinstance(outputs, AttentionSample):
        return outputs
    if encoding is None:
        raise ValueError(
            "pass the encoding the model ran on (with input_ids and attention_mask), or an AttentionSample"
        )
    return AttentionSample.from_outputs(outputs, encoding, tokenizer, index)
