"""Numbers about attention heads: what each head looks at, what it is worth, and what sharing does across depth.
(And one number per layer: how far it moves the hidden state.)

Pictures of attention (plots.py) show one sentence at a time. The analyses here turn attention into numbers
that can be averaged over many sentences, compared between heads and tested. Each is a function that returns
tensors, with a `plot_...` function in plots.py that draws them. `attentions` is always what the model returns with
`output_attentions=True`: a tuple with one (B, N, T, T) tensor per layer application (A = L x inner_group_num of them;
A = L in every published ALBERT), where row i of a head's T x T matrix is the distribution of token i's attention
over the T tokens. Layers and heads are counted from 0, as Python and bertviz index them.

**Entropy** of a row p_i (Clark et al., 2019, "What does BERT look at?"):

    H_i = - sum_j p_ij log p_ij          0 (all attention on one token) .. log T (uniform over T tokens)

averaged over the real (not padding) tokens i of every sentence. Low entropy: a sharp head that picks one token;
high: a head that averages broadly ("bag of words").

**Shares** of attention that a head sends to fixed targets, averaged over real query tokens i:

    [CLS]: sum_j p_ij [token j is [CLS]]      [SEP]: the same for [SEP] (both [SEP]s of a pair)
    self: p_ii      previous: p_i,i-1      next: p_i,i+1

Clark et al. found BERT heads that put more than half of their attention on the previous or next token, and many
that park it on [SEP] when they have nothing to do. `previous` is averaged over the tokens that have a previous
token (all but the first), `next` over those that have a next one, so a perfect previous-token head scores 1.

**Attention rollout** (Abnar and Zuidema, 2020). A layer's output for token i is its attention-weighted mix of the
layer's inputs plus, through the residual connection, token i itself. Rollout models that as the matrix

    A~_a = 0.5 * mean_heads(P_a) + 0.5 * I,   rows renormalised to sum to 1      (P_a: layer a's attention)

and follows information through the layers by multiplying them: R = A~_(A-1) ... A~_1 A~_0 (T x T). R_ij estimates how
much of input token j has reached position i at the top. Forgetting the identity term is the usual bug: without it a
few layers of near-uniform attention wash every row out to the same distribution.

**Head importance** (Michel et al., 2019, "Are sixteen heads really better than one?"). Multiply head h's output by
a gate xi_h (`head_mask`, 1 = on, 0 = off). The importance of a head is how much the loss would move if its gate
moved, to first order:

    I_h = | d loss / d xi_h |   at xi = 1

computed for all heads at once by one backward pass with `head_mask` as a leaf tensor. As in Michel et al., the
scores are then divided by each layer's L2 norm so that layers are comparable. Masking the heads with the lowest
I_h first and watching MLM accuracy tests the claim: many heads can go with little loss.

**ALBERT's view.** With all-shared weights one attention layer runs at every depth: the same W_Q, W_K, W_V for head
h at depth 0 and depth 11. What differs is the input, the hidden states, which change with depth. `depth_divergence`
measures how differently head h attends at depths a and b with the Jensen-Shannon divergence between their rows,

    JS(p, q) = 0.5 KL(p || m) + 0.5 KL(q || m),   m = (p + q) / 2,   0 (same) .. log 2 (disjoint)

averaged over query tokens. In BERT every depth has its own weights, so different behaviour per depth is expected;
in ALBERT it has to come from the input alone. `head_mask` rows are per layer application, so importance is per
(depth, head) too, even though pruning a shared head for real would remove it at every depth.

**How far each layer moves the hidden state** (the paper's figure 1). Not attention but the layer as a whole: for
each layer application i = 1 .. L, between its input h_(i-1) and its output h_i, per real token,

    d_i = || h_i - h_(i-1) ||_2        theta_i = arccos( h_i . h_(i-1) / (||h_i|| ||h_(i-1)||) )   in degrees

averaged over the real tokens of the batch (`layer_transitions`). The paper finds ALBERT's curves smoother than
BERT's and not falling to zero with depth.

Shapes: attentions A x (B, N, T, T); attention_mask (B, T); per-head results (A, N); rollout (B, T, T).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

import torch

from ..checks import IGNORE_INDEX
from ..device import eval_mode
from ..pretraining.data import mask_tokens
from ..tokenizer import CLS_ID, MASK_ID, PAD_ID, SEP_ID, UNK_ID

Attentions = Union[Sequence[torch.Tensor], torch.Tensor]
Batch = Mapping[str, torch.Tensor]

SHARE_NAMES = ("[CLS]", "[SEP]", "self", "previous", "next")


def stack_attentions(attentions: Attentions) -> torch.Tensor:
    """The model's tuple of A tensors (B, N, T, T) -> one tensor (A, B, N, T, T), detached, float32, on the CPU."""
    if isinstance(attentions, torch.Tensor):
        stacked = attentions
    else:
        attentions = list(attentions)
        if not attentions or any(a is None for a in attentions):
            raise ValueError("attentions is empty or holds None: run the model with output_attentions=True")
        stacked = torch.stack(list(attentions))  # A x (B, N, T, T) -> (A, B, N, T, T)
    if stacked.dim() != 5 or stacked.shape[-1] != stacked.shape[-2]:
        raise ValueError(
            f"attentions must be a tuple of (batch, heads, tokens, tokens) tensors or one tensor "
            f"(layers, batch, heads, tokens, tokens), got shape {tuple(stacked.shape)}"
        )
    return stacked.detach().float().cpu()


def _query_weights(attention_mask: Optional[torch.Tensor], batch: int, seq_len: int) -> torch.Tensor:
    """(B, T) weights of the query tokens that count: 1 for real tokens, 0 for padding."""
    if attention_mask is None:
        return torch.ones(batch, seq_len)
    if tuple(attention_mask.shape) != (batch, seq_len):
        raise ValueError(
            f"attention_mask must have shape (batch, tokens) = {(batch, seq_len)}, got {tuple(attention_mask.shape)}"
        )
    return attention_mask.detach().float().cpu()


def _mean_over_queries(values: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """values (A, B, N, T) per query token, weights (B, T) -> weighted mean over batch and queries: (A, N)."""
    w = weights[None, :, None, :]  # (1, B, 1, T)
    return (values * w).sum(dim=(1, 3)) / w.sum(dim=(1, 3)).clamp(min=1e-12)  # (A, N)


def attention_entropy(attentions: Attentions, attention_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Mean entropy (in nats) of each head's attention rows, over real query tokens: (A, N).

    Uniform attention over t real tokens gives log t; attention on a single token gives 0.
    """
    p = stack_attentions(attentions)  # (A, B, N, T, T)
    # 0 log 0 = 0: xlogy returns 0 where p = 0 (padding columns, exactly-zero weights).
    row_entropy = -torch.special.xlogy(p, p).sum(dim=-1)  # (A, B, N, T)
    weights = _query_weights(attention_mask, p.shape[1], p.shape[-1])  # (B, T)
    return _mean_over_queries(row_entropy, weights)  # (A, N)


def attention_shares(
    attentions: Attentions,
    input_ids: torch.Tensor,
    attention_mask: Optional[torch.Tensor] = None,
    cls_id: int = CLS_ID,
    sep_id: int = SEP_ID,
) -> dict[str, torch.Tensor]:
    """The share of attention each head gives to [CLS], [SEP], the token itself, the previous and the next token.

    Returns {name: (A, N)} for the names in SHARE_NAMES, each a mean over real query tokens (for `previous`, those
    with a previous token; for `next`, those with a next real token).
    """
    p = stack_attentions(attentions)  # (A, B, N, T, T)
    batch, seq_len = p.shape[1], p.shape[-1]
    input_ids = input_ids.detach().cpu()
    if tuple(input_ids.shape) != (batch, seq_len):
        raise ValueError(
            f"input_ids must have shape (batch, tokens) = {(batch, seq_len)}, got {tuple(input_ids.shape)}"
        )
    real = _query_weights(attention_mask, batch, seq_len)  # (B, T)

    is_cls = (input_ids == cls_id).float()[None, :, None, None, :]  # key j is [CLS]: (1, B, 1, 1, T)
    is_sep = (input_ids == sep_id).float()[None, :, None, None, :]
    to_cls = (p * is_cls).sum(-1)  # (A, B, N, T): per query token i
    to_sep = (p * is_sep).sum(-1)
    to_self = p.diagonal(dim1=-2, dim2=-1)  # p_ii: (A, B, N, T)
    # p_i,i-1 sits on the diagonal below the main one; pad it at i = 0, which has no previous token.
    to_previous = torch.nn.functional.pad(p.diagonal(offset=-1, dim1=-2, dim2=-1), (1, 0))  # (A, B, N, T)
    to_next = torch.nn.functional.pad(p.diagonal(offset=1, dim1=-2, dim2=-1), (0, 1))  # p_i,i+1; none at i = T-1

    has_previous = real.clone()
    has_previous[:, 0] = 0  # the first token has no previous token
    has_next = torch.zeros_like(real)
    has_next[:, :-1] = real[:, :-1] * real[:, 1:]  # token i+1 exists and is not padding
    return {
        "[CLS]": _mean_over_queries(to_cls, real),
        "[SEP]": _mean_over_queries(to_sep, real),
        "self": _mean_over_queries(to_self, real),
        "previous": _mean_over_queries(to_previous, has_previous),
        "next": _mean_over_queries(to_next, has_next),
    }


def attention_rollout(attentions: Attentions, residual_weight: float = 0.5, all_layers: bool = False) -> torch.Tensor:
    """Attention rollout (Abnar and Zuidema, 2020): (B, T, T), or (A, B, T, T) after each layer if all_layers.

    Row i of the result says how much of each input token has flowed into position i through the layers.
    """
    p = stack_attentions(attentions)  # (A, B, N, T, T)
    if not 0.0 <= residual_weight <= 1.0:
        raise ValueError(f"residual_weight must be in [0, 1], got {residual_weight}")
    seq_len = p.shape[-1]
    identity = torch.eye(seq_len)  # (T, T)
    rollout = identity.expand(p.shape[1], seq_len, seq_len)  # before any layer, each token is only itself
    steps = []
    for layer in p:  # (B, N, T, T)
        a = layer.mean(dim=1)  # fuse the heads: (B, T, T)
        a = (1 - residual_weight) * a + residual_weight * identity  # the residual connection keeps token i
        a = a / a.sum(dim=-1, keepdim=True)  # rows sum to 1 again
        rollout = a @ rollout  # (B, T, T) @ (B, T, T): this layer mixes what the layers below mixed
        steps.append(rollout)
    return torch.stack(steps) if all_layers else rollout  # (A, B, T, T) or (B, T, T)


def depth_divergence(attentions: Attentions, attention_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Jensen-Shannon divergence (nats) between the same head's attention at every pair of depths: (N, A, A).

    Entry [h, a, b] is the mean over real query tokens (and sentences) of JS(row at depth a, row at depth b) for
    head h. The diagonal is 0; log 2 = 0.693 means the two depths attend to disjoint tokens.
    """
    p = stack_attentions(attentions)  # (A, B, N, T, T)
    weights = _query_weights(attention_mask, p.shape[1], p.shape[-1])[None, :, None, :]  # (1, B, 1, T)

    def kl(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        # KL(x || m) = sum_j x_j log(x_j / m_j), with 0 log 0 = 0 (xlogy): over the last axis.
        return (torch.special.xlogy(x, x) - torch.special.xlogy(x, m)).sum(-1)

    divergence = torch.empty(p.shape[0], p.shape[0], p.shape[2])  # (A, A, N)
    for a, pa in enumerate(p):  # one depth against all depths at a time keeps memory at the size of p
        m = (pa + p) / 2  # (B, N, T, T) + (A, B, N, T, T) -> (A, B, N, T, T)
        js = 0.5 * kl(pa.expand_as(p), m) + 0.5 * kl(p, m)  # per query token: (A, B, N, T)
        divergence[a] = (js * weights).sum(dim=(1, 3)) / weights.sum(dim=(1, 3)).clamp(min=1e-12)  # (A, N)
    return divergence.permute(2, 0, 1)  # (N, A, A)


def _as_batches(batches: Union[Batch, Iterable[Batch]]) -> list[Batch]:
    return [batches] if isinstance(batches, Mapping) else list(batches)


def _model_shape(model: torch.nn.Module) -> tuple[int, int]:
    """(A, N): layer applications and heads of an ALBERT model."""
    config = model.config
    return config.num_layer_applications, config.num_attention_heads


def _forward_inputs(batch: Batch, device: torch.device) -> dict[str, Any]:
    keys = ("input_ids", "attention_mask", "token_type_ids", "labels")
    return {key: batch[key].to(device) for key in keys if key in batch and batch[key] is not None}


def head_importance(
    model: torch.nn.Module, batches: Union[Batch, Iterable[Batch]], normalize_layers: bool = True
) -> torch.Tensor:
    """Michel et al.'s head importance |d loss / d head_mask|, summed over batches: (A, N).

    model: an AlbertForMaskedLM (or any model whose forward takes head_mask and labels and returns .loss).
    batches: one dict or an iterable of dicts with input_ids, attention_mask, token_type_ids and labels (-100 where
    no prediction is made). normalize_layers divides each layer's scores by their L2 norm, as Michel et al. do.

    The absolute value is taken per batch, as transformers' bertology script does; Michel et al. average
    |d loss(x) / d xi| over single examples x, which is what batches of one example give.
    """
    num_applications, num_heads = _model_shape(model)
    device = next(model.parameters()).device
    importance = torch.zeros(num_applications, num_heads)
    with eval_mode(model):  # dropout off: the gradient should measure the head, not the noise
        for batch in _as_batches(batches):
            if batch.get("labels") is None:
                raise ValueError(
                    "head_importance needs a loss: give each batch 'labels' (the masked tokens' ids, -100 elsewhere)"
                )
            gates = torch.ones(num_applications, num_heads, device=device, requires_grad=True)  # xi = 1: all on
            loss = model(**_forward_inputs(batch, device), head_mask=gates).loss
            (grad,) = torch.autograd.grad(loss, gates)  # d loss / d xi: (A, N)
            importance += grad.abs().cpu()
    if normalize_layers:
        importance = importance / importance.norm(dim=1, keepdim=True).clamp(min=1e-20)  # each row: L2 norm 1
    return importance


@torch.no_grad()
def mlm_accuracy(
    model: torch.nn.Module, batches: Union[Batch, Iterable[Batch]], head_mask: Optional[torch.Tensor] = None
) -> float:
    """Fraction of masked positions (labels != -100) where the top-scoring piece is the right one."""
    device = next(model.parameters()).device
    correct = total = 0
    with eval_mode(model):
        for batch in _as_batches(batches):
            inputs = _forward_inputs(batch, device)
            labels = inputs.pop("labels")
            mask = None if head_mask is None else head_mask.to(device)
            scored = labels != IGNORE_INDEX  # (B, T)
            if hasattr(model, "albert") and hasattr(model, "predictions"):
                # Only the masked positions need the V-way output layer, by far the largest matrix product here.
                hidden = model.albert(**inputs, head_mask=mask).last_hidden_state  # (B, T, H)
                logits = model.predictions(hidden[scored])  # (number masked, V)
            else:
                logits = model(**inputs, head_mask=mask).logits[scored]  # (B, T, V) -> (number masked, V)
            correct += (logits.argmax(-1) == labels[scored]).sum().item()
            total += scored.sum().item()
    if total == 0:
        raise ValueError("no position has a label: mask some tokens (labels != -100) before measuring accuracy")
    return correct / total


def least_important_mask(importance: torch.Tensor, num_masked: int) -> torch.Tensor:
    """A head_mask (A, N) of ones with zeros on the num_masked heads of lowest importance."""
    if not 0 <= num_masked <= importance.numel():
        raise ValueError(
            f"num_masked must be between 0 and the number of heads ({importance.numel()}), got {num_masked}"
        )
    mask = torch.ones(importance.numel())
    mask[importance.flatten().argsort()[:num_masked]] = 0.0  # lowest scores first
    return mask.view_as(importance)  # (A, N)


@dataclass
class MaskingCurve:
    """MLM accuracy as more and more heads are masked, least important first, against random choices."""

    num_masked: list[int]
    accuracy: list[float]
    random_accuracy: list[float] = field(default_factory=list)  # mean over random orders
    total_heads: int = 0

    def rows(self) -> list[tuple[int, float, Optional[float]]]:
        """(heads masked, accuracy, random-heads accuracy or None) for each point."""
        randoms = self.random_accuracy or [None] * len(self.num_masked)
        return list(zip(self.num_masked, self.accuracy, randoms, strict=True))


def masking_curve(
    model: torch.nn.Module,
    batches: Union[Batch, Iterable[Batch]],
    importance: torch.Tensor,
    fractions: Sequence[float] = (0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0),
    random_orders: int = 3,
    seed: int = 0,
) -> MaskingCurve:
    """Mask the least important fraction f of all A x N heads, for each f, and measure MLM accuracy.

    The baseline masks the same number of heads chosen at random (mean over `random_orders` orders), so the curve
    shows whether the importance scores know something.
    """
    batches = _as_batches(batches)
    total = importance.numel()
    counts = sorted({round(f * total) for f in fractions})
    generator = torch.Generator().manual_seed(seed)
    orders = [torch.randperm(total, generator=generator) for _ in range(random_orders)]
    measured: dict[tuple[float, ...], float] = {}

    def accuracy_with(mask: torch.Tensor) -> float:
        # Orders often give the same mask (always with no head or every head masked): measure each mask once.
        key = tuple(mask.flatten().tolist())
        if key not in measured:
            measured[key] = mlm_accuracy(model, batches, mask.view_as(importance))
        return measured[key]

    accuracy, random_accuracy = [], []
    for k in counts:
        accuracy.append(accuracy_with(least_important_mask(importance, k)))
        if orders:
            scores = []
            for order in orders:
                mask = torch.ones(total)
                mask[order[:k]] = 0.0
                scores.append(accuracy_with(mask))
            random_accuracy.append(sum(scores) / len(scores))
    return MaskingCurve(counts, accuracy, random_accuracy, total)


def mask_tokens_for_mlm(
    input_ids: torch.Tensor,
    attention_mask: Optional[torch.Tensor] = None,
    fraction: float = 0.15,
    seed: int = 0,
    mask_id: int = MASK_ID,
    special_ids: Sequence[int] = (PAD_ID, UNK_ID, CLS_ID, SEP_ID, MASK_ID),
) -> dict[str, torch.Tensor]:
    """A simple MLM evaluation batch: replace `fraction` of the real tokens by [MASK] (never special ones or <unk>).

    Returns input_ids (masked) and labels (the original id at masked positions, -100 elsewhere), both (B, T). At
    least one token is masked in every sentence that has a real token that is not special. The positions are single
    pieces drawn at random, not pretraining's whole-word spans, and they go through pretraining's masker
    (`pretraining.data.mask_tokens`) without its random replacements: for measuring accuracy plain [MASK] is the
    clear test.
    """
    generator = torch.Generator().manual_seed(seed)  # on the CPU, so a seed picks the same tokens on every device
    real = torch.ones_like(input_ids, dtype=torch.bool) if attention_mask is None else attention_mask.bool()
    candidates = real & ~torch.isin(input_ids, torch.tensor(list(special_ids), device=input_ids.device))  # (B, T)
    scores = torch.rand(input_ids.shape, generator=generator).to(input_ids.device)
    scores = scores.masked_fill(~candidates, 2.0)  # 2: never chosen
    per_row = (candidates.sum(-1).float() * fraction).round().clamp(min=1).long()  # (B,)
    ranks = scores.argsort(-1).argsort(-1)  # rank of each position's score in its row: (B, T)
    chosen = candidates & (ranks < per_row[:, None])  # (B, T)
    masked, labels = [], []
    for row, row_chosen in zip(input_ids.tolist(), chosen.tolist(), strict=True):
        row_masked, row_labels = mask_tokens(row, [t for t, picked in enumerate(row_chosen) if picked], mask_id)
        masked.append(row_masked)
        labels.append(row_labels)
    as_tensor = dict(dtype=input_ids.dtype, device=input_ids.device)
    masked = torch.tensor(masked, **as_tensor).reshape(input_ids.shape)  # (B, T), (0, T) included
    return {"input_ids": masked, "labels": torch.tensor(labels, **as_tensor).reshape(input_ids.shape)}


@torch.inference_mode()
def layer_transitions(
    model: torch.nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor
) -> tuple[list[float], list[float]]:
    """The paper's figure 1 for one batch: per layer i = 1 .. L, the mean L2 distance d_i and the mean angle theta_i
    (degrees) between the layer's input h_(i-1) and its output h_i, over the real tokens. Returns (distances,
    angles), L values each. `model` is an AlbertModel or a BertModel (anything that returns hidden_states)."""
    with eval_mode(model):
        hidden = model(input_ids, attention_mask=attention_mask, output_hidden_states=True).hidden_states  # L + 1
    real = attention_mask.bool()  # (B, T)
    distances, angles = [], []
    for h_in, h_out in zip(hidden[:-1], hidden[1:], strict=True):  # (B, T, H) each
        distances.append((h_out - h_in).norm(dim=-1)[real].mean().item())
        cosine = torch.nn.functional.cosine_similarity(h_in, h_out, dim=-1)[real].clamp(-1, 1)  # (real tokens,)
        angles.append(torch.rad2deg(torch.arccos(cosine)).mean().item())
    return distances, angles
