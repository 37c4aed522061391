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
Before SentencePiece sees it, each text goes through `preprocess_text`, in this order:

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

import unicodedata

SPIECE_UNDERLINE = "▁"  # U+2581, SentencePiece's visible space


# The symbols Google's spm_train command for ALBERT kept as pieces of their own (google-research/albert README).
ALBERT_USER_DEFINED_SYMBOLS = ("(", ")", '"', "-", ".", "–", "£", "€")



def preprocess_text(text: str, do_lower_case: bool = True, remove_space: bool = True,
                    keep_accents: bool = False) -> str:
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



def lower_each_character(text: str) -> str:
    """Lower-case character by character, as the reference does before it looks for special tokens.

    This differs from `str.lower()` in one place: Python writes a capital sigma at the end of a word as the final form
    'ς', one character at a time it is always 'σ'. Only Σ is context dependent, so the fast path is safe without it.
    """
    if "Σ" not in text:
        return text.lower()
    return "".join(c.lower() for c in text)

