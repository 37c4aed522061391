"""The exported model of a pretraining run: weights, tokenizer, metrics.json and a README.md card.

The card is `card.md` (beside this file) with $-placeholders filled by `string.Template`, from the run's summary
(`metrics.json`), so the card and the metrics can never disagree: `model_card(metrics, config)` rebuilds a card from a
metrics.json at any time.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
from importlib import resources
import string
import sys
from pathlib import Path
from typing import Any, Sequence

import torch

from ..config import AlbertConfig
from ..device import resolve_precision
from ..files import new_directory, write_text
from ..model import AlbertForPreTraining
from ..training.checkpoints import TrainingState
from ..training.distributed import Distributed
from .corpus import CorpusSplit


def _package_file(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def hardware_description(device: torch.device, dist: Distributed) -> str:
    """A line for the model card: CPU model and threads, or the GPU."""
    if device.type == "cuda":
        what = torch.cuda.get_device_name(device)
    else:
        what = platform.processor() or platform.machine()
        try:
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    what = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
        visible = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        what += f", {torch.get_num_threads()} torch threads ({visible} logical CPUs visible)"
    if dist.enabled:
        what += f", {dist.world_size} processes (DistributedDataParallel)"
    return what


def export_model(
    model: AlbertForPreTraining,
    tokenizer: Any,
    directory: Path,
    config: Any,
    state: TrainingState,
    metrics: dict[str, float],
    baselines: dict[str, Any],
    split: CorpusSplit,
    device: torch.device,
    dist: Distributed,
) -> None:
    """config.json + model.safetensors (from_pretrained), the tokenizer, metrics.json and a README.md card, in a
    directory that appears whole or not at all (files.new_directory): an export stopped midway leaves no directory,
    and resuming the run writes it again."""
    with new_directory(directory) as building:
        model.save_pretrained(building)
        tokenizer.save_pretrained(building)
        parameters = sum(p.numel() for p in model.parameters())
        summary = {
            "corpus": split.source or config.corpus,
            "train_documents": [d.name for d in split.train],
            "validation_documents": [d.name for d in split.validation],
            "command": command_for_card(config.command, dist),
            "steps": state.step,
            "batch_size": config.batch_size * dist.world_size,
            "epochs_started": state.epoch + 1,
            "wall_time_seconds": round(state.elapsed_seconds, 1),
            "cpu_time_seconds": round(state.cpu_seconds, 1),
            "hardware": hardware_description(device, dist),
            "precision": resolve_precision(config.precision, device),
            "torch": torch.__version__,
            "python": sys.version.split()[0],
            "parameters": parameters,
            "validation": metrics,
            "baselines": baselines,
            "learning_curve": learning_curve(state.history),
            "training_config": dataclasses.asdict(config),
        }
        write_text(building / "metrics.json", json.dumps(summary, indent=2) + "\n")
        write_text(building / "README.md", model_card(summary, model.config))


def command_for_card(command: str, dist: Distributed) -> str:
    """The command line that made the run. Under torchrun it is the torchrun line: the plain command would start one
    process, with 1 / world_size of the batch (--batch-size is per process)."""
    if not dist.enabled or not command.startswith("albert-explained "):
        return command
    per_node = int(os.environ.get("LOCAL_WORLD_SIZE", dist.world_size))  # set by torchrun
    nodes = f"--nnodes {dist.world_size // per_node} " if dist.world_size > per_node else ""
    return (
        f"torchrun {nodes}--nproc_per_node {per_node} -m albert_explained {command.removeprefix('albert-explained ')}"
    )


def learning_curve(history: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per evaluation: the step, the validation metrics, and the mean training losses of the steps since the
    previous evaluation (what a plot of the run needs: a row per evaluation, where the log has a record for every
    step)."""
    rows, since_last = [], []
    for record in history:
        if "eval" in record:
            row = {"step": record["step"]}
            for key in ("mlm_loss", "sop_loss"):
                if since_last:
                    row[f"train_{key}"] = sum(r[key] for r in since_last) / len(since_last)
            row.update({key: record["eval"][key] for key in ("mlm_accuracy", "sop_accuracy", "mlm_loss", "sop_loss")})
            rows.append(row)
            since_last = []
        elif "loss" in record:
            since_last.append(record)
    return rows


def model_card(summary: dict[str, Any], model_config: AlbertConfig) -> str:
    """The README.md of an exported model: what it is, how it was made, and its validation figures."""
    v, b, t, c = summary["validation"], summary["baselines"], summary["training_config"], model_config
    nan = float("nan")
    name = Path(t["output_dir"]).name  # the run's name: runs/albert-tiny-shakespeare -> albert-tiny-shakespeare
    if t["corpus"] == "shakespeare":
        documents, language, knows = "plays", "Shakespeare's English", "these plays"
    else:
        documents, language, knows = "documents", "the language of its corpus", "its corpus"
    masking = f"n-gram masking, n <= {t['max_ngram']}" if t["max_ngram"] > 1 else "whole-word masking"
    shared = {
        "all-shared": "all layers shared",
        "shared-attention": "attention shared across layers",
        "shared-FFN": "FFN shared across layers",
        "not-shared": "no layer shared",
    }[c.sharing]
    model = (
        f"E={c.embedding_size}, H={c.hidden_size}, L={c.num_hidden_layers} ({shared}), "
        f"N={c.num_attention_heads}, I={c.intermediate_size}, T<={c.max_position_embeddings}; "
        f"{summary['parameters']:,} parameters"
    )
    training = (
        f"{summary['steps']:,} steps of {summary['batch_size']:,} sequences, {t['optimizer']} lr "
        f"{t['learning_rate']}, {t['warmup_steps']:,} warm-up steps then linear decay to 0; matrix products in "
        f"{summary['precision']}"
    )
    wall = (
        f"{summary['wall_time_seconds']:,.0f} s ({summary['wall_time_seconds'] / 60:.1f} min) for the whole "
        f"command (tokenizer, data, training, evaluations); CPU time {summary['cpu_time_seconds']:,.0f} s"
    )
    mlm = (
        f"| MLM accuracy (top-1, {v.get('predictions', 0):,} predicted pieces) | {v.get('mlm_accuracy', nan):.1%} "
        f'| {b["mlm_unigram_accuracy"]:.1%} (always "{b["unigram_piece"]}", the most frequent piece) |'
    )
    sop = (
        f"| SOP accuracy ({v.get('pairs', 0):,} pairs) | {v.get('sop_accuracy', nan):.1%} | 50.0% (chance); "
        f"{b.get('sop_junction_bigram_accuracy', nan):.1%} (a bigram model reading only the two junctions) |"
    )
    if "nsp_accuracy" in v:  # the same pair head on BERT's next-sentence pairs (the paper's table 5)
        sop += f"\n| NSP accuracy (the same head on next-sentence pairs) | {v['nsp_accuracy']:.1%} | 50.0% (chance) |"
    pair_task = (
        "sentence-order prediction"
        if t.get("objective", "sop") == "sop"
        else "BERT's next-sentence prediction in place of ALBERT's sentence order (to compare the two)"
    )
    single = (
        f"| MLM accuracy, single-word masks instead of n-gram spans (BERT's whole-word masking) "
        f"| {v.get('single_word_mlm_accuracy', nan):.1%} "
        f"| {b.get('single_word_mlm_unigram_accuracy', nan):.1%} (most frequent piece) |"
    )
    notes = []
    if c.position_embedding_type != "absolute":
        notes.append(f"""**Positions.** The model uses `position_embedding_type="{c.position_embedding_type}"`: one
learned vector per distance between two pieces, an option of the reference's ALBERT, instead of the paper's learned
vector per position. At this budget a model with absolute positions stays on the early plateau of pretraining (frequent
pieces and a bag of nearby words, not yet word order); see "Positions" in albert-explained's `docs/results.md`.
transformers 4.x runs it as trained (tests use 4.56.2). transformers 5 removed relative positions from its ALBERT:
it would drop the distance table (with a warning about unused weights) and add the untrained absolute one instead,
so its predictions there would be wrong; use transformers 4.x or this package.""")
    if v.get("sop_accuracy", 1.0) < b.get("sop_junction_bigram_accuracy", 0.5) + 0.05:
        notes.append("""**Sentence order is only beginning to be learned.** SOP accuracy is not clearly above that of
the bigram model that reads only the pieces on either side of the two junctions: this model has not yet learned
much about order beyond where one line runs into the next. Judging order from what two passages say
takes far more than this budget (the paper's ALBERT-base reaches 86.5% SOP accuracy, and 54.0% MLM accuracy, after
125,000 steps of 4,096 sequences of 512 pieces). More steps (`--steps`, or a GPU) are the way there.""")
    notes = "\n" + "\n\n".join(notes) + "\n" if notes else ""
    values = dict(
        name=name,
        language=language,
        knows=knows,
        masking=masking,
        pair_task=pair_task,
        corpus=summary["corpus"],
        num_train_documents=len(summary["train_documents"]),
        documents=documents,
        validation_documents=", ".join(summary["validation_documents"]),
        vocab_size=f"{c.vocab_size:,}",
        model=model,
        training=training,
        wall_time=wall,
        hardware=summary["hardware"],
        torch_version=summary["torch"],
        python_version=summary["python"],
        command=summary["command"] or "(called from Python)",
        mlm_row=mlm,
        sop_row=sop,
        single_word_row=single,
        mlm_loss=f"{v.get('mlm_loss', nan):.3f}",
        sop_loss=f"{v.get('sop_loss', nan):.3f}",
        notes=notes,
    )
    return string.Template(_package_file("card.md")).substitute(values)
