"""One place that decides where tensors live: the GPU when PyTorch sees one, the CPU otherwise.

Every notebook and the training loop call `get_device()`, so the same code runs on a laptop and on a CUDA machine.
"""

import torch


def get_device() -> torch.device:
    """CUDA device 0 when available, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
