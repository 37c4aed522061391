"""Pretraining data as the paper builds it: from documents to masked sentence-order pairs (paper, sections 3.2 and 4.1).

ALBERT learns from two self-supervised tasks at once, and this file turns raw documents into examples for both. The
recipe is Google's `create_pretraining_data.py` (google-research/albert), step by step, one small function per step,
so that a notebook can run each step and show its result (notebook 08 does):

1. **Tokenize** every sentence of every document into piece ids (`tokenize_documents`).

2. **Segments and sentence order** (`create_sop_pairs`). Walk through a document, collecting consecutive sentences
   into a chunk until the next one would not fit in `max_seq_length - 3` pieces (three places are kept for [CLS] and
   two [SEP]). Cut the chunk at a random sentence boundary into segment A (the first part) and segment B (the rest).
   With probability 1/2 keep the order (A, B), label 0; otherwise swap to (B, A), label 1. Both segments always come
   from the same document and are adjacent, so topic cannot give the answer away: only coherence can. (BERT's
   next-sentence prediction took B from a *random* document half of the time, which a model can detect from the
   topic alone; the paper argues that this is why NSP helps so little.)

   Most sequences are full length, some shorter (the paper, section 4.1: inputs of at most 512 pieces, with
   probability 0.1 generated shorter): with probability `short_seq_prob` = 0.1 the target length is drawn uniformly
   from [2, max_seq_length - 3], so the model also sees short inputs, as it will when fine-tuned.

   **Next-sentence pairs, for comparison** (`create_nsp_pairs`, `DataConfig(objective="nsp")`). BERT's task, kept
   so that the paper's table 5 can be rerun in miniature: the same chunks and the same cut into A and B, but with
   probability 1/2 B is replaced by a run of lines from another document (label 1, "NotNext"); otherwise B is the
   real continuation (label 0, "IsNext"). Label 0 means "B follows A" under both objectives, so one head, the
   `sop_classifier` on the pooled [CLS], answers both, and a model trained on one task can be scored on the other
   (`objective.pair_task_accuracy`).

3. **The input pair** (`build_pair`):  [CLS] A [SEP] B [SEP],  token_type_ids 0 for "[CLS] A [SEP]" and 1 for "B [SEP]".

4. **n-gram masking** (`choose_masked_spans`, SpanBERT-style; paper, section 4.1). The number of pieces to predict is

       num_to_predict = min( max_predictions_per_seq, max(1, round(T * masked_lm_prob)) ),   masked_lm_prob = 0.15

   Spans of n whole words are picked at random positions, with the span length drawn as

       p(n) = (1/n) / sum_{k=1..N} (1/k),     N = 3:  p(1), p(2), p(3) = 6/11, 3/11, 2/11

   so most spans are single words, but 2 draws in 11 ask for three words in a row, and the model must rebuild a
   phrase from its context on both sides. (Fewer spans end up that long: a span that would overrun the budget of
   pieces is shortened, near the end of the sequence only the lengths that fit are drawn, and a span that overlaps
   an earlier one is dropped; docs/results.md, "The corpus, measured", gives the shares on the held-out plays.)
   Words, not pieces, are the unit ("whole-word masking"): hiding "▁unfold" but not its continuation "ed" would make
   the task a spelling exercise.

5. **80 / 10 / 10 replacement** (`mask_tokens`). Each chosen piece becomes [MASK] with probability 0.8, a random
   piece with probability 0.1, and stays as it is with probability 0.1; all of them are predicted. Since [MASK] never
   appears when the model is fine-tuned, the kept and the random pieces force it to keep a good representation of
   *every* input piece, not only of masks. Labels hold the original piece id at chosen positions and -100 (ignored by
   the loss) everywhere else.

6. **Batches** (`collate`): pad to the longest sequence of the batch; attention_mask marks real pieces.

Where we differ from Google's script, and why:

- The short-sequence target is drawn for every pair, not once per document. Google's documents are Wikipedia
  articles, thousands of them; ours are 34 plays, and one draw per play would make a whole play short or long.
- When a chunk holds a single sentence, Google's script takes B from a *random other document* and labels it
  "swapped" (an NSP-style example; google-research/albert#234). We split that sentence at a random piece instead, so
  every pair is a true sentence-order pair. Here a chunk holds one line when that line already reaches a short target
  length, when the next line would not fit beside it, or at the end of a play: a small share of the pairs
  (docs/results.md, "The corpus, measured"). (No line is longer than T - 3.)
- A chunk ends *before* the sentence that would overflow it; that sentence opens the next chunk. Google's script adds
  it anyway and then trims the longer segment one piece at a time from a random end (`truncate_seq_pair`), so about
  half of the trimmed pieces come from the junction between A and B, and most pairs "in order" no longer read on
  across [SEP]: pieces are missing there. With T = 512 that is a few pieces of a long pair; with our T = 64 and verse
  lines of about 11 pieces nearly every chunk overflows. The junction is where sentence order shows, so we keep it
  whole, at the price of a few pieces per pair. docs/results.md ("Sentence-order pairs: Google's chunks against ours")
  measures both ways: how many junctions stay intact, what `junction_bigram_baseline` and a trained model make of
  them, and what it costs in pieces and MLM accuracy. `truncate_seq_pair` is now needed only for a single sentence
  longer than T - 3.
- Random replacements are drawn from the ordinary pieces only, never from the special ones ([CLS], [MASK], ...).
- <unk> is never chosen for masking: a prediction of "some unknown piece" teaches nothing. Google's script leaves
  out only [CLS] and [SEP]. It matters little on the plays, where <unk> is rare (docs/results.md counts it).
- Masking is re-drawn every epoch from the epoch number and the seed ("dynamic masking", as RoBERTa does); Google
  writes `dupe_factor` = 40 fixed copies to disk. Everything is driven by one `random.Random`, so a seed and an
  epoch number give the same examples on every run and on every process.

Shapes of a batch: input_ids, token_type_ids, attention_mask, labels (B, T); sentence_order_label (B,).
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Optional, Sequence

import torch

from ..checks import IGNORE_INDEX

OBJECTIVES = ("sop", "nsp")  # ALBERT's sentence-order prediction, BERT's next-sentence prediction


@dataclass
class DataConfig:
    """The knobs of the recipe, with Google's defaults where they make sense at this scale."""

    max_seq_length: int = 128  # T (Google: 512; the pretraining recipe uses 64, `PretrainingConfig.max_seq_length`)
    short_seq_prob: float = 0.1  # share of pairs with a shorter, random target length
    masked_lm_prob: float = 0.15  # share of pieces to predict
    max_predictions_per_seq: int = 20  # cap on predictions per sequence (Google's default, also for T = 512)
    max_ngram: int = 3  # N: spans of 1 .. N whole words, p(n) proportional to 1/n
    objective: str = "sop"  # the pair task: "sop" (ALBERT's sentence order) or "nsp" (BERT's next sentence)

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}")
        if self.max_seq_length < 5:
            raise ValueError(f"max_seq_length must be at least 5 ([CLS] A [SEP] B [SEP]), got {self.max_seq_length}")
        for name in ("short_seq_prob", "masked_lm_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {getattr(self, name)}")
        for name in ("max_predictions_per_seq", "max_ngram"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")


@dataclass
class SopPair:
    """Two segments in the order the model will see them: adjacent segments of one document (SOP), or segment A and
    either its continuation or a segment of another document (NSP)."""

    tokens_a: list[int]
    tokens_b: list[int]
    sentence_order_label: int  # 0: B follows A as written; 1: swapped (SOP) or B from another document (NSP)


@dataclass
class PretrainingExample:
    """One training sequence, as lists of equal length T (before padding)."""

    input_ids: list[int]  # [CLS] A [SEP] B [SEP], some pieces masked
    token_type_ids: list[int]  # 0 for [CLS] A [SEP], 1 for B [SEP]
    labels: list[int]  # the original piece where one is predicted, -100 elsewhere
    sentence_order_label: int


@dataclass
class SpecialIds:
    """The ids the recipe needs from the tokenizer, and which pieces start a word."""

    cls: int
    sep: int
    mask: int
    pad: int
    vocab_size: int
    starts_word: list[bool]  # per piece id: does it begin a new word? (for whole-word masking)
    special: frozenset[int]  # ids never chosen for masking and never used as random replacements

    def __post_init__(self) -> None:
        # The pieces a random replacement is drawn from, listed once rather than for every masked position.
        self.ordinary = [i for i in range(self.vocab_size) if i not in self.special]

    @classmethod
    def from_tokenizer(cls, tokenizer: Any) -> "SpecialIds":
        """Read the special ids and the pieces from an `AlbertTokenizer` (or anything with the same attributes)."""
        vocab_size = len(tokenizer)
        pieces = tokenizer.convert_ids_to_tokens(list(range(vocab_size)))
        special = frozenset(
            i
            for i in (
                tokenizer.pad_token_id,
                tokenizer.unk_token_id,
                tokenizer.cls_token_id,
                tokenizer.sep_token_id,
                tokenizer.mask_token_id,
            )
            if i is not None
        )
        return cls(
            cls=tokenizer.cls_token_id,
            sep=tokenizer.sep_token_id,
            mask=tokenizer.mask_token_id,
            pad=tokenizer.pad_token_id,
            vocab_size=vocab_size,
            starts_word=[is_start_piece(p) for p in pieces],
            special=special,
        )


def is_start_piece(piece: str) -> bool:
    """Does this SentencePiece piece begin a word? "▁the" does (▁ marks a preceding space); "ed" continues one.
    Punctuation counts as a word of its own, as in Google's `_is_start_piece_sp`."""
    return piece.startswith("▁") or not piece[:1].isalnum()


# --- 1. tokenize ----------------------------------------------------------------------------------------------------


def tokenize_documents(documents: Iterable[Any], tokenizer: Any) -> list[list[list[int]]]:
    """Documents (each a `corpus.Document` or a list of sentence strings) -> per document, per sentence, piece ids.
    Sentences that tokenize to nothing are dropped; so are documents left empty."""
    tokenized = []
    for document in documents:
        sentences = list(getattr(document, "sentences", document))
        if not sentences:
            continue
        ids = tokenizer(sentences, add_special_tokens=False)["input_ids"]  # one list of piece ids per sentence
        ids = [s for s in ids if s]
        if ids:
            tokenized.append(ids)
    return tokenized


# --- 2. segments and sentence order ---------------------------------------------------------------------------------


def truncate_seq_pair(tokens_a: list[int], tokens_b: list[int], max_num_tokens: int, rng: random.Random) -> None:
    """Trim the longer segment, one piece at a time from its front or its back (at random), until they fit.
    Trimming both ends in turn avoids always cutting the same side, which would be a cue for the sentence order."""
    while len(tokens_a) + len(tokens_b) > max_num_tokens:
        longer = tokens_a if len(tokens_a) > len(tokens_b) else tokens_b
        if rng.random() < 0.5:
            del longer[0]
        else:
            longer.pop()


def _chunks(document: Sequence[Sequence[int]], config: DataConfig, rng: random.Random) -> Iterator[list[Sequence[int]]]:
    """Consecutive sentences gathered until the next one would not fit in T - 3 pieces or a drawn target length is
    reached (step 2 above). A generator: the caller draws from `rng` for each chunk before the next target is drawn."""
    max_num_tokens = config.max_seq_length - 3  # room for [CLS], [SEP], [SEP]

    def draw_target() -> int:
        # Mostly fill the whole sequence; sometimes aim shorter so that short inputs are seen too.
        return rng.randint(2, max_num_tokens) if rng.random() < config.short_seq_prob else max_num_tokens

    chunk: list[Sequence[int]] = []
    length, target = 0, draw_target()
    for sentence in document:
        if chunk and length + len(sentence) > max_num_tokens:
            # The sentence would not fit: it opens the next chunk, so no segment loses pieces at the junction.
            yield chunk
            chunk, length, target = [], 0, draw_target()
        chunk.append(sentence)
        length += len(sentence)
        if length >= target:
            yield chunk
            chunk, length, target = [], 0, draw_target()
    if chunk:
        yield chunk


def _cut(chunk: list[Sequence[int]], rng: random.Random) -> tuple[list[int], list[int]]:
    """Segment A (the first sentences of the chunk) and segment B (the rest), cut at a random sentence boundary."""
    if len(chunk) >= 2:
        a_end = rng.randint(1, len(chunk) - 1)  # how many sentences go to segment A
        return [t for s in chunk[:a_end] for t in s], [t for s in chunk[a_end:] for t in s]
    # A single sentence: cut it at a random piece rather than borrowing B from another document.
    only = list(chunk[0])
    cut = rng.randint(1, len(only) - 1) if len(only) >= 2 else 0
    return only[:cut], only[cut:]


def create_sop_pairs(document: Sequence[Sequence[int]], config: DataConfig, rng: random.Random) -> list[SopPair]:
    """One tokenized document -> sentence-order pairs that cover it, in document order (step 2 above)."""
    pairs: list[SopPair] = []
    for chunk in _chunks(document, config, rng):
        tokens_a, tokens_b = _cut(chunk, rng)
        if tokens_a and tokens_b:
            # Only a sentence longer than T - 3 needs trimming.
            truncate_seq_pair(tokens_a, tokens_b, config.max_seq_length - 3, rng)
            swapped = rng.random() < 0.5
            if swapped:
                tokens_a, tokens_b = tokens_b, tokens_a
            pairs.append(SopPair(tokens_a, tokens_b, int(swapped)))
    return pairs


def create_nsp_pairs(
    documents: Sequence[Sequence[Sequence[int]]], index: int, config: DataConfig, rng: random.Random
) -> list[SopPair]:
    """BERT's next-sentence pairs from documents[index]: the chunks and cuts of `create_sop_pairs`, and with
    probability 1/2 segment B replaced by a run of whole sentences of another document, from a random sentence on,
    until it is as long as the real B or the next sentence would not fit (label 1); otherwise the real B (label 0).

    Two differences from BERT's script: the negative's B is as long as the B it replaces (BERT fills up to the
    target length), and the real B of a negative is dropped (BERT puts its sentences back for the next chunk).
    """
    if len(documents) < 2:
        raise ValueError(
            f"next-sentence pairs need at least two documents (negatives come from another one), got {len(documents)}"
        )
    max_num_tokens = config.max_seq_length - 3
    pairs: list[SopPair] = []
    for chunk in _chunks(documents[index], config, rng):
        tokens_a, tokens_b = _cut(chunk, rng)
        if not (tokens_a and tokens_b):
            continue
        label = int(rng.random() < 0.5)
        if label == 1:  # NotNext: B from a random other document
            other = rng.randrange(len(documents) - 1)
            other += other >= index  # every document but this one, equally likely
            sentences = documents[other]
            random_b: list[int] = []
            for sentence in sentences[rng.randrange(len(sentences)) :]:
                if random_b and len(tokens_a) + len(random_b) + len(sentence) > max_num_tokens:
                    break
                random_b.extend(sentence)
                if len(random_b) >= len(tokens_b):
                    break
            tokens_b = random_b
        truncate_seq_pair(tokens_a, tokens_b, max_num_tokens, rng)
        pairs.append(SopPair(tokens_a, tokens_b, label))
    return pairs


# --- 3. the input pair ----------------------------------------------------------------------------------------------


def build_pair(
    tokens_a: Sequence[int], tokens_b: Sequence[int], cls_id: int, sep_id: int
) -> tuple[list[int], list[int]]:
    """[CLS] A [SEP] B [SEP] and its token_type_ids (segment ids): 0 for the first part, 1 for the second."""
    input_ids = [cls_id, *tokens_a, sep_id, *tokens_b, sep_id]
    token_type_ids = [0] * (len(tokens_a) + 2) + [1] * (len(tokens_b) + 1)
    return input_ids, token_type_ids


# --- 4. n-gram masking ----------------------------------------------------------------------------------------------


def ngram_probabilities(max_ngram: int) -> list[float]:
    """p(n) = (1/n) / sum_k (1/k) for n = 1 .. max_ngram; for 3: [6/11, 3/11, 2/11]."""
    weights = [1.0 / n for n in range(1, max_ngram + 1)]
    return [w / sum(weights) for w in weights]


def word_spans(input_ids: Sequence[int], ids: SpecialIds) -> list[list[int]]:
    """Group the positions of a sequence into whole words: [[1], [2, 3], [4], ...]. Special tokens belong to none."""
    words: list[list[int]] = []
    for position, token in enumerate(input_ids):
        if token in ids.special:
            continue
        # A continuation piece joins the word before it, unless a special token (or nothing) came in between.
        if words and not ids.starts_word[token] and words[-1][-1] == position - 1:
            words[-1].append(position)
        else:
            words.append([position])
    return words


def num_to_predict(seq_len: int, config: DataConfig) -> int:
    """How many pieces of a sequence of length T to predict: round(T * masked_lm_prob), at least 1, at most the
    cap."""
    return min(config.max_predictions_per_seq, max(1, round(seq_len * config.masked_lm_prob)))


def choose_masked_spans(words: list[list[int]], budget: int, config: DataConfig, rng: random.Random) -> list[list[int]]:
    """Pick non-overlapping spans of 1 .. N whole words, p(n) proportional to 1/n, until `budget` pieces are chosen.

    Start words are visited in random order. At each, a span length n is drawn (only lengths that fit before the
    end of the sequence); if the span would exceed the budget it is shortened one word at a time; a span that
    overlaps an earlier one is skipped. Returns the spans, each a list of positions.
    """
    starts = list(range(len(words)))
    rng.shuffle(starts)
    covered: set[int] = set()
    spans: list[list[int]] = []
    for start in starts:
        if len(covered) >= budget:
            break
        longest = min(config.max_ngram, len(words) - start)
        n = rng.choices(range(1, longest + 1), weights=ngram_probabilities(longest))[0]
        span = [p for word in words[start : start + n] for p in word]
        while n > 1 and len(covered) + len(span) > budget:
            n -= 1
            span = [p for word in words[start : start + n] for p in word]
        if len(covered) + len(span) > budget or covered.intersection(span):
            continue
        covered.update(span)
        spans.append(span)
    return spans


# --- 5. 80 / 10 / 10 ------------------------------------------------------------------------------------------------


def mask_tokens(
    input_ids: Sequence[int],
    positions: Iterable[int],
    mask_id: int,
    rng: Optional[random.Random] = None,
    replacements: Sequence[int] = (),
) -> tuple[list[int], list[int]]:
    """The MLM masker: corrupt the chosen positions and make the labels, the original piece at chosen positions and
    -100 elsewhere.

    Pretraining passes a random generator `rng` and the pieces a replacement is drawn from: each position, decided
    independently, becomes [MASK] with probability 0.8, a random piece with 0.1, and stays unchanged with 0.1 (it is
    still predicted). With no `rng` every chosen position becomes [MASK], the plain test with which
    `views.mask_tokens_for_mlm` measures a model's accuracy.
    """
    if rng is not None and not replacements:
        raise ValueError("mask_tokens needs the pieces a random replacement is drawn from (replacements) with an rng")
    corrupted = list(input_ids)
    labels = [IGNORE_INDEX] * len(input_ids)
    for position in sorted(positions):
        labels[position] = input_ids[position]
        roll = 0.0 if rng is None else rng.random()
        if roll < 0.8:
            corrupted[position] = mask_id
        elif roll < 0.9:
            corrupted[position] = rng.choice(replacements)
        # else: keep the original piece; it is still predicted
    return corrupted, labels


def make_example(pair: SopPair, ids: SpecialIds, config: DataConfig, rng: random.Random) -> PretrainingExample:
    """Steps 3 to 5 for one pair: build [CLS] A [SEP] B [SEP], choose n-gram spans, corrupt, label."""
    input_ids, token_type_ids = build_pair(pair.tokens_a, pair.tokens_b, ids.cls, ids.sep)
    spans = choose_masked_spans(word_spans(input_ids, ids), num_to_predict(len(input_ids), config), config, rng)
    corrupted, labels = mask_tokens(input_ids, [p for span in spans for p in span], ids.mask, rng, ids.ordinary)
    return PretrainingExample(corrupted, token_type_ids, labels, pair.sentence_order_label)


def create_examples(
    documents: Sequence[Sequence[Sequence[int]]],
    ids: SpecialIds,
    config: DataConfig,
    seed: int,
    epoch: int = 0,
    shuffle: bool = True,
) -> list[PretrainingExample]:
    """Every document -> SOP pairs (NSP pairs if config.objective is "nsp") -> masked examples, for one epoch;
    shuffled across documents.

    The random stream depends only on (seed, epoch), so every run, and every process of a distributed run, builds
    the same list; a new epoch draws new segment boundaries, new swaps and new masks.
    """
    rng = random.Random(f"albert-pretraining-data/{seed}/{epoch}")

    def pairs(index: int) -> list[SopPair]:
        if config.objective == "nsp":
            return create_nsp_pairs(documents, index, config, rng)
        return create_sop_pairs(documents[index], config, rng)

    examples = [make_example(pair, ids, config, rng) for index in range(len(documents)) for pair in pairs(index)]
    if shuffle:
        rng.shuffle(examples)
    return examples


# --- 6. batches -----------------------------------------------------------------------------------------------------


def collate(examples: Sequence[PretrainingExample], pad_id: int = 0) -> dict[str, torch.Tensor]:
    """Pad a list of examples to the longest one and stack them into the tensors the model takes."""
    if not examples:
        raise ValueError("collate needs at least one example")
    seq_len = max(len(e.input_ids) for e in examples)  # T of this batch

    def pad(values: list[int], fill: int) -> list[int]:
        return values + [fill] * (seq_len - len(values))

    return {
        "input_ids": torch.tensor([pad(e.input_ids, pad_id) for e in examples]),  # (B, T)
        "token_type_ids": torch.tensor([pad(e.token_type_ids, 0) for e in examples]),  # (B, T)
        "attention_mask": torch.tensor([pad([1] * len(e.input_ids), 0) for e in examples]),  # (B, T)
        "labels": torch.tensor([pad(e.labels, IGNORE_INDEX) for e in examples]),  # (B, T)
        "sentence_order_label": torch.tensor([e.sentence_order_label for e in examples]),  # (B,)
    }


def batches(
    examples: Sequence[PretrainingExample], batch_size: int, drop_last: bool = True
) -> list[list[PretrainingExample]]:
    """Cut a list of examples into batches. `drop_last` keeps every batch full (the training loop shares them out
    among the processes under torchrun: `Distributed.shard`)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
    cut = [list(examples[i : i + batch_size]) for i in range(0, len(examples), batch_size)]
    return [b for b in cut if len(b) == batch_size] if drop_last else cut


def describe_example(example: PretrainingExample, tokenizer: Any) -> str:
    """A readable view of one example for notebooks: the corrupted input with [predicted=original] marks."""
    pieces = tokenizer.convert_ids_to_tokens(example.input_ids)
    shown = []
    for piece, label in zip(pieces, example.labels, strict=True):
        if label == IGNORE_INDEX:
            shown.append(piece)
        else:
            shown.append(f"{piece}={tokenizer.convert_ids_to_tokens([label])[0]}")
    order = "swapped (B, A)" if example.sentence_order_label == 1 else "in order (A, B)"
    return f"sentence order: {order}\n" + " ".join(shown)


def unigram_baseline(
    train_documents: Sequence[Sequence[Sequence[int]]], examples: Sequence[PretrainingExample]
) -> tuple[int, float]:
    """The context-free baseline for MLM accuracy: always predict the most frequent piece of the training text.
    Returns that piece's id and its accuracy on the examples' predicted positions."""
    counts: dict[int, int] = {}
    for document in train_documents:
        for sentence in document:
            for token in sentence:
                counts[token] = counts.get(token, 0) + 1
    if not counts:
        raise ValueError("the training documents hold no pieces")
    most_common = max(counts, key=counts.get)
    labels = [label for e in examples for label in e.labels if label != IGNORE_INDEX]
    accuracy = sum(label == most_common for label in labels) / max(1, len(labels))
    return most_common, accuracy


def junction_bigram_baseline(
    train_documents: Sequence[Sequence[Sequence[int]]], examples: Sequence[PretrainingExample], sep_id: int
) -> float:
    """A baseline for SOP accuracy that reads only the two junctions of a pair. Returns its accuracy on `examples`.

    In the kept order the text runs on across the middle [SEP] (last piece of the first segment, x, then the first
    piece of the second, y); swapped, it runs on from the end of the sequence back to its start. A bigram model of
    the training text asks which junction reads more naturally, by how much more likely y is after x than anywhere:

        score(x -> y) = log p(y | x) - log p(y),   p(y | x) = (count(x y) + p(y)) / (count(x) + 1)

    (the unigram p(y) smooths pairs never seen), and guesses "kept" when the middle junction scores at least as high.
    What SOP accuracy a model reaches beyond this comes from more than the pieces next to the cut."""
    unigrams: dict[int, int] = {}
    bigrams: dict[tuple[int, int], int] = {}
    for document in train_documents:
        text = [token for sentence in document for token in sentence]
        for token in text:
            unigrams[token] = unigrams.get(token, 0) + 1
        for pair in itertools.pairwise(text):
            bigrams[pair] = bigrams.get(pair, 0) + 1
    total = sum(unigrams.values())
    if not total:
        raise ValueError("the training documents hold no pieces")

    def score(x: int, y: int) -> float:
        p_y = (unigrams.get(y, 0) + 1) / (total + len(unigrams))  # add-one, so an unseen piece is not impossible
        return math.log((bigrams.get((x, y), 0) + p_y) / (unigrams.get(x, 0) + 1)) - math.log(p_y)

    correct = 0
    for example in examples:
        # The original pieces: labels hold them where the input was masked or replaced.
        text = [
            label if label != IGNORE_INDEX else token
            for token, label in zip(example.input_ids, example.labels, strict=True)
        ]
        middle, end = text.index(sep_id), len(text) - 1 - text[::-1].index(sep_id)
        first, second = text[1:middle], text[middle + 1 : end]
        guess_kept = score(first[-1], second[0]) >= score(second[-1], first[0])
        correct += guess_kept == (example.sentence_order_label == 0)
    return correct / max(1, len(examples))
