"""DistributedDataParallel through the package's own entry point: `torchrun --nproc_per_node 2 -m albert_explained
pretrain ...` and `... finetune TASK ...` on the CPU (gloo), for a few steps of a tiny model. The two processes take
different batches, DDP averages their gradients, and so both must end with bit-identical weights; the shared training
loop logs both fingerprints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch


needs_gloo = pytest.mark.skipif(
    not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
    reason="this torch build has no gloo backend",
)


def run_two_processes(arguments: list[str], tmp_path: Path) -> None:
    """`torchrun --standalone --nproc_per_node 2 -m albert_explained ARGUMENTS`, one thread per process."""
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "albert_explained",
        *arguments,
        "--device",
        "cpu",
        "--num-threads",
        "1",
        "--no-progress",
    ]
    # torchrun keeps its logs in a fresh directory under TMPDIR and leaves it behind: give it pytest's instead.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TMPDIR": str(tmp_path)}
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]


def logged_steps_and_checksums(output: Path) -> tuple[list[int], list[str]]:
    """The steps of the log's training records (one line each means rank 0 alone wrote them) and the two replicas'
    weight fingerprints."""
    records = [json.loads(line) for line in (output / "log.jsonl").read_text().splitlines()]
    steps = [r["step"] for r in records if "loss" in r]
    return steps, next(r["replica_checksums"] for r in records if "replica_checksums" in r)


@needs_gloo
def test_two_cpu_processes_stay_in_step(tmp_path, small_corpus_dir):
    output = tmp_path / "run"
    run_two_processes(
        [
            "pretrain",
            "--output-dir",
            str(output),
            "--corpus",
            str(small_corpus_dir),
            "--vocab-size",
            "200",
            "--embedding-size",
            "16",
            "--hidden-size",
            "32",
            "--num-hidden-layers",
            "2",
            "--num-attention-heads",
            "2",
            "--intermediate-size",
            "64",
            "--max-seq-length",
            "32",
            "--batch-size",
            "4",
            "--steps",
            "4",
            "--warmup-steps",
            "1",
            "--eval-every",
            "100",
            "--checkpoint-every",
            "100",
            "--max-eval-examples",
            "8",
        ],
        tmp_path,
    )
    steps, checksums = logged_steps_and_checksums(output)
    assert steps == [1, 2, 3, 4]
    assert len(checksums) == 2 and checksums[0] == checksums[1]
    card = (output / "model" / "README.md").read_text()
    assert "2 processes (DistributedDataParallel)" in card
    # The card's command starts the same two processes again (--batch-size is per process).
    assert "    torchrun --nproc_per_node 2 -m albert_explained pretrain --output-dir" in card
    assert json.loads((output / "model" / "metrics.json").read_text())["batch_size"] == 8  # 4 per process
    assert Path(output / "checkpoint.pt").is_file()


@needs_gloo
def test_two_cpu_processes_fine_tune_in_step(tmp_path, tiny_model_dir):
    """Fine-tuning runs the same loop: two processes, one log, identical weights, a model directory that
    transformers loads, and metrics that count the batch of both processes."""
    import transformers

    output = tmp_path / "genre"
    run_two_processes(
        [
            "finetune",
            "sequence-classification",
            "--output-dir",
            str(output),
            "--model",
            str(tiny_model_dir),
            "--steps",
            "4",
            "--batch-size",
            "4",
            "--train-size",
            "32",
            "--validation-size",
            "8",
            "--eval-every",
            "2",
            "--checkpoint-every",
            "2",
        ],
        tmp_path,
    )
    steps, checksums = logged_steps_and_checksums(output)
    assert steps == [1, 2, 3, 4]
    assert len(checksums) == 2 and checksums[0] == checksums[1]
    metrics = json.loads((output / "metrics.json").read_text())
    assert metrics["steps"] == 4 and metrics["batch_size"] == 8  # 4 per process
    assert "2 processes" in metrics["hardware"]
    # The recorded command starts the same two processes again, in metrics.json and on the card.
    assert metrics["command"].startswith(
        "torchrun --nproc_per_node 2 -m albert_explained finetune sequence-classification --output-dir"
    )
    assert metrics["command"] in (output / "README.md").read_text()
    assert [evaluation["step"] for evaluation in metrics["evaluations"]] == [2, 4]
    model = transformers.AlbertForSequenceClassification.from_pretrained(output)
    assert model.config.num_labels == 4
