"""Multi-head self-attention, the sub-layer through which tokens exchange information (Vaswani et al., 2017).

For one head with queries Q, keys K and values V (each T x D, rows are tokens):

    Attention(Q, K, V) = softmax( Q K^T / sqrt(D) + M ) V

Score s_ij = q_i . k_j / sqrt(D) says how much token i wants to read from token j; dividing by sqrt(D) keeps the
scores' variance near 1 whatever the head size, so the softmax does not saturate. M is the padding mask as an additive
bias: 0 where token j is real, the most negative float where it is padding, so softmax gives padding a weight of
exactly 0. Each row of softmax(...) is a probability distribution over the T tokens; the output of token i is the
weighted average of the value vectors.

With N heads, H is split into N heads of size D = H / N; each head attends on its own, the N results are
concatenated back to H and mixed by an output matrix W_O. Then, as in BERT (post-LN):

    a = LayerNorm( h + Dropout( W_O concat(head_1 .. head_N) ) )

ALBERT's attention is exactly BERT's; what is new is that one set of these weights serves every depth (`encoder.py`).

Two paths compute the same thing:

- `eager`: written out step by step below, and the only one that can return the attention probabilities
  (B, N, T, T), apply a per-head `head_mask` or add relative position terms.
- `sdpa`: `torch.nn.functional.scaled_dot_product_attention`, PyTorch's fused kernel (flash / memory-efficient
  attention on GPU), used when none of the above is needed. The tests check it against the eager path.

Relative positions (Shaw et al., 2018; Huang et al., 2020), the reference's position_embedding_type variants: a
learned vector r_(i-j) of size D for every distance i - j in [-(P-1), P-1] adds

    relative_key:        s_ij += q_i . r_(i-j)
    relative_key_query:  s_ij += q_i . r_(i-j) + k_j . r_(i-j)

to the scores. The reference's ALBERT adds them after the 1/sqrt(D) scaling and the mask; its BERT adds them
before the scaling. `scale_relative_scores` picks BERT's order for `bert.py`.

Shapes: hidden_states (B, T, H), attention_bias (B, 1, 1, T) -> output (B, T, H), probabilities (B, N, T, T).
"""

import math
from typing import Optional

import torch
from torch import nn

from .config import AlbertConfig


class AlbertAttention(nn.Module):
    def __init__(self, config: AlbertConfig, scale_relative_scores: bool = False):
        super().__init__()
        # The reference's ALBERT adds relative position terms after scaling by 1/sqrt(D); its BERT adds them before.
        self.scale_relative_scores = scale_relative_scores
        self.num_attention_heads = config.num_attention_heads  # N
        self.attention_head_size = config.hidden_size // config.num_attention_heads  # D
        self.query = nn.Linear(config.hidden_size, config.hidden_size)  # W_Q for all heads at once: (H, N*D = H)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)  # W_K
        self.value = nn.Linear(config.hidden_size, config.hidden_size)  # W_V
        self.attention_dropout = nn.Dropout(config.attention_probs_dropout_prob)
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)  # W_O
        self.output_dropout = nn.Dropout(config.hidden_dropout_prob)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

        self.attn_implementation = config.attn_implementation  # "sdpa" or "eager"
        self.position_embedding_type = config.position_embedding_type
        if self.position_embedding_type != "absolute":
            self.max_position_embeddings = config.max_position_embeddings  # P
            # One vector per distance i - j, shifted by P - 1 so the index starts at 0.
            self.distance_embedding = nn.Embedding(2 * config.max_position_embeddings - 1, self.attention_head_size)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, H) -> (B, N, T, D): each head gets its own slice of D features."""
        batch_size, seq_len, _ = x.shape
        x = x.view(batch_size, seq_len, self.num_attention_heads, self.attention_head_size)  # (B, T, N, D)
        return x.transpose(1, 2)  # (B, N, T, D)

    def merge_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, T, D) -> (B, T, H): the heads' outputs side by side again."""
        batch_size, _, seq_len, _ = x.shape
        x = x.transpose(1, 2)  # (B, T, N, D)
        return x.reshape(batch_size, seq_len, self.num_attention_heads * self.attention_head_size)  # (B, T, H)

    def relative_position_scores(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        """The relative position terms added to the scores: (B, N, T, T)."""
        seq_len = q.shape[2]
        positions = torch.arange(seq_len, device=q.device)
        distance = positions.view(-1, 1) - positions.view(1, -1)  # (T, T): i - j
        r = self.distance_embedding(distance + self.max_position_embeddings - 1).to(q.dtype)  # (T, T, D)
        scores = torch.einsum("bnid,ijd->bnij", q, r)  # q_i . r_(i-j): (B, N, T, T)
        if self.position_embedding_type == "relative_key_query":
            scores = scores + torch.einsum("bnjd,ijd->bnij", k, r)  # + k_j . r_(i-j)
        return scores

    def eager_attention(
        self,
        q: torch.Tensor,
        k: torch.Tensor,
        v: torch.Tensor,
        attention_bias: Optional[torch.Tensor],
        head_mask: Optional[torch.Tensor],
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """softmax(q k^T / sqrt(D) + M) v, one step at a time. Returns the context and the probabilities."""
        scores = q @ k.transpose(-1, -2)  # (B, N, T, D) @ (B, N, D, T) -> (B, N, T, T)
        relative = self.relative_position_scores(q, k) if self.position_embedding_type != "absolute" else None
        if relative is not None and self.scale_relative_scores:
            scores = scores + relative  # BERT's order: relative terms are scaled with the rest
        scores = scores / math.sqrt(self.attention_head_size)
        if attention_bias is not None:
            scores = scores + attention_bias  # (B, 1, 1, T) broadcasts over heads and query positions
        if relative is not None and not self.scale_relative_scores:
            scores = scores + relative  # ALBERT's order: added after the mask, unscaled
        probs = scores.softmax(dim=-1)  # each row sums to 1: (B, N, T, T)
        # Dropout on the probabilities drops whole tokens from a query's view (as in the original Transformer).
        probs = self.attention_dropout(probs)
        if head_mask is not None:
            probs = probs * head_mask.view(1, -1, 1, 1)  # (N,) -> (1, N, 1, 1): 0 silences a head
        context = probs @ v  # (B, N, T, T) @ (B, N, T, D) -> (B, N, T, D)
        return context, probs

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_bias: Optional[torch.Tensor] = None,
        head_mask: Optional[torch.Tensor] = None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        # 1. Project the same hidden states three ways and split each projection into N heads.
        q = self.split_heads(self.query(hidden_states))  # (B, T, H) -> (B, N, T, D)
        k = self.split_heads(self.key(hidden_states))  # (B, N, T, D)
        v = self.split_heads(self.value(hidden_states))  # (B, N, T, D)

        # 2. Attend. The fused kernel cannot return probabilities, mask heads or add relative terms.
        fused_ok = not output_attentions and head_mask is None and self.position_embedding_type == "absolute"
        if self.attn_implementation == "sdpa" and fused_ok:
            context = nn.functional.scaled_dot_product_attention(
                q, k, v, attn_mask=attention_bias,
                dropout_p=self.attention_dropout.p if self.training else 0.0,
            )  # (B, N, T, D)
            probs = None
        else:
            context, probs = self.eager_attention(q, k, v, attention_bias, head_mask)  # (B, N, T, D), (B, N, T, T)

        # 3. Concatenate the heads, mix them with W_O, add the residual and normalise (post-LN).
        output = self.dense(self.merge_heads(context))  # (B, N, T, D) -> (B, T, H)
        output = self.LayerNorm(hidden_states + self.output_dropout(output))  # (B, T, H)
        return output, (probs if output_attentions else None)
