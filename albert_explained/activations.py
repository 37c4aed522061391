"""The activation functions an ALBERT config can name in `hidden_act`.

The FFN of every layer and the MLM head apply `hidden_act`. Two GELUs are in use, and the difference matters for
matching published checkpoints number for number:

- "gelu": the exact form, GELU(x) = x * Phi(x) = 0.5 x (1 + erf(x / sqrt(2))), with Phi the standard normal CDF.
- "gelu_new": the tanh approximation that Google's BERT and ALBERT code computes (and calls "gelu"):
  0.5 x (1 + tanh( sqrt(2/pi) (x + 0.044715 x^3) )). ALBERT v2 checkpoints use it.

The two differ by at most about 1e-3, enough to fail a 1e-5 parity test. "relu" and "silu" (x * sigmoid(x)) complete
the set the reference accepts for ALBERT.
"""

import math

import torch
from torch import nn


class NewGELU(nn.Module):
    """GELU's tanh approximation (Hendrycks & Gimpel, 2016), the one Google's TensorFlow ALBERT uses."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


# Each entry builds a fresh module; they hold no parameters.
ACTIVATIONS = {
    "gelu": nn.GELU,
    "gelu_new": NewGELU,
    "relu": nn.ReLU,
    "silu": nn.SiLU,
}


def get_activation(name: str) -> nn.Module:
    """The activation module for a config's `hidden_act` (validated by the config)."""
    return ACTIVATIONS[name]()
