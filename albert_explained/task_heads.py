"""The four fine-tuning heads: ALBERT's encoder (`model.py`) with a small task layer on top, as in transformers.

Pretraining (model.py, section 6) teaches the encoder; fine-tuning puts a freshly initialised linear layer on its
output and trains both on a labelled task (the paper's tables 9 and 10: GLUE, SQuAD and RACE). Each head reads
either the pooled [CLS] vector (one answer per sequence) or every token's hidden state (one answer per token), and
computes the reference's loss when labels are given:

    class                              reads                   logits               loss
    AlbertForSequenceClassification    pooled (B, H)           (B, num_labels)      MSE, CE or BCE (problem_type)
    AlbertForTokenClassification       every token (B, T, H)   (B, T, num_labels)   CE, -100 ignored
    AlbertForQuestionAnswering         every token             start, end (B, T)    mean of start and end CE
    AlbertForMultipleChoice            pooled, per choice      (B, C)               CE over the C choices

Notebook 09 fine-tunes each on a task made from the plays (`finetuning/`). Labels are checked in `checks.py` before
any computation, as the encoder's inputs are. Names and state-dict keys are the reference's, so its fine-tuned
checkpoints load.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import nn

from . import checks
from .config import AlbertConfig
from .model import AlbertModel, TaskOutput, classifier_dropout
from .weights import AlbertPreTrainedModel


@dataclass
class QuestionAnsweringOutput:
    loss: Optional[torch.Tensor] = None
    start_logits: Optional[torch.Tensor] = None  # (B, T): where the answer span starts
    end_logits: Optional[torch.Tensor] = None  # (B, T): where it ends
    hidden_states: Optional[tuple[torch.Tensor, ...]] = None
    attentions: Optional[tuple[torch.Tensor, ...]] = None


class AlbertForSequenceClassification(AlbertPreTrainedModel):
    def __init__(self, config: AlbertConfig):
        super().__init__(config)
        self.albert = AlbertModel(config)
        self.dropout = classifier_dropout(config)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.init_weights()

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        head_mask=None,
        inputs_embeds=None,
        labels=None,
        output_attentions=False,
        output_hidden_states=False,
    ) -> TaskOutput:
        # Regression, single- or multi-label classification: config.problem_type, or the reference's rule.
        problem_type = checks.check_sequence_labels(self.config, input_ids, inputs_embeds, labels)
        outputs = self.albert(
            input_ids,
            attention_mask,
            token_type_ids,
            position_ids,
            head_mask,
            inputs_embeds,
            output_attentions,
            output_hidden_states,
        )
        logits = self.classifier(self.dropout(outputs.pooler_output))  # (B, H) -> (B, num_labels)
        loss = None
        if problem_type == "regression":
            squeeze = self.config.num_labels == 1  # (B, 1) against (B,): compare as (B,)
            loss = nn.functional.mse_loss(
                logits.squeeze() if squeeze else logits, (labels.squeeze() if squeeze else labels).to(logits.dtype)
            )
        elif problem_type == "single_label_classification":
            loss = nn.functional.cross_entropy(logits.view(-1, self.config.num_labels), labels.view(-1))
        elif problem_type == "multi_label_classification":
            loss = nn.functional.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))
        return TaskOutput(loss, logits, outputs.hidden_states, outputs.attentions)


class AlbertForTokenClassification(AlbertPreTrainedModel):
    def __init__(self, config: AlbertConfig):
        super().__init__(config)
        self.albert = AlbertModel(config, add_pooling_layer=False)
        self.dropout = classifier_dropout(config)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.init_weights()

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        head_mask=None,
        inputs_embeds=None,
        labels=None,
        output_attentions=False,
        output_hidden_states=False,
    ) -> TaskOutput:
        shape = checks.batch_shape(input_ids, inputs_embeds)  # (B, T)
        checks.check_token_labels("labels", labels, shape, self.config.num_labels, "num_labels")
        outputs = self.albert(
            input_ids,
            attention_mask,
            token_type_ids,
            position_ids,
            head_mask,
            inputs_embeds,
            output_attentions,
            output_hidden_states,
        )
        logits = self.classifier(self.dropout(outputs.last_hidden_state))  # (B, T, H) -> (B, T, num_labels)
        loss = None if labels is None else nn.functional.cross_entropy(logits.flatten(0, 1), labels.view(-1))
        return TaskOutput(loss, logits, outputs.hidden_states, outputs.attentions)


class AlbertForQuestionAnswering(AlbertPreTrainedModel):
    """Extractive QA (SQuAD): score every token as the answer's start and as its end."""

    def __init__(self, config: AlbertConfig):
        super().__init__(config)
        self.albert = AlbertModel(config, add_pooling_layer=False)
        self.qa_outputs = nn.Linear(config.hidden_size, config.num_labels)  # start and end: num_labels = 2
        self.init_weights()

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        head_mask=None,
        inputs_embeds=None,
        start_positions=None,
        end_positions=None,
        output_attentions=False,
        output_hidden_states=False,
    ) -> QuestionAnsweringOutput:
        checks.check_answer_positions(self.config, input_ids, inputs_embeds, start_positions, end_positions)
        outputs = self.albert(
            input_ids,
            attention_mask,
            token_type_ids,
            position_ids,
            head_mask,
            inputs_embeds,
            output_attentions,
            output_hidden_states,
        )
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
        self.dropout = classifier_dropout(config)
        self.classifier = nn.Linear(config.hidden_size, 1)  # one score per choice
        self.init_weights()

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        head_mask=None,
        inputs_embeds=None,
        labels=None,
        output_attentions=False,
        output_hidden_states=False,
    ) -> TaskOutput:
        num_choices = checks.check_multiple_choice(
            input_ids, attention_mask, token_type_ids, position_ids, inputs_embeds, labels
        )

        def fold(x: Optional[torch.Tensor], feature_dims: int = 0) -> Optional[torch.Tensor]:
            """Every choice is an ordinary sequence: fold the choices into the batch, (B, C, T) -> (B*C, T)."""
            return None if x is None else x.reshape(-1, *x.shape[x.dim() - 1 - feature_dims :])

        outputs = self.albert(
            fold(input_ids),
            fold(attention_mask),
            fold(token_type_ids),
            fold(position_ids),
            head_mask,
            fold(inputs_embeds, feature_dims=1),  # (B, C, T, E) -> (B*C, T, E)
            output_attentions,
            output_hidden_states,
        )
        scores = self.classifier(self.dropout(outputs.pooler_output))  # (B*C, H) -> (B*C, 1)
        logits = scores.view(-1, num_choices)  # (B, C)
        loss = nn.functional.cross_entropy(logits, labels.view(-1)) if labels is not None else None
        return TaskOutput(loss, logits, outputs.hidden_states, outputs.attentions)
