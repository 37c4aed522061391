"""Data-parallel training under torchrun: one process per device, gradients averaged, weights identical.

The device is the GPU when PyTorch sees one (with bfloat16 autocast), else the
CPU, in fp32 (`--precision bf16` asks for bf16 there too, faster on chips with bf16 instructions: see `autocast`).
Started under `torchrun`, the same entry point runs DistributedDataParallel: one process per device (gloo on CPU,
nccl on GPU), each taking every world_size-th batch of the epoch; DDP averages the gradients, so all processes hold
the same weights after every step. Rank 0 alone evaluates, writes checkpoints and exports.

    torchrun --nproc_per_node 2 -m albert_explained pretrain --output-dir runs/ddp --steps 100
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any, Optional, Sequence

import torch
from torch import nn

from ..device import get_device


@dataclass
class Distributed:
    """Where this process stands in a torchrun job (rank 0 of 1 when run plainly)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    def barrier(self) -> None:
        if self.enabled:
            torch.distributed.barrier()

    def shard(self, batches: Sequence[Any]) -> list[Any]:
        """This process's batches of an epoch: batches rank, rank + W, rank + 2W ... of the W processes, so that
        together they take each batch once. The last len % W are dropped: every process takes the same number of
        steps (DDP's gradient averaging waits for all of them)."""
        return list(batches[: len(batches) - len(batches) % self.world_size][self.rank :: self.world_size])

    def gather(self, value: Any) -> list[Any]:
        """One picklable value from every process, in rank order."""
        if not self.enabled:
            return [value]
        values: list[Any] = [None] * self.world_size
        torch.distributed.all_gather_object(values, value)
        return values

    def mean(self, value: float, device: torch.device) -> float:
        """The average of a number over all processes (for logging one loss per step)."""
        if not self.enabled:
            return value
        tensor = torch.tensor([value], dtype=torch.float64, device=device)
        torch.distributed.all_reduce(tensor)
        return tensor.item() / self.world_size


def rank_from_environment() -> int:
    """This process's rank, from torchrun's RANK (0 when run plainly), readable before the process group starts."""
    return int(os.environ.get("RANK", "0"))


def setup_distributed(device_name: Optional[str]) -> tuple[Distributed, torch.device]:
    """Read torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK); start the process group when there are several
    processes: nccl between GPUs, gloo between CPU processes."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    dist = Distributed(
        rank=rank_from_environment(), world_size=world_size, local_rank=int(os.environ.get("LOCAL_RANK", "0"))
    )
    device = torch.device(device_name) if device_name else get_device()
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", dist.local_rank)
    if dist.enabled and not torch.distributed.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        torch.distributed.init_process_group(backend=backend)
    return dist, device


def parameter_checksum(model: nn.Module) -> str:
    """A fingerprint of the weights (SHA-256 of their bytes): equal on two processes only if every bit is."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().numpy().tobytes())
    return digest.hexdigest()[:16]
