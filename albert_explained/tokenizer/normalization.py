"""What SentencePiece does, and ALBERT's rules around it: the tokenizer's algorithm, apart from its API.

The unigram language model
--------------------------
A unigram model gives every piece x of the vocabulary a probability p(x), independent of its neighbours. A word can
be cut into pieces in many ways ("▁unrelated" = "▁un" + "related" = "▁unre" + "l" + "ated" = ...); the model scores a
segmentation x_1 .. x_n by the product of its pieces' probabilities,

    P(x_1 .. x_n) = p(x_1) * p(x_2) * ... * p(x_n),

and encoding picks the most probable segmentation with the Viterbi algorithm (Kudo, 2018). Training starts from a
very large seed vocabulary (frequent substrings of the corpus) and repeatedly re-estimates p with EM and drops the
pieces whose removal costs the corpus likelihood least, until V pieces are left. Single characters are never
dropped, so any text made of known characters can be segmented; a character too rare to be kept (below
`character_coverage`), or never seen in training, becomes `<unk>`.

What '▁' means
--------------
SentencePiece does not split on spaces first, as word-level tokenizers do: it sees the text as one stream of
characters in which a space is a character like any other, written '▁' (U+2581) so that it can be seen. It also puts
a '▁' in front of the text (a "dummy prefix"), so that the first word looks like every other word. A piece starting
with '▁' therefore starts a word: "the cat" -> ['▁the', '▁cat'], and "cats" -> ['▁cat', 's']. Decoding is just
joining the pieces and turning '▁' back into spaces: SentencePiece itself loses nothing about spacing.

That dummy prefix answers a question learners ask first: why is there a '▁' next to [MASK]?
The text between two special tokens is encoded as a string of its own, so it gets its own dummy prefix: "[MASK]."
becomes ['[MASK]', '▁', '.'] even though the text has no space there. ('.' is one of the symbols Google's vocabulary
keeps as a piece of its own, so the '▁' of the dummy prefix cannot join it and is left alone.) Pretraining masks
ids, so a model rarely sees that '▁'; we keep it anyway, as transformers' slow AlbertTokenizer does.

ALBERT's rules around SentencePiece
-----------------------------------
Special tokens are found first (`split_on_special_tokens`): the text is cut around them, and each stretch between
them is normalised and segmented on its own. As in the reference, with `do_lower_case` the text is lower-cased
before special tokens are looked for (so "<PAD>" is found and "[mask]" is not), and `[MASK]` absorbs the spaces
before it, as the '▁' of a word would.

Before SentencePiece sees it, each stretch of text goes through `preprocess_text`, in this order:

1. `remove_space`: strip the ends and turn every run of whitespace (spaces, tabs, newlines) into one space, so
   layout never changes the ids.
2. LaTeX-style quotes `` and '' become ". Wikipedia and book dumps are full of them; one quote character instead of
   three spellings saves vocabulary. (This rule comes from XLNet's tokenizer, which the reference shares.)
3. Unless `keep_accents`: Unicode NFKD decomposition, then every combining mark is dropped, so "café" -> "cafe" and
   "naïve" -> "naive". NFKD also folds compatibility characters ("ﬁ" -> "fi", full-width "９" -> "9").
4. `do_lower_case`: lower case. The released ALBERT models are uncased: "The" and "the" share their pieces.

After SentencePiece, one more rule: a piece that ends in a digit followed by a comma is split before the comma and
the digits are re-encoded, so "9,9" gives ['▁9', ',', '9'] rather than ['▁9,', '9']. Numbers with thousands
separators are so frequent that SentencePiece learns pieces like "▁1," and "000,"; without this rule the same number
would be cut differently depending on what follows it. (Google's `tokenization.py` does the same, after the BERT
README's remark on commas in numbers.)
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sentencepiece as spm

SPIECE_UNDERLINE = "▁"  # U+2581, SentencePiece's visible space


# The symbols Google's spm_train command for ALBERT kept as pieces of their own (google-research/albert README).
ALBERT_USER_DEFINED_SYMBOLS = ("(", ")", '"', "-", ".", "–", "£", "€")


def lower_each_character(text: str) -> str:
    """Lower-case character by character, as the reference does before it looks for special tokens.

    This differs from `str.lower()` in one place: Python writes a capital sigma at the end of a word as the final form
    'ς', one character at a time it is always 'σ'. Only Σ is context dependent, so the fast path is safe without it.
    """
    if "Σ" not in text:
        return text.lower()
    return "".join(c.lower() for c in text)


def split_on_special_tokens(
    text: str, pattern: re.Pattern, do_lower_case: bool, mask_token: str
) -> list[tuple[str, bool]]:
    """Cut the text around special tokens (`pattern` matches any of them): [(text, False), ("[MASK]", True), ...].

    As in the reference, the text is lower-cased (outside special tokens) *before* special tokens are looked for,
    so "<PAD>" becomes "<pad>" and is found, while "[mask]" is ordinary text.
    """
    if do_lower_case:
        if pattern.search(text) is None:
            text = lower_each_character(text)
        else:
            parts = pattern.split(text)  # odd positions hold the special tokens, which keep their case
            text = "".join(p if i % 2 else lower_each_character(p) for i, p in enumerate(parts))
    parts = pattern.split(text)
    if len(parts) == 1:
        return [(text, False)]
    for i in range(1, len(parts), 2):
        # [MASK] stands for a word: it absorbs the spaces before it, like the '▁' a word would carry.
        if parts[i] == mask_token:
            parts[i - 1] = parts[i - 1].rstrip()
    return [(p, i % 2 == 1) for i, p in enumerate(parts) if p]


def preprocess_text(
    text: str, do_lower_case: bool = True, remove_space: bool = True, keep_accents: bool = False
) -> str:
    """ALBERT's normalisation, applied before SentencePiece (steps 1-4 of this module's docstring)."""
    if remove_space:
        text = " ".join(text.strip().split())  # str.split() splits on any run of Unicode whitespace
    text = text.replace("``", '"').replace("''", '"')
    # ASCII text has neither accents nor compatibility characters, so NFKD would leave it as it is.
    if not keep_accents and not text.isascii():
        text = unicodedata.normalize("NFKD", text)  # "é" -> "e" + U+0301 (a combining acute accent)
        text = "".join(c for c in text if not unicodedata.combining(c))
    if do_lower_case:
        text = text.lower()
    return text


def is_number_comma(piece: str) -> bool:
    """Whether the number-comma rule splits this piece: it ends in a digit followed by a comma ('▁9,', '000,')."""
    return len(piece) > 1 and piece[-1] == "," and piece[-2].isdigit()


def split_number_comma(piece: str, sp_model: spm.SentencePieceProcessor) -> list[str]:
    """'▁9,' -> ['▁9', ',']: the digits are re-encoded on their own and the comma becomes its own piece."""
    before_comma = sp_model.encode(piece[:-1].replace(SPIECE_UNDERLINE, ""), out_type=str)
    # Re-encoding adds a dummy prefix '▁'. If the piece was inside a word ("000," in "1,000,"), it must not start a
    # new one, so that '▁' is removed again.
    if before_comma and not piece.startswith(SPIECE_UNDERLINE) and before_comma[0].startswith(SPIECE_UNDERLINE):
        before_comma[0] = before_comma[0][1:]
        if not before_comma[0]:
            before_comma = before_comma[1:]
    return before_comma + [","]
