"""Embeddings: from token ids to vectors of size E (paper, section 3.1, "factorized embedding parameterization").

Each position t of the input gets the sum of three learned vectors, then LayerNorm and dropout:

    x_t = LayerNorm( W_word[id_t] + W_pos[t] + W_type[segment_t] )        x: (B, T, E)

- W_word (V x E): one row per vocabulary piece. `padding_idx` keeps the <pad> row at zero when it is initialised.
- W_pos (P x E): absolute positions 0..P-1 (P = max_position_embeddings = 512), so inputs are padded on the right.
- W_type (2 x E): segment A (0) or segment B (1) of a sentence pair.

How ALBERT differs from BERT: BERT embeds straight into the hidden size (E = H), so the vocabulary alone costs
V x H = 30000 x 768 = 23M parameters in BERT-base. ALBERT embeds into a small E = 128 and lets the encoder project up
to H with one E x H matrix (`encoder.py`, `embedding_hidden_mapping_in`): V x E + E x H = 3.9M instead. The paper's
argument is that embeddings are context-free, one vector per piece, while hidden states carry context, so only the
latter need a large size.

With relative position attention (position_embedding_type "relative_key" or "relative_key_query") positions enter
inside attention instead, and W_pos is left out of the sum (it still exists, as in the reference, so checkpoints load).

Shapes: input_ids (B, T) or inputs_embeds (B, T, E) -> (B, T, E).
"""

from typing import Optional

import torch
from torch import nn

from .config import AlbertConfig


class AlbertEmbeddings(nn.Module):
    def __init__(self, config: AlbertConfig, embedding_size: Optional[int] = None):
        super().__init__()
        # BERT reuses this block with E = H; ALBERT passes nothing and gets config.embedding_size.
        size = embedding_size or config.embedding_size
        self.word_embeddings = nn.Embedding(config.vocab_size, size, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, size)
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
        batch_size, seq_len, _ = inputs_embeds.shape
        if token_type_ids is None:
            # A single sentence: everything is segment A.
            token_type_ids = torch.zeros(batch_size, seq_len, dtype=torch.long, device=inputs_embeds.device)

        embeddings = inputs_embeds + self.token_type_embeddings(token_type_ids)  # (B, T, E)
        if self.use_absolute_positions:
            if position_ids is None:
                position_ids = torch.arange(seq_len, device=inputs_embeds.device).unsqueeze(0)  # (1, T)
            embeddings = embeddings + self.position_embeddings(position_ids)  # (1 or B, T, E) broadcasts to (B, T, E)
        return self.dropout(self.LayerNorm(embeddings))  # (B, T, E)
