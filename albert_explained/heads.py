"""The heads: what sits on top of AlbertModel for pretraining and for each fine-tuning task.

Pretraining (paper, sections 3.1 and 4.1) trains two heads at once, and the loss is their sum:

- **Masked language modelling (MLM).** About 15% of the pieces are hidden; the model predicts each from its hidden
  state h_t (size H):

      logits_t = W_word LayerNorm( act( W_dense h_t + b_dense ) ) + b        W_dense: H -> E, W_word: E -> V

  W_word is the word-embedding matrix itself ("tied"): the same V x E table turns pieces into vectors at the input
  and vectors back into scores over pieces at the output. The head first maps H down to E for that reason. The loss
  is cross-entropy over the masked positions; every other position has label -100 and is ignored.

- **Sentence-order prediction (SOP).** The input is two consecutive segments of one document, A then B (label 0)
  or swapped, B then A (label 1). A linear classifier on the pooled [CLS] vector predicts which. BERT's next-sentence
  prediction paired A with a random B, which the paper argues is mostly topic prediction and too easy; SOP keeps
  the topic fixed and asks about coherence only.

Fine-tuning heads, each a small linear layer on AlbertModel's output, with the reference's losses:

| class                           | reads                 | logits              | loss                          |
|---------------------------------|-----------------------|---------------------|-------------------------------|
| AlbertForSequenceClassification | pooled (B, H)         | (B, num_labels)     | MSE, CE or BCE (problem_type) |
| AlbertForTokenClassification    | every token (B, T, H) | (B, T, num_labels)  | cross-entropy, -100 ignored   |
| AlbertForQuestionAnswering      | every token           | start, end: (B, T)  | mean of start and end CE      |
| AlbertForMultipleChoice         | pooled, per choice    | (B, C)              | cross-entropy over C choices  |

Labels are checked (shape and range) before any computation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import nn

from .activations import get_activation
from .config import AlbertConfig
from .model import AlbertModel, AlbertPreTrainedModel, _describe

IGNORE_INDEX = -100  # the label of positions that take no part in a loss (PyTorch's cross_entropy default)


@dataclass
class AlbertForPreTrainingOutput:
    loss: Optional[torch.Tensor] = None  # MLM loss + SOP loss, when both kinds of labels are given
    prediction_logits: Optional[torch.Tensor] = None  # (B, T, V)
    sop_logits: Optional[torch.Tensor] = None  # (B, 2)
    hidden_states: Optional[tuple[torch.Tensor, ...]] = None
    attentions: Optional[tuple[torch.Tensor, ...]] = None


@dataclass
class TaskOutput:
    """Output of the masked-LM, sequence, token and multiple-choice heads."""

    loss: Optional[torch.Tensor] = None
    logits: Optional[torch.Tensor] = None  # (B, T, V), (B, num_labels), (B, T, num_labels) or (B, C)
    hidden_states: Optional[tuple[torch.Tensor, ...]] = None
    attentions: Optional[tuple[torch.Tensor, ...]] = None


@dataclass
class QuestionAnsweringOutput:
    loss: Optional[torch.Tensor] = None
    start_logits: Optional[torch.Tensor] = None  # (B, T): where the answer span starts
    end_logits: Optional[torch.Tensor] = None  # (B, T): where it ends
    hidden_states: Optional[tuple[torch.Tensor, ...]] = None
    attentions: Optional[tuple[torch.Tensor, ...]] = None


class AlbertMLMHead(nn.Module):
    def __init__(self, config: AlbertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.embedding_size)  # H -> E
        self.activation = get_activation(config.hidden_act)
        self.LayerNorm = nn.LayerNorm(config.embedding_size, eps=config.layer_norm_eps)
        self.decoder = nn.Linear(config.embedding_size, config.vocab_size)  # E -> V; weight tied to the embeddings
        # The output bias lives here as `predictions.bias` (a reference key) and is the decoder's bias too.
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))
        self.decoder.bias = self.bias

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        x = self.LayerNorm(self.activation(self.dense(hidden_states)))  # (B, T, H) -> (B, T, E)
        return self.decoder(x)  # (B, T, E) -> (B, T, V)


class AlbertSOPHead(nn.Module):
    def __init__(self, config: AlbertConfig):
        super().__init__()
        self.dropout = nn.Dropout(_classifier_dropout(config))
        # The reference sizes this layer by num_labels (2 for SOP); kept so its checkpoints load.
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, pooled_output: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(pooled_output))  # (B, H) -> (B, 2)


class _MaskedLMBase(AlbertPreTrainedModel):
    """Shared by the two classes that own an MLM head: tie its decoder to the word embeddings."""

    albert: AlbertModel
    predictions: AlbertMLMHead
    # Keys that are other keys' tensors: not written to checkpoints, not reported missing when absent.
    tied_weight_keys = ("predictions.decoder.weight", "predictions.decoder.bias")

    def tie_weights(self) -> None:
        self.predictions.decoder.weight = self.albert.embeddings.word_embeddings.weight  # (V, E), one tensor
        self.predictions.decoder.bias = self.predictions.bias


class AlbertForPreTraining(_MaskedLMBase):
    def __init__(self, config: AlbertConfig):
        super().__init__(config)
        self.albert = AlbertModel(config)
        self.predictions = AlbertMLMHead(config)
        self.sop_classifier = AlbertSOPHead(config)
        self.init_weights()

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, head_mask=None,
                inputs_embeds=None, labels=None, sentence_order_label=None, output_attentions=False,
                output_hidden_states=False) -> AlbertForPreTrainingOutput:
        batch_size, seq_len = _batch_shape(input_ids, inputs_embeds)
        _check_token_labels("labels", labels, (batch_size, seq_len), self.config.vocab_size, "vocab_size")
        _check_class_labels("sentence_order_label", sentence_order_label, batch_size, 2)
        if sentence_order_label is not None and self.config.num_labels != 2:
            raise ValueError(f"sentence-order prediction has 2 classes; this config has num_labels = "
                             f"{self.config.num_labels}")
        outputs = self.albert(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
                              output_attentions, output_hidden_states)
        prediction_logits = self.predictions(outputs.last_hidden_state)  # (B, T, V)
        sop_logits = self.sop_classifier(outputs.pooler_output)  # (B, 2)

        loss = None
        if labels is not None and sentence_order_label is not None:  # the reference needs both
            mlm_loss = nn.functional.cross_entropy(prediction_logits.view(-1, self.config.vocab_size), labels.view(-1))
            sop_loss = nn.functional.cross_entropy(sop_logits.view(-1, 2), sentence_order_label.view(-1))
            loss = mlm_loss + sop_loss
        return AlbertForPreTrainingOutput(loss, prediction_logits, sop_logits, outputs.hidden_states,
                                          outputs.attentions)


class AlbertForMaskedLM(_MaskedLMBase):
    def __init__(self, config: AlbertConfig):
        super().__init__(config)
        self.albert = AlbertModel(config, add_pooling_layer=False)
        self.predictions = AlbertMLMHead(config)
        self.init_weights()

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, head_mask=None,
                inputs_embeds=None, labels=None, output_attentions=False, output_hidden_states=False) -> TaskOutput:
        batch_size, seq_len = _batch_shape(input_ids, inputs_embeds)
        _check_token_labels("labels", labels, (batch_size, seq_len), self.config.vocab_size, "vocab_size")
        outputs = self.albert(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
                              output_attentions, output_hidden_states)
        logits = self.predictions(outputs.last_hidden_state)  # (B, T, V)
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(logits.view(-1, self.config.vocab_size), labels.view(-1))
        return TaskOutput(loss, logits, outputs.hidden_states, outputs.attentions)


class AlbertForSequenceClassification(AlbertPreTrainedModel):
    def __init__(self, config: AlbertConfig):
        super().__init__(config)
        self.albert = AlbertModel(config)
        self.dropout = nn.Dropout(_classifier_dropout(config))
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.init_weights()

    def problem_type(self, labels: torch.Tensor) -> str:
        """The reference's rule when config.problem_type is None: 1 label is regression; integer labels are
        single-label classification; anything else (float multi-hot vectors) is multi-label."""
        if self.config.problem_type is not None:
            return self.config.problem_type
        if self.config.num_labels == 1:
            return "regression"
        if not labels.dtype.is_floating_point:
            return "single_label_classification"
        return "multi_label_classification"

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, head_mask=None,
                inputs_embeds=None, labels=None, output_attentions=False, output_hidden_states=False) -> TaskOutput:
        batch_size, _ = _batch_shape(input_ids, inputs_embeds)
        num_labels = self.config.num_labels
        problem_type = None
        if labels is not None:
            if not isinstance(labels, torch.Tensor):
                raise TypeError(f"labels must be a tensor, got {type(labels).__name__}")
            problem_type = self.problem_type(labels)
            if problem_type == "single_label_classification":
                _check_class_labels("labels", labels, batch_size, num_labels)
            elif problem_type == "multi_label_classification" and tuple(labels.shape) != (batch_size, num_labels):
                raise ValueError(f"multi-label labels must have shape (batch, num_labels) = "
                                 f"{(batch_size, num_labels)}, got {tuple(labels.shape)}")
            elif problem_type == "regression" and labels.numel() != batch_size * num_labels:
                raise ValueError(f"regression labels must hold batch x num_labels = {batch_size * num_labels} values, "
                                 f"got shape {tuple(labels.shape)}")
        outputs = self.albert(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
                              output_attentions, output_hidden_states)
        logits = self.classifier(self.dropout(outputs.pooler_output))  # (B, H) -> (B, num_labels)

        loss = None
        if problem_type == "regression":
            if num_labels == 1:
                loss = nn.functional.mse_loss(logits.squeeze(), labels.squeeze().to(logits.dtype))
            else:
                loss = nn.functional.mse_loss(logits, labels.to(logits.dtype))
        elif problem_type == "single_label_classification":
            loss = nn.functional.cross_entropy(logits.view(-1, num_labels), labels.view(-1))
        elif problem_type == "multi_label_classification":
            loss = nn.functional.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))
        return TaskOutput(loss, logits, outputs.hidden_states, outputs.attentions)


class AlbertForTokenClassification(AlbertPreTrainedModel):
    def __init__(self, config: AlbertConfig):
        super().__init__(config)
        self.albert = AlbertModel(config, add_pooling_layer=False)
        self.dropout = nn.Dropout(_classifier_dropout(config))
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.init_weights()

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, head_mask=None,
                inputs_embeds=None, labels=None, output_attentions=False, output_hidden_states=False) -> TaskOutput:
        batch_size, seq_len = _batch_shape(input_ids, inputs_embeds)
        _check_token_labels("labels", labels, (batch_size, seq_len), self.config.num_labels, "num_labels")
        outputs = self.albert(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
                              output_attentions, output_hidden_states)
        logits = self.classifier(self.dropout(outputs.last_hidden_state))  # (B, T, H) -> (B, T, num_labels)
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(logits.view(-1, self.config.num_labels), labels.view(-1))
        return TaskOutput(loss, logits, outputs.hidden_states, outputs.attentions)


class AlbertForQuestionAnswering(AlbertPreTrainedModel):
    """Extractive QA (SQuAD): score every token as the answer's start and as its end."""

    def __init__(self, config: AlbertConfig):
        super().__init__(config)
        self.albert = AlbertModel(config, add_pooling_layer=False)
        # Two outputs per token, start and end (the reference reads num_labels, which is 2 for QA).
        self.qa_outputs = nn.Linear(config.hidden_size, config.num_labels)
        self.init_weights()

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, head_mask=None,
                inputs_embeds=None, start_positions=None, end_positions=None, output_attentions=False,
                output_hidden_states=False) -> QuestionAnsweringOutput:
        batch_size, _ = _batch_shape(input_ids, inputs_embeds)
        if self.config.num_labels != 2:
            raise ValueError(f"question answering needs num_labels = 2 (start and end), got {self.config.num_labels}")
        for name, positions in (("start_positions", start_positions), ("end_positions", end_positions)):
            _check_positions(name, positions, batch_size)
        outputs = self.albert(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
                              output_attentions, output_hidden_states)
        logits = self.qa_outputs(outputs.last_hidden_state)  # (B, T, 2)
        start_logits, end_logits = logits.unbind(dim=-1)  # (B, T) each

        loss = None
        if start_positions is not None and end_positions is not None:
            # As in the reference: a position outside the sequence (an answer truncated away) is clamped to T and
            # then ignored by the loss.
            seq_len = start_logits.shape[1]
            start = start_positions.view(-1).clamp(0, seq_len)
            end = end_positions.view(-1).clamp(0, seq_len)
            start_loss = nn.functional.cross_entropy(start_logits, start, ignore_index=seq_len)
            end_loss = nn.functional.cross_entropy(end_logits, end, ignore_index=seq_len)
            loss = (start_loss + end_loss) / 2
        return QuestionAnsweringOutput(loss, start_logits, end_logits, outputs.hidden_states, outputs.attentions)


class AlbertForMultipleChoice(AlbertPreTrainedModel):
    """C candidate inputs per example (question + answer i); the model scores each and picks one (RACE, SWAG)."""

    def __init__(self, config: AlbertConfig):
        super().__init__(config)
        self.albert = AlbertModel(config)
        self.dropout = nn.Dropout(_classifier_dropout(config))
        self.classifier = nn.Linear(config.hidden_size, 1)  # one score per choice
        self.init_weights()

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, head_mask=None,
                inputs_embeds=None, labels=None, output_attentions=False, output_hidden_states=False) -> TaskOutput:
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of input_ids and inputs_embeds, not "
                             + ("both" if input_ids is not None else "neither"))
        first = input_ids if input_ids is not None else inputs_embeds
        expected_dim = 3 if input_ids is not None else 4
        if not isinstance(first, torch.Tensor) or first.dim() != expected_dim:
            name = "input_ids" if input_ids is not None else "inputs_embeds"
            shape = "(batch, choices, sequence)" + (", embedding" if inputs_embeds is not None else "")
            raise ValueError(f"{name} must have shape {shape} for multiple choice, got {_describe(first)}")
        batch_size, num_choices = first.shape[:2]
        _check_class_labels("labels", labels, batch_size, num_choices)

        # Every choice is an ordinary sequence: fold the choices into the batch.
        def flat(x: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
            if x is None:
                return None
            if x.dim() < 2:
                raise ValueError(f"multiple-choice inputs must have shape (batch, choices, sequence), "
                                 f"got {_describe(x)}")
            return x.reshape(-1, x.shape[-1])  # (B, C, T) -> (B*C, T)

        if inputs_embeds is not None:
            inputs_embeds = inputs_embeds.reshape(-1, *inputs_embeds.shape[-2:])  # (B, C, T, E) -> (B*C, T, E)
        outputs = self.albert(flat(input_ids), flat(attention_mask), flat(token_type_ids), flat(position_ids),
                              head_mask, inputs_embeds, output_attentions, output_hidden_states)
        scores = self.classifier(self.dropout(outputs.pooler_output))  # (B*C, H) -> (B*C, 1)
        logits = scores.view(-1, num_choices)  # (B, C)
        loss = nn.functional.cross_entropy(logits, labels.view(-1)) if labels is not None else None
        return TaskOutput(loss, logits, outputs.hidden_states, outputs.attentions)


def _classifier_dropout(config: AlbertConfig) -> float:
    """classifier_dropout_prob, or hidden_dropout_prob when the config leaves it unset (None)."""
    return config.classifier_dropout_prob if config.classifier_dropout_prob is not None else config.hidden_dropout_prob


def _batch_shape(input_ids: Optional[torch.Tensor], inputs_embeds: Optional[torch.Tensor]) -> tuple[int, int]:
    """(B, T) of a batch, for checking labels before the model runs (the model checks the inputs themselves)."""
    for name, tensor, dim in (("input_ids", input_ids, 2), ("inputs_embeds", inputs_embeds, 3)):
        if tensor is not None:
            if not isinstance(tensor, torch.Tensor) or tensor.dim() != dim:
                shape = "(batch, sequence)" if dim == 2 else "(batch, sequence, embedding)"
                raise ValueError(f"{name} must have shape {shape}, got {_describe(tensor)}")
            return tuple(tensor.shape[:2])
    raise ValueError("pass exactly one of input_ids and inputs_embeds, not neither")


def _check_integer_tensor(name: str, labels: torch.Tensor) -> None:
    if not isinstance(labels, torch.Tensor) or labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise TypeError(f"{name} must be an integer tensor, got {_describe(labels)}")


def _check_token_labels(name: str, labels: Optional[torch.Tensor], shape: tuple[int, int], high: int,
                        limit: str) -> None:
    """Per-token labels: shape (B, T), each -100 (ignored) or in [0, high)."""
    if labels is None:
        return
    _check_integer_tensor(name, labels)
    if tuple(labels.shape) != tuple(shape):
        raise ValueError(f"{name} must have the shape of input_ids {tuple(shape)}, got {tuple(labels.shape)}")
    bad = (labels != IGNORE_INDEX) & ((labels < 0) | (labels >= high))
    if bad.any():
        raise ValueError(f"{name} must be -100 (ignored) or in [0, {high}) ({limit} = {high}), "
                         f"found {labels[bad][0].item()}")


def _check_class_labels(name: str, labels: Optional[torch.Tensor], batch_size: int, num_classes: int) -> None:
    """One class per example: shape (B,) or (B, 1), each in [0, num_classes)."""
    if labels is None:
        return
    _check_integer_tensor(name, labels)
    if labels.numel() != batch_size or labels.dim() > 2:
        raise ValueError(f"{name} must have shape (batch,) = ({batch_size},), got {tuple(labels.shape)}")
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)][0].item()
        raise ValueError(f"{name} must be in [0, {num_classes}), found {bad}")


def _check_positions(name: str, positions: Optional[torch.Tensor], batch_size: int) -> None:
    """Answer positions: one per example, shape (B,) or (B, 1). Out-of-range values are allowed (then ignored)."""
    if positions is None:
        return
    _check_integer_tensor(name, positions)
    if positions.numel() != batch_size or positions.dim() > 2:
        raise ValueError(f"{name} must have shape (batch,) = ({batch_size},), got {tuple(positions.shape)}")
