"""The batch path: the ids of many texts with one call to SentencePiece, the same ids as `tokenize` gives text by text.

`AlbertTokenizer.tokenize` explains the algorithm one text and one step at a time (normalization.py). Called on a
batch, the tokenizer instead gathers the ordinary stretches of every text and lets SentencePiece encode them all at
once, straight to ids in C++ and on several threads, which is where its speed over the reference comes from
(docs/results.md). Only the stretches that ALBERT's rules after SentencePiece act on (the number-comma rule, and
unknown text, looked up by its surface as the reference does) are encoded a second time as strings.
`tests/test_tokenizer.py` holds both paths to the reference's ids.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .normalization import is_number_comma, preprocess_text, split_number_comma

if TYPE_CHECKING:
    from .albert_tokenizer import AlbertTokenizer


def encode_texts(tokenizer: AlbertTokenizer, texts: list[str]) -> list[list[int]]:
    """The ids of many texts (no special tokens added), with one SentencePiece call for all of them.

    Gives exactly `tokenizer.convert_tokens_to_ids(tokenizer.tokenize(text))` for each text. The ordinary stretches
    of every text are preprocessed and collected in one list, which SentencePiece encodes straight to ids in C++ (on
    several threads); then the few stretches that need ALBERT's rules after SentencePiece get their pieces as strings
    too.
    """
    chunks: list[str] = []  # preprocessed stretches of text, of all texts
    layouts: list[list[int]] = []  # per text: >= 0 is an index into chunks, < 0 is -(special id) - 1
    for text in texts:
        layout = []
        for part, is_special in tokenizer._split_on_special_tokens(text):
            if is_special:
                layout.append(-tokenizer._special_token_ids[part] - 1)
            else:
                layout.append(len(chunks))
                chunks.append(
                    preprocess_text(part, tokenizer.do_lower_case, tokenizer.remove_space, tokenizer.keep_accents)
                )
        layouts.append(layout)

    if tokenizer.sp_model_kwargs.get("enable_sampling"):
        # Subword sampling draws a new segmentation on every call, so ids and pieces must come from one call.
        chunk_ids = [tokenizer.convert_tokens_to_ids(tokenizer._sentencepiece_pieces(chunk)) for chunk in chunks]
    else:
        chunk_ids = tokenizer.sp_model.encode(chunks, out_type=int)
        # Two cases need the pieces as strings: the number-comma rule, and unknown text, because the reference
        # looks up the surface of an unknown piece, which can spell a special token (NFKD turns "［CLS］" into
        # "[CLS]", all of whose characters may be unknown when do_lower_case=False).
        unk_id = tokenizer.sp_model.unk_id()
        redo = [
            k
            for k, ids in enumerate(chunk_ids)
            if unk_id in ids or ("," in chunks[k] and not tokenizer._number_comma_ids.isdisjoint(ids))
        ]
        if redo:
            # Same text, same Viterbi path: the pieces line up one to one with the ids already found.
            pieces_of = tokenizer.sp_model.encode([chunks[k] for k in redo], out_type=str)
            for k, pieces in zip(redo, pieces_of, strict=True):
                if len(pieces) != len(chunk_ids[k]):
                    raise RuntimeError(f"SentencePiece gave {len(pieces)} pieces but {len(chunk_ids[k])} ids")
                chunk_ids[k] = apply_piece_rules(tokenizer, chunk_ids[k], pieces, unk_id)

    encoded = []
    for layout in layouts:
        if len(layout) == 1 and layout[0] >= 0:
            encoded.append(chunk_ids[layout[0]])  # the common case: no special tokens in the text
            continue
        ids = []
        for item in layout:
            if item >= 0:
                ids.extend(chunk_ids[item])
            else:
                ids.append(-item - 1)
        encoded.append(ids)
    return encoded


def apply_piece_rules(tokenizer: AlbertTokenizer, ids: list[int], pieces: list[str], unk_id: int) -> list[int]:
    """The number-comma rule and the surface lookup of unknown pieces, on ids with their pieces beside them."""
    watch = tokenizer._number_comma_ids
    fixed, start = [], 0
    for j in [j for j, token_id in enumerate(ids) if token_id == unk_id or token_id in watch]:
        fixed.extend(ids[start:j])
        start = j + 1
        if ids[j] != unk_id or is_number_comma(pieces[j]):
            fixed.extend(tokenizer.convert_tokens_to_ids(split_number_comma(pieces[j], tokenizer.sp_model)))
        else:
            fixed.append(tokenizer._token_to_id(pieces[j]))
    fixed.extend(ids[start:])
    return fixed
