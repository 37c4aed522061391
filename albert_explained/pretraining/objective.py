"""The pretraining objective, MLM + SOP, and its evaluation on held-out pairs.

**The MLM loss only looks at the predicted positions.** AlbertForPreTraining computes logits for all T positions,
(B, T, V), and then ignores all but the predicted ones (a fraction masked_lm_prob = 0.15 of them in the recipe).
`PretrainingObjective` does what Google's `run_pretraining.py` does instead: it gathers the hidden states of the
predicted positions first, (M, H) with M the number of predictions in the batch, and runs the MLM head on those only.
Same loss, with the head's work cut from B x T rows to M.

**What is measured.** On the validation plays, with pairs and masks drawn once with a fixed seed, always by the
paper's recipe whatever the training knobs say (`PretrainingConfig.validation_data_config`): MLM accuracy (top-1
over predicted pieces, including the kept and the randomly replaced ones, as Google's evaluation counts them), SOP
accuracy, and the two losses. Baselines: for MLM, always guessing the training text's most frequent piece (",");
for SOP, chance (one half) and a bigram model that only compares the two junctions of a pair
(`data.junction_bigram_baseline`; every model card gives its accuracy). Sentence order in verse shows mostly where one
line runs into the next, so the second baseline says how much of SOP a model could get from the pieces next to the
cut alone; what it gets beyond that needs the passages' meaning.

**Both pair tasks, as in the paper's table 5.** A model pretrained with `objective="nsp"` (BERT's next-sentence
pairs, `data.create_nsp_pairs`) or with SOP has one pair head, and label 0 means "B follows A" in both tasks, so
`pair_task_accuracy` can score either model on either task's held-out pairs: the paper finds that an NSP model
cannot tell the order (52.0% on SOP) while an SOP model does NSP fairly well (78.9%).
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import torch
from torch import nn

from ..checks import IGNORE_INDEX
from ..device import autocast, eval_mode
from ..model import AlbertForPreTraining
from ..training.progress import progress_bar
from .data import DataConfig, PretrainingExample, SpecialIds, batches, collate, create_examples


class PretrainingObjective(nn.Module):
    """MLM + SOP losses and accuracy counts for one batch, with the MLM head run on the predicted positions only.

    A module (rather than a function) so that DistributedDataParallel can wrap it: DDP synchronises gradients of
    whatever its wrapped module's forward computes.
    """

    def __init__(self, model: AlbertForPreTraining):
        super().__init__()
        self.model = model

    def forward(
        self,
        input_ids: torch.Tensor,
        token_type_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        labels: torch.Tensor,
        sentence_order_label: torch.Tensor,
    ) -> dict[str, torch.Tensor]:
        outputs = self.model.albert(input_ids, attention_mask, token_type_ids)
        predicted = labels != IGNORE_INDEX  # (B, T) bool: the positions with a label
        hidden = outputs.last_hidden_state[predicted]  # (B, T, H) -> (M, H), M predictions in the batch
        mlm_logits = self.model.predictions(hidden).float()  # (M, V)
        targets = labels[predicted]  # (M,)
        sop_logits = self.model.sop_classifier(outputs.pooler_output).float()  # (B, 2)
        # sum / M rather than mean: identical, and well defined (0) for a batch that predicts nothing.
        mlm_loss = nn.functional.cross_entropy(mlm_logits, targets, reduction="sum") / max(1, targets.numel())
        sop_loss = nn.functional.cross_entropy(sop_logits, sentence_order_label)
        return {
            "loss": mlm_loss + sop_loss,
            "mlm_loss": mlm_loss.detach(),
            "sop_loss": sop_loss.detach(),
            "mlm_correct": (mlm_logits.argmax(-1) == targets).sum().detach(),
            "mlm_count": torch.tensor(targets.numel(), device=targets.device),
            "sop_correct": (sop_logits.argmax(-1) == sentence_order_label).sum().detach(),
            "sop_count": torch.tensor(sentence_order_label.numel(), device=targets.device),
        }


@torch.no_grad()
def evaluate(
    model: AlbertForPreTraining,
    examples: Sequence[PretrainingExample],
    batch_size: int,
    device: torch.device,
    pad_id: int = 0,
    progress: bool = False,
) -> dict[str, float]:
    """MLM and SOP accuracy and loss over `examples` (every prediction and every pair weighs the same)."""
    if not examples:
        raise ValueError("evaluate needs at least one example")
    objective = PretrainingObjective(model)
    totals = dict(mlm_loss=0.0, sop_loss=0.0, mlm_correct=0, mlm_count=0, sop_correct=0, sop_count=0)
    chunks = batches(examples, batch_size, drop_last=False)
    with eval_mode(model):
        for chunk in progress_bar(chunks, progress, desc="evaluating", leave=False):
            batch = {k: v.to(device) for k, v in collate(chunk, pad_id).items()}
            with autocast(device):
                out = objective(**batch)
            totals["mlm_loss"] += out["mlm_loss"].item() * out["mlm_count"].item()
            totals["sop_loss"] += out["sop_loss"].item() * out["sop_count"].item()
            for key in ("mlm_correct", "mlm_count", "sop_correct", "sop_count"):
                totals[key] += int(out[key].item())
    mlm_loss = totals["mlm_loss"] / max(1, totals["mlm_count"])
    sop_loss = totals["sop_loss"] / max(1, totals["sop_count"])
    return {
        "loss": mlm_loss + sop_loss,
        "mlm_loss": mlm_loss,
        "sop_loss": sop_loss,
        "mlm_accuracy": totals["mlm_correct"] / max(1, totals["mlm_count"]),
        "sop_accuracy": totals["sop_correct"] / max(1, totals["sop_count"]),
        "predictions": totals["mlm_count"],
        "pairs": totals["sop_count"],
    }


def pair_task_accuracy(
    model: AlbertForPreTraining,
    documents: Sequence[Sequence[Sequence[int]]],
    ids: SpecialIds,
    config: DataConfig,
    task: str,
    seed: int,
    batch_size: int,
    device: torch.device,
    max_examples: int | None = None,
) -> float:
    """The pair head's accuracy on held-out pairs of one task, "sop" or "nsp", built from `documents` (tokenized,
    as `data.tokenize_documents` gives them) with `config`'s recipe and one seed, whatever task the model was
    trained on."""
    examples = create_examples(documents, ids, dataclasses.replace(config, objective=task), seed=seed, shuffle=False)
    return evaluate(model, examples[:max_examples], batch_size, device, ids.pad)["sop_accuracy"]
