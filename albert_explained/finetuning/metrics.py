"""The scores of the four tasks, as the benchmarks that ALBERT was measured on define them. All are fractions in [0, 1].

**Accuracy** (sequence classification, multiple choice): the share of examples whose predicted class is the true one.

**Entity-level F1** (token classification, as CoNLL-2003's conlleval and the seqeval package score NER). Tags are
BIO: B-X begins an entity of type X, I-X continues it, O is outside any entity. An entity is a whole span: it
counts as found only when the prediction has an entity of the same type with exactly the same first and last
word. With TP the entities found, P the predicted entities and G the true ones, over all examples together,

    precision = TP / P,    recall = TP / G,    F1 = 2 precision recall / (precision + recall)

(0 when a denominator is 0). An I-X that does not follow a B-X or I-X begins an entity, as conlleval reads it.

**Exact match and F1** (question answering, SQuAD v1.1's evaluation script). Both compare a predicted answer
string with the true one after normalising each: lower case, punctuation removed, the articles a / an / the
removed, whitespace collapsed. Exact match is 1 when the normalised strings are equal. F1 treats each as a bag of
words: with `common` the number of words they share (counted with multiplicity),

    precision = common / len(predicted words),  recall = common / len(true words),  F1 = 2 p r / (p + r)

and 0 when they share no word. With several true answers an example takes its best score; the task's score is
the mean over examples.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from typing import Sequence


def accuracy(predictions: Sequence, references: Sequence) -> float:
    """The share of positions where prediction and reference are equal."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
    if not references:
        raise ValueError("accuracy of nothing: there are no references")
    return sum(p == r for p, r in zip(predictions, references, strict=True)) / len(references)


# --- entities ---------------------------------------------------------------------------------------------------------


def bio_entities(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """The entities of one BIO-tagged sequence, as (type, first, last) word positions.

    >>> bio_entities(["O", "B-PER", "I-PER", "O", "B-PER", "B-PER", "I-LOC"])
    [('PER', 1, 2), ('PER', 4, 4), ('PER', 5, 5), ('LOC', 6, 6)]
    """
    entities = []
    kind, first = None, None
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, _, tag_type = tag.partition("-")
        if prefix not in ("B", "I", "O") or (prefix == "O") != (tag_type == ""):
            raise ValueError(f"tag {i} is {tag!r}; BIO tags are 'O', 'B-<type>' or 'I-<type>'")
        continues = prefix == "I" and first is not None and tag_type == kind
        if first is not None and not continues:
            entities.append((kind, first, i - 1))
            kind, first = None, None
        if prefix != "O" and not continues:
            kind, first = tag_type, i
    return entities


def entity_scores(predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> dict[str, float]:
    """Entity-level precision, recall and F1 over many tagged sequences (micro-averaged: every entity counts once)."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predicted sequences for {len(references)} references")
    found = predicted = true = 0
    for i, (predicted_tags, true_tags) in enumerate(zip(predictions, references, strict=True)):
        if len(predicted_tags) != len(true_tags):
            raise ValueError(f"sequence {i}: {len(predicted_tags)} predicted tags for {len(true_tags)} words")
        predicted_entities, true_entities = set(bio_entities(predicted_tags)), set(bio_entities(true_tags))
        found += len(predicted_entities & true_entities)
        predicted += len(predicted_entities)
        true += len(true_entities)
    precision = found / predicted if predicted else 0.0
    recall = found / true if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"entity_f1": f1, "precision": precision, "recall": recall}


# --- SQuAD --------------------------------------------------------------------------------------------------------

_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation: lower case, no punctuation, no articles, single spaces.

    >>> normalize_answer("  The KING, Henry-the-Sixth! ")
    'king henrythesixth'
    """
    text = "".join(c for c in text.lower() if c not in string.punctuation)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, truth: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(truth))


def token_f1(prediction: str, truth: str) -> float:
    """F1 of the two answers' normalised words, counted as bags (see the module docstring)."""
    predicted_words, true_words = normalize_answer(prediction).split(), normalize_answer(truth).split()
    common = sum((Counter(predicted_words) & Counter(true_words)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted_words), common / len(true_words)
    return 2 * precision * recall / (precision + recall)


def squad_scores(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> dict[str, float]:
    """Mean exact match and F1; each example's references are its true answers, of which it takes the best."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} examples")
    if not references:
        raise ValueError("SQuAD scores of nothing: there are no examples")
    em = f1 = 0.0
    for i, (prediction, truths) in enumerate(zip(predictions, references, strict=True)):
        if isinstance(truths, str) or not truths:
            raise ValueError(f"references[{i}] must be a non-empty list of true answers, got {truths!r}")
        em += max(exact_match(prediction, truth) for truth in truths)
        f1 += max(token_f1(prediction, truth) for truth in truths)
    return {"exact_match": em / len(references), "f1": f1 / len(references)}
