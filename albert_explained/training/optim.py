"""The optimiser and the learning-rate schedule of ALBERT's pretraining: LAMB, warm-up, then linear decay.

**LAMB** (You et al., 2020, "Large Batch Optimization for Deep Learning") is the optimiser the paper uses (section
4.1: batch 4096, learning rate 0.00176, 125,000 steps). It is Adam with one change: each weight matrix's step is
rescaled so that its size is proportional to the size of the weights themselves. For one parameter tensor w with
gradient g at step t:

    m_t = b1 m_(t-1) + (1 - b1) g                         first moment (momentum)
    v_t = b2 v_(t-1) + (1 - b2) g^2                       second moment, elementwise
    u_t = m_t / (sqrt(v_t) + eps) + lambda w              Adam's direction plus decoupled weight decay
    r_t = ||w|| / ||u_t||                                 the trust ratio (1 when either norm is 0)
    w  <- w - lr * r_t * u_t

So every tensor moves by lr * ||w|| (in norm) whatever the scale of its gradients. With very large batches, Adam's
steps can be far too big for some layers and too small for others; LAMB makes the learning rate mean "this fraction
of the layer's size", the same for every layer, which is what lets BERT and ALBERT train with batches of thousands.

Biases and LayerNorm parameters get neither weight decay nor the trust ratio (Google's `exclude_from_weight_decay`
and `exclude_from_layer_adaptation`: "LayerNorm", "layer_norm", "bias"), so for them LAMB is plain Adam.
Google's LAMB also skips Adam's bias correction (dividing m and v by 1 - b^t); the LAMB paper has it, and so do we
by default (`bias_correction=True`), since it matters in the short runs a laptop can afford.

Because the trust ratio ties the step to ||w||, LAMB's learning rate is not Adam's: lr = 0.01 moves each matrix
by 0.01 ||w|| per step, while AdamW with lr = 0.01 moves every *element* by about 0.01.

**Schedule** (`warmup_linear_decay`). Counting steps from 0, step k of the warm-up gets (k + 1) / warmup of the peak
learning rate, so the first step already learns a little and the last warm-up step reaches the peak. From there the
rate falls in a straight line that reaches 0 at step `total_steps`, one past the last step taken. Warm-up keeps the
first, large and noisy updates from wrecking a freshly initialised model; the decay lets it settle at the end. This
is the shape of transformers' `get_linear_schedule_with_warmup` (whose first step has a rate of 0). Google's
`optimization.py` draws its straight line down from step 0 instead, lr (1 - step / total) (`polynomial_decay` with
`poly_power = 1.0`), and lets the warm-up ramp override its start, so its rate drops by a fraction warmup / total as
the warm-up ends (docs/results.md gives that fraction for the bundled model's run).

`AdamW` is PyTorch's own (`torch.optim.AdamW`); `make_optimizer` builds either with the same parameter groups.
"""

from __future__ import annotations

from typing import Iterable

import torch
from torch import nn

# Parameters whose name contains one of these get no weight decay and no trust ratio (Google's lists).
NO_DECAY_NAMES = ("LayerNorm", "layer_norm", "bias")


class Lamb(torch.optim.Optimizer):
    """LAMB, written out for reading. Param groups may set `adapt=False` to switch the trust ratio off."""

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-6,
        weight_decay: float = 0.01,
        bias_correction: bool = True,
    ):
        if lr < 0:
            raise ValueError(f"lr must be non-negative, got {lr}")
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"betas must be in [0, 1), got {betas}")
        if eps <= 0:
            raise ValueError(f"eps must be positive, got {eps}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be non-negative, got {weight_decay}")
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, bias_correction=bias_correction, adapt=True
        )
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for w in group["params"]:
                if w.grad is None:
                    continue
                g = w.grad
                state = self.state[w]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(w)  # m
                    state["exp_avg_sq"] = torch.zeros_like(w)  # v
                state["step"] += 1
                m, v = state["exp_avg"], state["exp_avg_sq"]
                m.mul_(beta1).add_(g, alpha=1 - beta1)  # m_t = b1 m + (1 - b1) g
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)  # v_t = b2 v + (1 - b2) g^2
                if group["bias_correction"]:
                    m_hat = m / (1 - beta1 ** state["step"])
                    v_hat = v / (1 - beta2 ** state["step"])
                else:
                    m_hat, v_hat = m, v
                update = m_hat / (v_hat.sqrt() + group["eps"])  # Adam's direction, same shape as w
                if group["weight_decay"] > 0:
                    update = update + group["weight_decay"] * w  # decoupled weight decay, inside the ratio
                ratio = 1.0
                if group["adapt"]:
                    w_norm, u_norm = w.norm(), update.norm()
                    # ||w|| / ||u||, but 1 when either is zero (a zero-initialised tensor must still move).
                    ratio = torch.where((w_norm > 0) & (u_norm > 0), w_norm / u_norm, torch.ones_like(w_norm))
                w.sub_(group["lr"] * ratio * update)
        return loss


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two groups: weight matrices (decayed, trust ratio on) and biases / LayerNorms (neither). Tied tensors (the
    MLM decoder is the word-embedding matrix) are listed once, as `model.named_parameters()` does."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        (no_decay if any(n in name for n in NO_DECAY_NAMES) else decay).append(param)
    return [
        dict(params=decay, weight_decay=weight_decay, adapt=True),
        dict(params=no_decay, weight_decay=0.0, adapt=False),
    ]


def make_optimizer(
    model: nn.Module,
    name: str = "lamb",
    lr: float = 1e-2,
    weight_decay: float = 0.01,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-6,
) -> torch.optim.Optimizer:
    """LAMB (the paper's) or AdamW (PyTorch's), both with the decay / no-decay split above."""
    groups = parameter_groups(model, weight_decay)
    if name == "lamb":
        return Lamb(groups, lr=lr, betas=betas, eps=eps)
    if name == "adamw":
        for group in groups:
            group.pop("adapt")
        return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps)
    raise ValueError(f"optimizer must be 'lamb' or 'adamw', got {name!r}")


def warmup_linear_decay(step: int, warmup_steps: int, total_steps: int) -> float:
    """The learning-rate multiplier at `step` (counted from 0): (step + 1) / warmup_steps during the warm-up, then
    (total_steps - step) / (total_steps - warmup_steps), a straight line from 1 at the end of the warm-up to 0 at
    `total_steps`."""
    if total_steps < 1:
        raise ValueError(f"total_steps must be a positive integer, got {total_steps}")
    if not 0 <= warmup_steps <= total_steps:
        raise ValueError(f"warmup_steps must be between 0 and total_steps ({total_steps}), got {warmup_steps}")
    if step < warmup_steps:
        return (step + 1) / warmup_steps  # +1: the first step already learns a little
    return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))


def make_scheduler(
    optimizer: torch.optim.Optimizer, warmup_steps: int, total_steps: int
) -> torch.optim.lr_scheduler.LambdaLR:
    warmup_linear_decay(0, warmup_steps, total_steps)  # validate the arguments now, not at the first step
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: warmup_linear_decay(step, warmup_steps, total_steps)
    )
