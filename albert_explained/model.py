"""ALBERT in one sitting: the whole model, in the order data flows through it (Lan et al., 2020, arXiv 1909.11942).

    1. embeddings    ids (B, T) -> x = LayerNorm(W_word[id] + W_pos[t] + W_type[segment])   (B, T, E)   notebook 03
    2. attention     a  = LayerNorm(h + W_O MultiHead(h))                                     (B, T, H)   notebook 04
    3. layer         h' = LayerNorm(a + W_2 act(W_1 a + b_1) + b_2)                           (B, T, H)   notebook 05
    4. encoder       h_0 = W_proj x + b (E -> H), then h_i = Layer_g(i)(h_(i-1)) for i = 1 .. L,
                     with only G sets of layer weights (cross-layer sharing)                  (B, T, H)   notebook 05
    5. AlbertModel   last_hidden_state h_L (B, T, H) and pooled = tanh(W_pool h_L[:, 0] + b) (B, H)    notebook 01
    6. heads         MLM (B, T, V) + SOP (B, 2), the pretraining heads                        notebook 08

ALBERT's three changes to BERT (paper, section 3.1) are the factorized embedding (sections 1, 4 and 6), cross-layer
parameter sharing (section 4) and sentence-order prediction (section 6). Attention, the feed-forward network and
post-LayerNorm are BERT's; `bert.py` builds BERT from these same modules, and `task_heads.py` puts the four
fine-tuning heads on `AlbertModel`. Every module keeps the reference's (transformers') names, which are the
state-dict keys of the published checkpoints. Inputs and labels are checked in `checks.py` before any computation,
so that a mistake gives an error naming the argument.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import torch
from torch import nn

from . import checks
from .config import AlbertConfig
from .weights import AlbertPreTrainedModel

# ================================================================================================================
# 1. Embeddings: ids -> vectors of size E
# ================================================================================================================
#
#     x_t = LayerNorm( W_word[id_t] + W_pos[t] + W_type[segment_t] )        x: (B, T, E)
#
# W_word (V x E) has a row per vocabulary piece, W_pos (P x E) one per absolute position 0 .. P-1 (so inputs are
# padded on the right), W_type (2 x E) one per segment of a pair. With relative positions (position_embedding_type
# "relative_key" or "relative_key_query") positions enter inside attention instead, and W_pos is left out of the sum
# (it is kept, as in the reference, so that checkpoints load).
#
# The factorized embedding (paper, section 3.1). BERT embeds into the hidden size H, so its vocabulary alone costs
# V x H = 30000 x 768 = 23M parameters. ALBERT embeds into a small E = 128 and works with E x H matrices at both ends:
# the encoder projects E -> H once (`embedding_hidden_mapping_in`, section 4) and the MLM head maps H -> E before
# scoring pieces with the same V x E table (section 6): V x E + E x H = 3.9M. Embeddings are context-free, one vector
# per piece; only hidden states, which carry context, need the large size.


class AlbertEmbeddings(nn.Module):
    def __init__(self, config: AlbertConfig, embedding_size: Optional[int] = None):
        super().__init__()
        # BERT reuses this block with E = H; ALBERT passes nothing and gets config.embedding_size.
        size = embedding_size or config.embedding_size
        self.word_embeddings = nn.Embedding(config.vocab_size, size, padding_idx=config.pad_token_id)  # V x E
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, size)  # P x E
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, size)  # 2 x E
        # Capitalised "LayerNorm", as in Google's checkpoints and the reference: these names are state-dict keys.
        self.LayerNorm = nn.LayerNorm(size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.use_absolute_positions = config.position_embedding_type == "absolute"

    def forward(
        self,
        input_ids: Optional[torch.Tensor] = None,
        token_type_ids: Optional[torch.Tensor] = None,
        position_ids: Optional[torch.Tensor] = None,
        inputs_embeds: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        if inputs_embeds is None:
            inputs_embeds = self.word_embeddings(input_ids)  # (B, T) -> (B, T, E)
        else:
            checks.check_embeds_dtype(inputs_embeds, self.word_embeddings.weight.dtype)
        batch_size, seq_len, _ = inputs_embeds.shape
        if token_type_ids is None:
            # A single sentence: everything is segment A.
            token_type_ids = torch.zeros(batch_size, seq_len, dtype=torch.long, device=inputs_embeds.device)

        embeddings = inputs_embeds + self.token_type_embeddings(token_type_ids)  # (B, T, E)
        if self.use_absolute_positions:
            if position_ids is None:
                position_ids = torch.arange(seq_len, device=inputs_embeds.device).unsqueeze(0)  # (1, T)
            embeddings = embeddings + self.position_embeddings(position_ids)  # (1 or B, T, E) broadcasts
        return self.dropout(self.LayerNorm(embeddings))  # (B, T, E)


# ================================================================================================================
# 2. Multi-head self-attention, the sub-layer through which tokens exchange information (Vaswani et al., 2017)
# ================================================================================================================
#
# For one head with queries Q, keys K and values V (each T x D, one row per token):
#
#     Attention(Q, K, V) = softmax( Q K^T / sqrt(D) + M ) V
#
# Score s_ij = q_i . k_j / sqrt(D) says how much token i wants to read from token j; dividing by sqrt(D) keeps the
# scores' variance near 1 whatever the head size, so the softmax does not saturate. M, the padding mask as an additive
# bias (0 for a real token j, the most negative float for padding), gives padding a weight of exactly 0. Each row of
# softmax(...) is a distribution over the T tokens; token i's output is the weighted average of the values. H is
# split into N heads of size D = H / N, each attends on its own, and their results, concatenated back to H, are mixed
# by W_O. Then, as in BERT (post-LN):
#
#     a = LayerNorm( h + Dropout( W_O concat(head_1 .. head_N) ) )
#
# ALBERT's attention is BERT's; what is new is that one set of these weights serves every depth (section 4).
# Two paths compute the same thing, and tests/test_parity.py holds them equal: `eager_attention`, written out step by
# step, the only one that can return the probabilities (B, N, T, T), apply a per-head `head_mask` or add relative
# position terms; and PyTorch's fused `scaled_dot_product_attention` ("sdpa": flash / memory-efficient kernels on a
# GPU), used when none of those is needed.
#
# Relative positions (Shaw et al., 2018), the reference's position_embedding_type variants: a learned vector r_(i-j)
# of size D for every distance i - j in [-(P-1), P-1] adds q_i . r_(i-j) ("relative_key"), or also k_j . r_(i-j)
# ("relative_key_query"), to s_ij. The reference's ALBERT adds them after the 1/sqrt(D) scaling and the mask, its
# BERT before the scaling; `scale_relative_scores` picks BERT's order for `bert.py`.


class AlbertAttention(nn.Module):
    def __init__(self, config: AlbertConfig, scale_relative_scores: bool = False):
        super().__init__()
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
        x = x.unflatten(-1, (self.num_attention_heads, self.attention_head_size))  # (B, T, N, D)
        return x.transpose(1, 2)  # (B, N, T, D)

    def merge_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, T, D) -> (B, T, H): the heads' outputs side by side again."""
        return x.transpose(1, 2).flatten(2)  # (B, T, N, D) -> (B, T, H), one copy

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
            dropout_p = self.attention_dropout.p if self.training else 0.0
            context, probs = nn.functional.scaled_dot_product_attention(q, k, v, attention_bias, dropout_p), None
        else:
            context, probs = self.eager_attention(q, k, v, attention_bias, head_mask)  # (B, N, T, D), (B, N, T, T)

        # 3. Concatenate the heads, mix them with W_O, add the residual and normalise (post-LN).
        output = self.dense(self.merge_heads(context))  # (B, N, T, D) -> (B, T, H)
        output = self.LayerNorm(hidden_states + self.output_dropout(output))  # (B, T, H)
        return output, (probs if output_attentions else None)


# ================================================================================================================
# 3. One encoder layer: attention, then a position-wise feed-forward network (FFN)
# ================================================================================================================
#
#     a   = LayerNorm( h + Dropout( MultiHeadAttention(h) ) )        (section 2)
#     out = LayerNorm( a + W_2 act( W_1 a + b_1 ) + b_2 )             W_1: H -> I, W_2: I -> H, I = 4H
#
# Both sub-layers add their input back (the residual) and then normalise: the "post-LN" order of the original
# Transformer and BERT. The FFN works on every token separately and holds most of a layer's parameters (2 H I = 8 H^2
# against 4 H^2 for attention). `act` is `hidden_act`: "gelu" is the exact GELU(x) = x Phi(x); "gelu_new" is the tanh
# approximation 0.5 x (1 + tanh( sqrt(2/pi) (x + 0.044715 x^3) )) that Google's BERT and ALBERT code computes and ALBERT
# v2 checkpoints use. The two differ by up to about 1e-3, enough to fail a parity test.
# Unlike Google's code, and like the reference (for parity), no dropout on the FFN output: the reference creates it
# but never calls it (no change for ALBERT v2, whose dropout is 0); `ffn_dropout_prob` turns it on for BERT.


class NewGELU(nn.Module):
    """GELU's tanh approximation (Hendrycks & Gimpel, 2016), the formula above. PyTorch computes exactly it in one
    kernel, where written out it is five passes over (B, T, I); tests/test_parity.py holds the two equal."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.gelu(x, approximate="tanh")  # (B, T, I)


# The modules `hidden_act` can name (config.HIDDEN_ACTS lists the same names); none holds parameters.
ACTIVATIONS = {"gelu": nn.GELU, "gelu_new": NewGELU, "relu": nn.ReLU, "silu": nn.SiLU}


class AlbertLayer(nn.Module):
    def __init__(self, config: AlbertConfig, ffn_dropout_prob: float = 0.0, scale_relative_scores: bool = False):
        super().__init__()
        self.attention = AlbertAttention(config, scale_relative_scores)
        # The names ffn, ffn_output and full_layer_layer_norm are the reference's keys, from Google's TensorFlow code.
        self.ffn = nn.Linear(config.hidden_size, config.intermediate_size)  # W_1: H -> I
        self.activation = ACTIVATIONS[config.hidden_act]()
        self.ffn_output = nn.Linear(config.intermediate_size, config.hidden_size)  # W_2: I -> H
        self.ffn_dropout = nn.Dropout(ffn_dropout_prob)
        self.full_layer_layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_bias: Optional[torch.Tensor] = None,
        head_mask: Optional[torch.Tensor] = None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        attention_output, probs = self.attention(hidden_states, attention_bias, head_mask, output_attentions)
        ffn_hidden = self.activation(self.ffn(attention_output))  # (B, T, H) -> (B, T, I)
        ffn_output = self.ffn_dropout(self.ffn_output(ffn_hidden))  # (B, T, I) -> (B, T, H)
        return self.full_layer_layer_norm(ffn_output + attention_output), probs  # (B, T, H)


# ================================================================================================================
# 4. The encoder: E -> H, then the layers, reusing weights across depth (paper, section 3.1)
# ================================================================================================================
#
#     h_0 = W_proj x + b             x: (B, T, E) -> h_0: (B, T, H)     the second half of the factorized embedding
#     h_i = Group_g(i)( h_(i-1) )     for depth i = 1 .. L
#
# Cross-layer parameter sharing. BERT has L layers with L sets of weights. ALBERT keeps G groups of weights
# (num_hidden_groups; G = 1 in every published ALBERT) and applies group g(i) = floor((i - 1) G / L) at depth i. With
# G = 1 one layer is applied L times: twelve depths, one set of weights. Parameters shrink by up to L times;
# computation does not shrink at all. A group holds `inner_group_num` layers applied in turn (1 in every published
# ALBERT), so a forward pass runs A = L x inner_group_num "layer applications".
#
# The paper's table 4 also shares only part of each layer; `config.sharing` picks the strategy:
#
#     sharing              distinct attention weights    distinct FFN weights
#     "all-shared"         G x inner                     G x inner
#     "shared-attention"   1                             L x inner
#     "shared-FFN"         L x inner                     1
#     "not-shared"         L x inner                     L x inner
#
# Partial sharing is plain PyTorch: one nn.Module object placed in several layers (model.parameters() lists it once).
#
# Outputs, as in the reference: hidden_states holds h_0 and the output of each of the L group applications (L + 1
# tensors (B, T, H)); attentions holds one (B, N, T, T) tensor per layer application. Row a of head_mask silences
# heads in layer application a. (transformers 4.56.2 slices head_mask by group, so with shared layers its row 0 acts
# on every depth and the other rows are ignored; ours gives each application its own row.)


class AlbertLayerGroup(nn.Module):
    """One group of weights: inner_group_num layers, applied in order."""

    def __init__(self, config: AlbertConfig):
        super().__init__()
        self.albert_layers = nn.ModuleList([AlbertLayer(config) for _ in range(config.inner_group_num)])


class AlbertTransformer(nn.Module):
    def __init__(self, config: AlbertConfig):
        super().__init__()
        self.config = config
        self.embedding_hidden_mapping_in = nn.Linear(config.embedding_size, config.hidden_size)  # E -> H
        self.albert_layer_groups = nn.ModuleList([AlbertLayerGroup(config) for _ in range(config.num_hidden_groups)])
        self.tie_sub_layers()

    def tie_sub_layers(self) -> None:
        """For the partial strategies, make every layer use the first layer's attention (or FFN) module."""
        layers = [layer for group in self.albert_layer_groups for layer in group.albert_layers]
        first = layers[0]
        for layer in layers[1:]:
            if self.config.sharing == "shared-attention":
                layer.attention = first.attention
            elif self.config.sharing == "shared-FFN":
                layer.ffn, layer.ffn_output = first.ffn, first.ffn_output
                layer.full_layer_layer_norm = first.full_layer_layer_norm

    def group_index(self, depth: int) -> int:
        """Which group of weights runs at depth 0..L-1: about floor(depth * G / L), with the reference's float
        expression so that every checkpoint behaves as in transformers. It differs from the exact floor in rare
        configs (L = 18, G = 14, depth 9 gives group 6, not 7); every published ALBERT has G = 1: group 0."""
        return int(depth / (self.config.num_hidden_layers / self.config.num_hidden_groups))

    def forward(
        self,
        embeddings: torch.Tensor,
        attention_bias: Optional[torch.Tensor] = None,
        head_mask: Optional[torch.Tensor] = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
    ):
        hidden_states = self.embedding_hidden_mapping_in(embeddings)  # (B, T, E) -> (B, T, H)
        all_hidden_states, all_attentions = [hidden_states], []
        application = 0  # counts layer applications: 0 .. A - 1
        for depth in range(self.config.num_hidden_layers):
            group = self.albert_layer_groups[self.group_index(depth)]
            for layer in group.albert_layers:
                layer_head_mask = None if head_mask is None else head_mask[application]  # (N,)
                hidden_states, probs = layer(hidden_states, attention_bias, layer_head_mask, output_attentions)
                all_attentions.append(probs)
                application += 1
            all_hidden_states.append(hidden_states)  # (B, T, H)
        return (
            hidden_states,
            tuple(all_hidden_states) if output_hidden_states else None,
            tuple(all_attentions) if output_attentions else None,
        )


# ================================================================================================================
# 5. AlbertModel: embeddings -> encoder -> pooler
# ================================================================================================================
#
#     x      = Embeddings(input_ids, token_type_ids, position_ids)    (B, T, E)
#     h_L    = Encoder(x, attention_mask)                             (B, T, H)
#     pooled = tanh( W_pool h_L[:, 0] + b_pool )                      (B, H)      [CLS], for sentence-level tasks
#
# The padding mask attention_mask (B, T), 1 for real tokens and 0 for padding, becomes the additive bias (1 - mask) *
# (most negative float), (B, 1, 1, T), made once for every layer (Google's -10000 gives the same weights in float32).
#
# Every model class derives from `AlbertPreTrainedModel` (weights.py): initialisation, from_pretrained, save_pretrained.


@dataclass
class AlbertModelOutput:
    """What AlbertModel returns (the reference's BaseModelOutputWithPooling)."""

    last_hidden_state: torch.Tensor  # (B, T, H)
    pooler_output: Optional[torch.Tensor] = None  # (B, H); None without a pooler
    hidden_states: Optional[tuple[torch.Tensor, ...]] = None  # L + 1 tensors (B, T, H)
    attentions: Optional[tuple[torch.Tensor, ...]] = None  # A tensors (B, N, T, T)


def attention_bias_from_mask(attention_mask: Optional[torch.Tensor], dtype: torch.dtype) -> Optional[torch.Tensor]:
    """(B, T) mask of 1 = attend, 0 = padding -> (B, 1, 1, T) additive bias: 0 or the most negative float."""
    if attention_mask is None:
        return None
    mask = attention_mask[:, None, None, :].to(dtype)  # (B, T) -> (B, 1, 1, T)
    return (1.0 - mask) * torch.finfo(dtype).min


class AlbertModel(AlbertPreTrainedModel):
    def __init__(self, config: AlbertConfig, add_pooling_layer: bool = True):
        super().__init__(config)
        self.embeddings = AlbertEmbeddings(config)
        self.encoder = AlbertTransformer(config)
        # Task heads that use every token (MLM, token classification, QA) are built without the pooler.
        self.pooler = nn.Linear(config.hidden_size, config.hidden_size) if add_pooling_layer else None
        self.pooler_activation = nn.Tanh() if add_pooling_layer else None
        self.init_weights()

    def forward(
        self,
        input_ids: Optional[torch.Tensor] = None,
        attention_mask: Optional[torch.Tensor] = None,
        token_type_ids: Optional[torch.Tensor] = None,
        position_ids: Optional[torch.Tensor] = None,
        head_mask: Optional[torch.Tensor] = None,
        inputs_embeds: Optional[torch.Tensor] = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
    ) -> AlbertModelOutput:
        config = self.config
        # The checks also expand head_mask to one row per layer application: (A, N), or None.
        head_mask = checks.check_inputs(
            config,
            input_ids,
            attention_mask,
            token_type_ids,
            position_ids,
            head_mask,
            inputs_embeds,
            config.embedding_size,
            config.num_layer_applications,
        )

        embeddings = self.embeddings(input_ids, token_type_ids, position_ids, inputs_embeds)  # (B, T, E)
        attention_bias = attention_bias_from_mask(attention_mask, embeddings.dtype)  # (B, 1, 1, T)
        head_mask = None if head_mask is None else head_mask.to(embeddings.dtype)
        encoded = self.encoder(embeddings, attention_bias, head_mask, output_attentions, output_hidden_states)
        sequence_output, hidden_states, attentions = encoded  # (B, T, H); the tuples of every depth when asked for
        pooled_output = None  # [CLS] -> (B, H) below, when there is a pooler
        if self.pooler is not None:
            pooled_output = self.pooler_activation(self.pooler(sequence_output[:, 0]))
        return AlbertModelOutput(sequence_output, pooled_output, hidden_states, attentions)


# ================================================================================================================
# 6. The pretraining heads: MLM + SOP (the fine-tuning heads are in task_heads.py)
# ================================================================================================================
#
# Pretraining (paper, sections 3.1 and 4.1) trains two heads at once, and the loss is their sum:
# - Masked language modelling: about 15% of the pieces are hidden and predicted from their hidden state h_t,
#       logits_t = W_word LayerNorm( act( W_dense h_t + b_dense ) ) + b          W_dense: H -> E, W_word: E -> V
#   W_word is the word-embedding table itself ("tied"), which is why the head first maps H down to E. The loss is
#   cross-entropy over the masked positions; every other position has label -100 (IGNORE_INDEX) and is ignored.
# - Sentence-order prediction: two consecutive segments of one document, A then B (label 0) or swapped (label 1); a
#   linear classifier on the pooled [CLS] vector says which. BERT's next-sentence prediction paired A with a random
#   B, which the paper argues is mostly topic prediction; SOP keeps the topic and asks about coherence only.


@dataclass
class AlbertForPreTrainingOutput:
    loss: Optional[torch.Tensor] = None  # MLM loss + SOP loss, when both kinds of labels are given
    prediction_logits: Optional[torch.Tensor] = None  # (B, T, V)
    sop_logits: Optional[torch.Tensor] = None  # (B, 2)
    hidden_states: Optional[tuple[torch.Tensor, ...]] = None
    attentions: Optional[tuple[torch.Tensor, ...]] = None


@dataclass
class TaskOutput:
    """Output of the masked-LM head, and of the sequence, token and multiple-choice heads of task_heads.py."""

    loss: Optional[torch.Tensor] = None
    logits: Optional[torch.Tensor] = None  # (B, T, V), (B, num_labels), (B, T, num_labels) or (B, C)
    hidden_states: Optional[tuple[torch.Tensor, ...]] = None
    attentions: Optional[tuple[torch.Tensor, ...]] = None


class AlbertMLMHead(nn.Module):
    def __init__(self, config: AlbertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.embedding_size)  # H -> E
        self.activation = ACTIVATIONS[config.hidden_act]()
        self.LayerNorm = nn.LayerNorm(config.embedding_size, eps=config.layer_norm_eps)
        self.decoder = nn.Linear(config.embedding_size, config.vocab_size)  # E -> V; weight tied to the embeddings
        # The output bias lives here as `predictions.bias` (a reference key) and is the decoder's bias too.
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))
        self.decoder.bias = self.bias

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        x = self.LayerNorm(self.activation(self.dense(hidden_states)))  # (B, T, H) -> (B, T, E)
        return self.decoder(x)  # (B, T, E) -> (B, T, V)


def classifier_dropout(config: AlbertConfig) -> nn.Dropout:
    """Dropout before a task classifier: classifier_dropout_prob, or hidden_dropout_prob when that is None."""
    p = config.classifier_dropout_prob
    return nn.Dropout(config.hidden_dropout_prob if p is None else p)


class AlbertSOPHead(nn.Module):
    def __init__(self, config: AlbertConfig):
        super().__init__()
        self.dropout = classifier_dropout(config)
        # The reference sizes this layer by num_labels (2 for SOP); kept so its checkpoints load.
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, pooled_output: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(pooled_output))  # (B, H) -> (B, 2)


class _MaskedLMBase(AlbertPreTrainedModel):
    """Shared by the two classes that own an MLM head: tie its decoder to the word embeddings."""

    albert: AlbertModel
    predictions: AlbertMLMHead
    # Keys that are other keys' tensors: not written to checkpoints, not reported missing when absent.
    tied_weight_keys = ("predictions.decoder.weight", "predictions.decoder.bias")

    def tie_weights(self) -> None:
        self.predictions.decoder.weight = self.albert.embeddings.word_embeddings.weight  # (V, E), one tensor
        self.predictions.decoder.bias = self.predictions.bias


class AlbertForPreTraining(_MaskedLMBase):
    def __init__(self, config: AlbertConfig):
        super().__init__(config)
        self.albert = AlbertModel(config)
        self.predictions = AlbertMLMHead(config)
        self.sop_classifier = AlbertSOPHead(config)
        self.init_weights()

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        head_mask=None,
        inputs_embeds=None,
        labels=None,
        sentence_order_label=None,
        output_attentions=False,
        output_hidden_states=False,
    ) -> AlbertForPreTrainingOutput:
        checks.check_pretraining_labels(self.config, input_ids, inputs_embeds, labels, sentence_order_label)
        outputs = self.albert(
            input_ids,
            attention_mask,
            token_type_ids,
            position_ids,
            head_mask,
            inputs_embeds,
            output_attentions,
            output_hidden_states,
        )
        prediction_logits = self.predictions(outputs.last_hidden_state)  # (B, T, V)
        sop_logits = self.sop_classifier(outputs.pooler_output)  # (B, 2)
        loss = None
        if labels is not None and sentence_order_label is not None:  # the reference needs both
            mlm_loss = nn.functional.cross_entropy(prediction_logits.flatten(0, 1), labels.view(-1))
            sop_loss = nn.functional.cross_entropy(sop_logits, sentence_order_label.view(-1))
            loss = mlm_loss + sop_loss
        return AlbertForPreTrainingOutput(
            loss, prediction_logits, sop_logits, outputs.hidden_states, outputs.attentions
        )


class AlbertForMaskedLM(_MaskedLMBase):
    def __init__(self, config: AlbertConfig):
        super().__init__(config)
        self.albert = AlbertModel(config, add_pooling_layer=False)
        self.predictions = AlbertMLMHead(config)
        self.init_weights()

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        head_mask=None,
        inputs_embeds=None,
        labels=None,
        output_attentions=False,
        output_hidden_states=False,
    ) -> TaskOutput:
        shape = checks.batch_shape(input_ids, inputs_embeds)  # (B, T)
        checks.check_token_labels("labels", labels, shape, self.config.vocab_size, "vocab_size")
        outputs = self.albert(
            input_ids,
            attention_mask,
            token_type_ids,
            position_ids,
            head_mask,
            inputs_embeds,
            output_attentions,
            output_hidden_states,
        )
        logits = self.predictions(outputs.last_hidden_state)  # (B, T, V)
        loss = None if labels is None else nn.functional.cross_entropy(logits.flatten(0, 1), labels.view(-1))
        return TaskOutput(loss, logits, outputs.hidden_states, outputs.attentions)
