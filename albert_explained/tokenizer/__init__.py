"""The ALBERT tokenizer: SentencePiece with ALBERT's rules, giving the reference's ids.

    normalization.py      what SentencePiece does and ALBERT's rules around it (the algorithm)
    albert_tokenizer.py   AlbertTokenizer: the transformers-style API
    batch.py              the ids of many texts with one SentencePiece call, the same as text by text
    settings.py           its settings as the reference keeps them: tokenizer_config.json, special_tokens_map.json
    inputs.py             from ids to model inputs: pairs, truncation, padding, tensors, BatchEncoding
    offsets.py            which characters of the text each piece was made from (return_offsets_mapping)
    training.py           train_tokenizer: a new SentencePiece model with ALBERT's settings

`AlbertTokenizer` is called like transformers' slow tokenizer and gives the same ids (tests/test_tokenizer.py).
"""

from .albert_tokenizer import AlbertTokenizer
from .inputs import BatchEncoding
from .normalization import SPIECE_UNDERLINE, preprocess_text
from .training import CLS_ID, MASK_ID, PAD_ID, SEP_ID, UNK_ID, train_tokenizer

__all__ = [
    "AlbertTokenizer",
    "BatchEncoding",
    "train_tokenizer",
    "preprocess_text",
    "SPIECE_UNDERLINE",
    "PAD_ID",
    "UNK_ID",
    "CLS_ID",
    "SEP_ID",
    "MASK_ID",
]
