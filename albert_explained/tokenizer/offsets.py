"""Offsets: which characters of the text each piece was made from (`return_offsets_mapping=True`).

Extractive question answering needs to know which characters of the context a piece stands for, so that an answer
found as a span of pieces can be given back as a span of the original text (and a labelled span of text can be
turned into piece positions); token classification needs it to know which word a piece belongs to. The tokenizer's
`offset_mapping` gives, for every piece, a pair (start, end) such that `text[start:end]` is what the piece was made
from, in the convention of transformers' *fast* AlbertTokenizerFast (the slow reference has no offsets at all):

- the '▁' of a piece is the whitespace before the word, so "▁there" in "who's there" covers " there" (5, 11); a run
  of whitespace that normalisation turned into one space counts as its last character, as does a '' or `` that
  became one '"';
- the dummy prefix covers nothing, except the last whitespace before the text if there is some, and a lone dummy
  '▁' piece (before a symbol such as "(") is given the character that follows it;
- [MASK] covers the spaces it swallows; [CLS], [SEP] and padding added by the tokenizer are (0, 0);
- a character that normalisation turns into several ("ﬁ" -> "fi") gives each of its pieces its whole span.

How they are found. The text goes through the same steps as in `AlbertTokenizer.tokenize` (normalization.py), but
every character carries the span of the text it came from: lower-casing, the cut around special tokens and
`preprocess_text` are redone here one character at a time (and checked against the real thing), and SentencePiece
itself reports where in the normalised text each of its pieces lies (`encode(..., return_type="proto")` gives each
piece's byte span). The ids come out the same as without offsets.

`tests/test_tokenizer.py` compares them with AlbertTokenizerFast built from the same spiece.model (converting it
needs the `protobuf` package) on every text where the two tokenizers give the same ids; the fast tokenizer does not
apply the number-comma rule and splits a few symbols differently, so on those texts the pieces themselves differ.

Shapes: one text of n pieces -> n (start, end) pairs; a padded batch -> offset_mapping of shape (B, T, 2).
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Optional

from .normalization import SPIECE_UNDERLINE, is_number_comma, preprocess_text, split_number_comma

if TYPE_CHECKING:
    from .albert_tokenizer import AlbertTokenizer

Span = tuple[int, int]  # (start, end): the characters text[start:end]


def encode_with_offsets(tokenizer: AlbertTokenizer, text: str) -> tuple[list[int], list[Span]]:
    """The ids of one text (no special tokens added: those of `batch.encode_texts(tokenizer, [text])[0]`) and, for each,
    the (start, end) characters of `text` it was made from."""
    ids: list[int] = []
    offsets: list[Span] = []
    chars, spans = _lowered_with_spans(tokenizer, text)
    position = 0
    for match in list(tokenizer._special_tokens_pattern.finditer(chars)) + [None]:
        part_end = match.start() if match is not None else len(chars)
        part, part_spans = chars[position:part_end], spans[position:part_end]
        is_mask = match is not None and match.group() == tokenizer.mask_token
        if is_mask:
            # [MASK] swallows the spaces before it, and covers those that the fast tokenizer sees as spaces.
            covered = len(part)
            while covered and _is_white_space(part[covered - 1]):
                covered -= 1
            mask_start = part_spans[covered][0] if covered < len(part) else spans[match.start()][0]
            kept = len(part.rstrip())
            part, part_spans = part[:kept], part_spans[:kept]
        if part:
            part_ids, part_offsets = _encode_part_with_offsets(tokenizer, part, part_spans)
            ids += part_ids
            offsets += part_offsets
        if match is None:
            break
        token_start = mask_start if is_mask else spans[match.start()][0]
        ids.append(tokenizer._special_token_ids[match.group()])
        offsets.append((token_start, spans[match.end() - 1][1]))
        position = match.end()
    return ids, offsets


def offsets_with_special_tokens(
    spans_a: list[Span], spans_b: Optional[list[Span]], add_special_tokens: bool
) -> list[Span]:
    """The offsets of [CLS] A [SEP] (B [SEP]) from those of A and B: the added tokens cover no text, (0, 0)."""
    if not add_special_tokens:
        return spans_a + (spans_b or [])
    return [(0, 0)] + spans_a + [(0, 0)] + (spans_b + [(0, 0)] if spans_b is not None else [])


def preprocess_with_spans(
    text: str, spans: list[Span], do_lower_case: bool = True, remove_space: bool = True, keep_accents: bool = False
) -> tuple[str, list[Span], Optional[Span]]:
    """`preprocess_text`, one character at a time, carrying each character's span (`spans[i]` is that of text[i]).

    Returns the preprocessed text, the span of each of its characters, and the span of the last whitespace character
    that step 1 stripped from the front (None if there was none), which the dummy prefix stands for. A run of
    characters that becomes one (whitespace -> " ", `` or '' -> ") takes the span of the run's last character.
    """
    chars, char_spans, before = list(text), list(spans), None
    if remove_space:
        kept_chars: list[str] = []
        kept_spans: list[Span] = []
        in_run = False  # inside a run of whitespace that has already given its one space
        for k, (c, span) in enumerate(zip(chars, char_spans, strict=True)):
            if c == "\n" and k > 0 and chars[k - 1] == "\r":
                continue  # SentencePiece's normaliser reads "\r\n" as one character, the "\r"
            if not c.isspace():
                kept_chars.append(c)
                kept_spans.append(span)
            elif not kept_chars:
                if _is_white_space(c):
                    before = span  # leading whitespace is dropped; the last of it is remembered
            elif in_run:
                if _is_white_space(c):
                    kept_spans[-1] = span  # the run's space moves on to its last character
            else:
                kept_chars.append(" ")
                kept_spans.append(span)
            in_run = c.isspace() and bool(kept_chars)
        if in_run:  # trailing whitespace is dropped
            kept_chars.pop()
            kept_spans.pop()
        chars, char_spans = kept_chars, kept_spans
    for pair in ("``", "''"):  # each pair becomes one '"', left to right like str.replace
        merged_chars: list[str] = []
        merged_spans: list[Span] = []
        k = 0
        while k < len(chars):
            if "".join(chars[k : k + 2]) == pair:
                merged_chars.append('"')
                merged_spans.append(char_spans[k + 1])
                k += 2
            else:
                merged_chars.append(chars[k])
                merged_spans.append(char_spans[k])
                k += 1
        chars, char_spans = merged_chars, merged_spans
    if not keep_accents and not "".join(chars).isascii():
        decomposed = [
            (d, span)
            for c, span in zip(chars, char_spans, strict=True)
            for d in unicodedata.normalize("NFKD", c)
            if not unicodedata.combining(d)
        ]
        chars, char_spans = [d for d, _ in decomposed], [span for _, span in decomposed]
    if do_lower_case:
        lowered = [(low, span) for c, span in zip(chars, char_spans, strict=True) for low in c.lower()]
        chars, char_spans = [c for c, _ in lowered], [span for _, span in lowered]
    return "".join(chars), char_spans, before


def _is_white_space(c: str) -> bool:
    """Whitespace to the fast tokenizer too: Unicode's White_Space, which is Python's isspace() without the
    information separators U+001C..U+001F. (Python strips and splits on those; the fast tokenizer's offsets never
    point at them.)"""
    return c.isspace() and c not in "\x1c\x1d\x1e\x1f"


def _lowered_with_spans(tokenizer: AlbertTokenizer, text: str) -> tuple[str, list[Span]]:
    """The text as `split_on_special_tokens` searches it (lower-cased outside special tokens), with each
    character's span in `text`."""
    if not tokenizer.do_lower_case:
        return text, [(i, i + 1) for i in range(len(text))]
    specials = [(m.start(), m.end()) for m in tokenizer._special_tokens_pattern.finditer(text)]
    chars: list[str] = []
    spans: list[Span] = []
    i = 0
    for start, end in specials + [(len(text), len(text))]:
        for j in range(i, start):
            lowered = text[j].lower()  # one character at a time, as lower_each_character
            chars.append(lowered)
            spans += [(j, j + 1)] * len(lowered)
        chars.append(text[start:end])  # a special token keeps its case
        spans += [(k, k + 1) for k in range(start, end)]
        i = end
    return "".join(chars), spans


def _encode_part_with_offsets(tokenizer: AlbertTokenizer, part: str, spans: list[Span]) -> tuple[list[int], list[Span]]:
    """Ids and offsets of a stretch of text between special tokens (`spans`: each character's span)."""
    options = (tokenizer.do_lower_case, tokenizer.remove_space, tokenizer.keep_accents)
    clean, clean_spans, before = preprocess_with_spans(part, spans, *options)
    if clean != preprocess_text(part, *options):
        raise RuntimeError(f"the offsets' normalisation of {part!r} differs from preprocess_text")
    if not clean:
        return [], []
    # SentencePiece gives byte positions in the UTF-8 of `clean`; char_at turns them into character positions.
    char_at = {}
    byte = 0
    for k, c in enumerate(clean):
        char_at[byte] = k
        byte += len(c.encode("utf-8"))
    char_at[byte] = len(clean)

    def span_of(first: int, stop: int) -> Span:
        """The span of `part` that characters first .. stop-1 of `clean` come from."""
        return clean_spans[first][0], clean_spans[stop - 1][1]

    ids: list[int] = []
    offsets: list[Span] = []
    # NFKD can make spaces after step 1 ("¯" is " " and a combining macron), which SentencePiece then strips or
    # merges: leading ones play the part of the whitespace before the text, a run counts as its last character.
    leading = len(clean) - len(clean.lstrip())
    if leading:
        before = clean_spans[leading - 1]
    for k, piece in enumerate(tokenizer.sp_model.encode(clean, return_type="proto").pieces):
        first, stop = char_at[piece.begin], char_at[piece.end]
        while first + 1 < stop and clean[first].isspace() and clean[first + 1].isspace():
            first += 1
        if first == stop:  # the dummy prefix alone: the whitespace before the text, else the next character
            span = before if before is not None else span_of(first, first + 1)
        else:
            span = span_of(first, stop)
            if (
                k == 0
                and piece.piece.startswith(SPIECE_UNDERLINE)
                and before is not None
                and not clean[first].isspace()
            ):
                span = (before[0], span[1])  # the dummy prefix stands for the whitespace before the text
        if not is_number_comma(piece.piece):
            ids.append(tokenizer._token_to_id(piece.piece))
            offsets.append(span)
            continue
        # The number-comma rule: the digits' pieces and the comma share out the piece's characters.
        pieces = split_number_comma(piece.piece, tokenizer.sp_model)
        at = stop - 1 - len(piece.piece[:-1].replace(SPIECE_UNDERLINE, ""))  # where the digits start
        for j, sub in enumerate(pieces[:-1]):
            width = len(sub.lstrip(SPIECE_UNDERLINE))
            sub_span = span_of(at, at + width) if width else span_of(at, at + 1)
            if j == 0 and sub.startswith(SPIECE_UNDERLINE):
                sub_span = (span[0], sub_span[1])  # a '▁' covers what the piece had before its digits
            ids.append(tokenizer._token_to_id(sub))
            offsets.append(sub_span)
            at += width
        ids.append(tokenizer._token_to_id(","))
        offsets.append(span_of(stop - 1, stop))
    return ids, offsets
