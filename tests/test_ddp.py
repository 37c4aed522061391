"""DistributedDataParallel through the package's own entry point: `torchrun --nproc_per_node 2 -m albert_explained
pretrain ...` on the CPU (gloo), for a few steps of a tiny model. The two processes take different batches, DDP
averages their gradients, and so both must end with bit-identical weights; `pretrain` logs both fingerprints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch


@pytest.mark.skipif(not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
                    reason="this torch build has no gloo backend")
def test_two_cpu_processes_stay_in_step(tmp_path, small_corpus_dir):
    output = tmp_path / "run"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "albert_explained", "pretrain", "--output-dir", str(output), "--corpus", str(small_corpus_dir),
               "--vocab-size", "200", "--embedding-size", "16", "--hidden-size", "32", "--num-hidden-layers", "2",
               "--num-attention-heads", "2", "--intermediate-size", "64", "--max-seq-length", "32",
               "--batch-size", "4", "--steps", "4", "--warmup-steps", "1", "--eval-every", "100",
               "--checkpoint-every", "100", "--max-eval-examples", "8", "--device", "cpu", "--num-threads", "1",
               "--no-progress"]
    # torchrun keeps its logs in a fresh directory under TMPDIR and leaves it behind: give it pytest's instead.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TMPDIR": str(tmp_path)}
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]

    records = [json.loads(line) for line in (output / "log.jsonl").read_text().splitlines()]
    steps = [r for r in records if "loss" in r]
    assert [r["step"] for r in steps] == [1, 2, 3, 4]  # written once, by rank 0
    checksums = next(r["replica_checksums"] for r in records if "replica_checksums" in r)
    assert len(checksums) == 2 and checksums[0] == checksums[1]
    card = (output / "model" / "README.md").read_text()
    assert "2 processes (DistributedDataParallel)" in card
    # The card's command starts the same two processes again (--batch-size is per process).
    assert "    torchrun --nproc_per_node 2 -m albert_explained pretrain --output-dir" in card
    assert json.loads((output / "model" / "metrics.json").read_text())["batch_size"] == 8  # 4 per process
    assert Path(output / "checkpoint.pt").is_file()
