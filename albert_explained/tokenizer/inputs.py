"""From ids to model inputs: one text or a pair, truncation, padding, tensors, and the checks on what was passed.

`AlbertTokenizer.__call__` (albert_tokenizer.py) turns every text into ids, then builds the inputs of each example
with the helpers here, in the reference's order:

1. `gather_inputs`: a string, a pair, a batch of strings or of (text, text_pair) tuples -> first texts, second texts;
2. `resolve_strategies`: padding / truncation / max_length read as transformers reads them (max_length alone means
   truncate; padding=True means to the longest of the batch; model_max_length fills in a missing max_length);
3. `truncate`: tokens come off the end until [CLS] A [SEP] (B [SEP]) fits in max_length: "longest_first" cuts the
   longer text first, "only_first" / "only_second" cut one of them;
4. `pad`: on the right, to the longest of the batch or to max_length (rounded up to pad_to_multiple_of);
5. `to_tensor`: lists of equal length -> a (B, T) tensor, or (B, T, 2) for offset_mapping.

`BatchEncoding` is the result: a dict whose keys are also attributes.
"""

from __future__ import annotations

import warnings
from typing import Any, Optional

PADDING_STRATEGIES = ("longest", "max_length", "do_not_pad")
TRUNCATION_STRATEGIES = ("longest_first", "only_first", "only_second", "do_not_truncate")


class BatchEncoding(dict):
    """The tokenizer's output: a dict (so `model(**enc)` works) whose keys are also attributes (`enc.input_ids`)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"this encoding has no {name!r}; it has {sorted(self)}") from None

    def to(self, device: Any) -> "BatchEncoding":
        """Move every tensor to `device` (values that are plain lists stay as they are)."""
        return BatchEncoding({key: value.to(device) if hasattr(value, "to") else value for key, value in self.items()})


def resolve_strategies(padding, truncation, max_length, pad_to_multiple_of, model_max_length):
    """The reference's reading of padding / truncation / max_length, with errors that say what is allowed:
    (padding strategy, truncation strategy, max_length), max_length taken from model_max_length when needed."""
    if max_length is not None and (not is_int(max_length) or max_length < 1):
        raise ValueError(f"max_length must be a positive integer or None, got {max_length!r}")
    if pad_to_multiple_of is not None and (not is_int(pad_to_multiple_of) or pad_to_multiple_of < 1):
        raise ValueError(f"pad_to_multiple_of must be a positive integer or None, got {pad_to_multiple_of!r}")
    # As in the reference: max_length alone (no padding, truncation not given) means truncate to it.
    if max_length is not None and padding is False and truncation is None:
        truncation = "longest_first"

    if padding is True:
        if max_length is not None and truncation in (None, False, "do_not_truncate"):
            warnings.warn(
                "max_length is ignored when padding=True (to the longest) and truncation is off; "
                "use padding='max_length' to pad to max_length",
                stacklevel=3,
            )
        padding = "longest"
    elif padding is False or padding is None:
        padding = "do_not_pad"
    elif padding not in PADDING_STRATEGIES:
        raise ValueError(f"padding must be True, False or one of {list(PADDING_STRATEGIES)}, got {padding!r}")
    if truncation is True:
        truncation = "longest_first"
    elif truncation is False or truncation is None:
        truncation = "do_not_truncate"
    elif truncation not in TRUNCATION_STRATEGIES:
        raise ValueError(f"truncation must be True, False or one of {list(TRUNCATION_STRATEGIES)}, got {truncation!r}")

    if max_length is None:
        if padding == "max_length":
            if model_max_length is None:
                warnings.warn(
                    "padding='max_length' without max_length, and this tokenizer has no model_max_length: not padding",
                    stacklevel=3,
                )
                padding = "do_not_pad"
            else:
                max_length = model_max_length
        if truncation != "do_not_truncate":
            if model_max_length is None:
                warnings.warn(
                    f"truncation={truncation!r} without max_length, and this tokenizer has no "
                    "model_max_length: not truncating",
                    stacklevel=3,
                )
                truncation = "do_not_truncate"
            else:
                max_length = model_max_length
    if (
        truncation != "do_not_truncate"
        and padding != "do_not_pad"
        and pad_to_multiple_of is not None
        and max_length is not None
        and max_length % pad_to_multiple_of != 0
    ):
        raise ValueError(
            f"max_length ({max_length}) must be a multiple of pad_to_multiple_of "
            f"({pad_to_multiple_of}) when both truncation and padding are on"
        )
    return padding, truncation, max_length


def truncate(
    ids_a: list[int], ids_b: Optional[list[int]], max_length: int, strategy: str, add_special_tokens: bool, index: int
) -> tuple[list[int], Optional[list[int]]]:
    """Remove tokens from the end so that example `index`, special tokens included, has at most max_length."""
    n_special = (3 if ids_b is not None else 2) if add_special_tokens else 0  # [CLS] A [SEP] (B [SEP])
    if max_length < n_special:
        what = "a pair ([CLS] A [SEP] B [SEP])" if ids_b is not None else "one text ([CLS] A [SEP])"
        raise ValueError(f"max_length ({max_length}) is smaller than the {n_special} special tokens of {what}")
    excess = len(ids_a) + (len(ids_b) if ids_b is not None else 0) + n_special - max_length
    if excess <= 0:
        return ids_a, ids_b
    if strategy == "longest_first" and ids_b is not None:
        # Cut the longer sequence until both are as long, then both alike; an odd token comes off the second.
        len_a, len_b = len(ids_a), len(ids_b)
        from_longer = min(abs(len_a - len_b), excess)
        rest = excess - from_longer
        cut_a = rest // 2 + (from_longer if len_a > len_b else 0)
        cut_b = rest - rest // 2 + (from_longer if len_a <= len_b else 0)
        return ids_a[: len_a - cut_a], ids_b[: len_b - cut_b]
    if strategy == "only_second":
        if len(ids_b) <= excess:
            raise ValueError(
                f"truncation='only_second' must remove {excess} tokens from the second text of "
                f"example {index}, which has only {len(ids_b)}; use 'longest_first' or a larger "
                "max_length"
            )
        return ids_a, ids_b[:-excess]
    # only_first, or longest_first with a single text. The reference keeps at least one token of the text.
    if len(ids_a) <= excess:
        raise ValueError(
            f"truncation={strategy!r} must remove {excess} tokens from the first text of example "
            f"{index}, which has only {len(ids_a)}; use a larger max_length"
            + (" or 'longest_first'" if ids_b is not None else "")
        )
    return ids_a[:-excess], ids_b


def pad(
    columns: dict[str, list[list]],
    padding: str,
    max_length: Optional[int],
    pad_to_multiple_of: Optional[int],
    pad_id: int,
) -> None:
    """Pad every row of `columns` on the right, in place: <pad> ids, segment 0, special-token mask 1, attention mask 0,
    offsets (0, 0). padding is "longest" (the longest row of the batch) or "max_length"."""
    target = max(map(len, columns["input_ids"])) if padding == "longest" else max_length
    if pad_to_multiple_of is not None and target % pad_to_multiple_of != 0:
        target = (target // pad_to_multiple_of + 1) * pad_to_multiple_of
    fill = {
        "input_ids": pad_id,
        "token_type_ids": 0,
        "special_tokens_mask": 1,
        "attention_mask": 0,
        "offset_mapping": (0, 0),
    }
    for key, rows in columns.items():
        for row in rows:
            if len(row) < target:
                row.extend([fill[key]] * (target - len(row)))


def is_int(value: Any) -> bool:
    """A Python int, or a numpy / torch integer scalar (what indexing a tensor of ids gives)."""
    if isinstance(value, int):
        return True
    return getattr(value, "ndim", None) == 0 and "int" in str(getattr(value, "dtype", ""))


def to_list(values: Any, name: str) -> list:
    """Lists, tuples, torch tensors and numpy arrays -> (nested) Python lists."""
    if hasattr(values, "tolist"):
        values = values.tolist()
    if isinstance(values, tuple):
        values = list(values)
    if not isinstance(values, list):
        raise TypeError(f"{name} must be a list of ids (or a tensor), got {type(values).__name__}")
    return values


def check_text(text: Any, name: str) -> None:
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a string, got {type(text).__name__}: {text!r:.60}")
    try:
        text.encode("utf-8")  # SentencePiece reads UTF-8
    except UnicodeEncodeError as error:
        raise ValueError(
            f"{name} is not valid Unicode text: {error.object[error.start : error.end]!r} at position "
            f"{error.start} (bytes that were not UTF-8 when the text was read)"
        ) from None


def gather_inputs(text, text_pair) -> tuple[list[str], list[Optional[str]], bool]:
    """Normalise the ways of passing inputs to (first texts, second texts or None, is it a batch?)."""
    if isinstance(text, str):
        check_text(text, "text")
        if text_pair is not None:
            check_text(text_pair, "text_pair (with a single text)")
        return [text], [text_pair], False
    if not isinstance(text, (list, tuple)):
        raise TypeError(
            f"text must be a string or a list of strings or (text, text_pair) pairs, "
            f"got {type(text).__name__}: {text!r:.60}"
        )
    if len(text) == 0:
        raise ValueError("text is an empty list: there is nothing to encode")
    if text_pair is not None:
        if not isinstance(text_pair, (list, tuple)):
            raise TypeError(
                f"text is a list, so text_pair must be a list of the same length, got {type(text_pair).__name__}"
            )
        if len(text_pair) != len(text):
            raise ValueError(f"text has {len(text)} examples but text_pair has {len(text_pair)}")
    firsts, seconds = [], []
    for i, item in enumerate(text):
        if isinstance(item, (list, tuple)):  # a (text, text_pair) pair inside the batch
            if text_pair is not None or len(item) != 2:
                raise ValueError(f"text[{i}] must be a string or a (text, text_pair) pair, got {item!r:.60}")
            first, second = item
            check_text(second, f"text[{i}][1]")
            check_text(first, f"text[{i}][0]")
        else:
            first, second = item, (text_pair[i] if text_pair is not None else None)
            check_text(first, f"text[{i}]")
            if second is not None:
                check_text(second, f"text_pair[{i}]")
        firsts.append(first)
        seconds.append(second)
    return firsts, seconds, True


def to_tensor(rows: list[list[int]], key: str):
    import torch

    if len({len(row) for row in rows}) > 1:
        raise ValueError(
            f"cannot make one tensor of {key}: the sequences have different lengths "
            f"({min(map(len, rows))} to {max(map(len, rows))}); pass padding=True (and truncation=True)"
        )
    tensor = torch.tensor(rows, dtype=torch.long)  # (B, T), or (B, T, 2) for offset_mapping
    return tensor.reshape(len(rows), -1, 2) if key == "offset_mapping" else tensor  # (B, 0, 2) when T = 0
