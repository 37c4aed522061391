"""Checks on what a model is given, run before any computation, so that a mistake gives an error that names the
argument and says what is allowed, rather than an index error from deep inside torch.

`model.py` and `task_heads.py` call these at the top of every forward pass: `check_inputs` and `check_head_mask`
for AlbertModel (and BertModel), and one label check per head. Each raises ValueError (a wrong value or shape) or
TypeError (a wrong kind of object), with the dimension letters of the package docstring: B batch, T tokens,
C choices, N heads.

Checks on shapes and types read only Python attributes and cost nothing. Checks on values (an id inside the
vocabulary, a mask of 0s and 1s, finite embeddings) must read the tensors, and asking `if ids.max() >= V:` once per
condition would cost a host-device synchronisation each on a GPU and break `torch.compile`'s graph ("data-dependent
branching"). So a value check only builds a boolean tensor on the tensor's device, True where a value is not
allowed, and `ValueChecks.raise_if_any` decides all of a call's checks with one question to the device. Under
torch.compile they become `torch._assert_async` nodes in the graph instead: no Python branch, and a RuntimeError
with the same message if a value is wrong. Tensors on the meta device (shapes only) have no values to check.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import torch

IGNORE_INDEX = -100  # the label of positions that take no part in a loss (PyTorch's cross_entropy default)

# The index types nn.Embedding accepts.
INDEX_DTYPES = (torch.int64, torch.int32)


def describe(value: Any) -> str:
    """How an error message names a value: its dtype and shape if it is a tensor, else its type."""
    if isinstance(value, torch.Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    return f"a {type(value).__name__}"


def check_exactly_one_input(input_ids: Optional[torch.Tensor], inputs_embeds: Optional[torch.Tensor]) -> None:
    """A batch comes either as ids or as embeddings, never both and never neither."""
    if (input_ids is None) == (inputs_embeds is None):
        raise ValueError(
            "pass exactly one of input_ids and inputs_embeds, not " + ("both" if input_ids is not None else "neither")
        )


def check_embeds_dtype(inputs_embeds: torch.Tensor, weight_dtype: torch.dtype) -> None:
    """inputs_embeds must not widen the model's dtype: the first addition (embeddings + token-type embeddings) takes
    the wider of the two, so float64 embeddings given to a float32 model would fail inside LayerNorm with "mixed
    dtype". A narrower dtype (bfloat16 into float32) is widened by that addition and works, as in the reference.
    Under autocast the device's own casting rules decide (CUDA runs LayerNorm in float32), so nothing is checked."""
    widened = torch.promote_types(inputs_embeds.dtype, weight_dtype) != weight_dtype
    if widened and not torch.is_autocast_enabled(inputs_embeds.device.type):
        raise TypeError(
            f"inputs_embeds must be in the model's dtype ({weight_dtype}) or a narrower one, got "
            f"{inputs_embeds.dtype}: convert them with inputs_embeds.to(model.dtype)"
        )


class ValueChecks:
    """The value checks of one call, decided together (see the module docstring)."""

    def __init__(self) -> None:
        self.pending: list[tuple[torch.Tensor, torch.Tensor, str]] = []  # (tensor, where it is bad, message)

    def add(self, tensor: torch.Tensor, bad: Callable[[torch.Tensor], torch.Tensor], message: str) -> None:
        """`bad(tensor)` is True where a value is not allowed; `message` says what is allowed."""
        if tensor.device.type != "meta":
            self.pending.append((tensor, bad(tensor), message))

    def in_range(self, name: str, tensor: torch.Tensor, low: int, high: int, limit_name: str) -> None:
        """Every value of an index tensor in [low, high)."""
        self.add(
            tensor, lambda t: (t < low) | (t >= high), f"{name} must be in [{low}, {high}) ({limit_name} = {high})"
        )

    def finite(self, name: str, tensor: torch.Tensor) -> None:
        self.add(tensor, lambda t: ~torch.isfinite(t), f"{name} must be finite (no inf or nan)")

    def whole(self, failed: torch.Tensor, message: str) -> None:
        """A condition on a tensor as a whole: `failed` is a 0-d boolean tensor, True when it does not hold."""
        if failed.device.type != "meta":
            self.pending.append((None, failed, message))

    def raise_if_any(self) -> None:
        if not self.pending:
            return
        if torch.compiler.is_compiling():
            for _, bad, message in self.pending:
                torch._assert_async(~bad.any(), message)
            return
        failed = torch.stack([bad.any() for _, bad, _ in self.pending])  # (K,) on the tensors' device
        if failed.any():  # the one synchronisation; only a failure looks further
            tensor, bad, message = self.pending[int(failed.int().argmax())]
            raise ValueError(message if tensor is None else f"{message}, found {tensor[bad][0].item()}")


def check_inputs(
    config: Any,
    input_ids: Optional[torch.Tensor],
    attention_mask: Optional[torch.Tensor],
    token_type_ids: Optional[torch.Tensor],
    position_ids: Optional[torch.Tensor],
    head_mask: Optional[torch.Tensor],
    inputs_embeds: Optional[torch.Tensor],
    embedding_size: int,
    num_applications: int,
) -> Optional[torch.Tensor]:
    """Validate a batch for AlbertModel or BertModel; return head_mask as (A, N) (or None), see check_head_mask."""
    values = ValueChecks()
    check_exactly_one_input(input_ids, inputs_embeds)
    if input_ids is not None:
        if not isinstance(input_ids, torch.Tensor) or input_ids.dtype not in INDEX_DTYPES or input_ids.dim() != 2:
            raise TypeError(
                f"input_ids must be an int64 or int32 tensor of shape (batch, sequence), got {describe(input_ids)}"
            )
        values.in_range("input_ids", input_ids, 0, config.vocab_size, "vocab_size")
        batch_size, seq_len = input_ids.shape
    else:
        if (
            not isinstance(inputs_embeds, torch.Tensor)
            or inputs_embeds.dim() != 3
            or inputs_embeds.shape[-1] != embedding_size
        ):
            raise ValueError(
                f"inputs_embeds must have shape (batch, sequence, {embedding_size}), got {describe(inputs_embeds)}"
            )
        values.finite("inputs_embeds", inputs_embeds)
        batch_size, seq_len = inputs_embeds.shape[:2]
    if seq_len > config.max_position_embeddings:
        raise ValueError(
            f"the sequence has {seq_len} tokens but the model accepts at most max_position_embeddings "
            f"= {config.max_position_embeddings}; truncate it"
        )
    if seq_len == 0:
        raise ValueError("the sequence is empty: input_ids / inputs_embeds need at least one token")
    for name, tensor in (("attention_mask", attention_mask), ("token_type_ids", token_type_ids)):
        wrong = not isinstance(tensor, torch.Tensor) or tuple(tensor.shape) != (batch_size, seq_len)
        if tensor is not None and wrong:
            raise ValueError(
                f"{name} must have shape (batch, sequence) = {(batch_size, seq_len)}, got {describe(tensor)}"
            )
    if attention_mask is not None:
        if attention_mask.is_complex():
            raise TypeError(
                f"attention_mask must be a tensor of 0s and 1s (integer, bool or float), got {describe(attention_mask)}"
            )
        # Any other value would scale the mask bias (1 - mask) * min instead of switching a token on or off.
        values.add(
            attention_mask, lambda m: (m != 0) & (m != 1), "attention_mask must hold only 1 (a token) and 0 (padding)"
        )
    for name, tensor in (("token_type_ids", token_type_ids), ("position_ids", position_ids)):
        if isinstance(tensor, torch.Tensor) and tensor.dtype not in INDEX_DTYPES:
            raise TypeError(f"{name} must be an integer tensor (int64 or int32), got {describe(tensor)}")
    if token_type_ids is not None:
        values.in_range("token_type_ids", token_type_ids, 0, config.type_vocab_size, "type_vocab_size")
    if position_ids is not None:
        if (
            not isinstance(position_ids, torch.Tensor)
            or position_ids.dim() not in (1, 2)
            or position_ids.shape[-1] != seq_len
            or (position_ids.dim() == 2 and position_ids.shape[0] not in (1, batch_size))
        ):
            raise ValueError(
                f"position_ids must have shape (batch, sequence), (1, sequence) or (sequence,) with "
                f"sequence = {seq_len}, got {describe(position_ids)}"
            )
        values.in_range("position_ids", position_ids, 0, config.max_position_embeddings, "max_position_embeddings")
    head_mask = check_head_mask(head_mask, num_applications, config.num_attention_heads)
    if head_mask is not None:
        values.finite("head_mask", head_mask)
    values.raise_if_any()
    return head_mask


def check_head_mask(head_mask: Optional[torch.Tensor], num_applications: int, num_heads: int) -> Optional[torch.Tensor]:
    """Accept (N,) for every layer or (A, N) with one row per layer application; return (A, N) or None."""
    if head_mask is None:
        return None
    if not isinstance(head_mask, torch.Tensor):
        raise TypeError(f"head_mask must be a tensor, got {type(head_mask).__name__}")
    if head_mask.dim() == 1 and head_mask.shape[0] == num_heads:
        return head_mask.unsqueeze(0).expand(num_applications, -1)  # (N,) -> (A, N)
    if head_mask.dim() == 2 and tuple(head_mask.shape) == (num_applications, num_heads):
        return head_mask
    raise ValueError(
        f"head_mask must have shape (num_attention_heads,) = ({num_heads},) or (layer applications, "
        f"num_attention_heads) = ({num_applications}, {num_heads}), got {tuple(head_mask.shape)}"
    )


# --- labels ---------------------------------------------------------------------------------------------------------


def batch_shape(input_ids: Optional[torch.Tensor], inputs_embeds: Optional[torch.Tensor]) -> tuple[int, int]:
    """(B, T) of a batch, for checking labels before the model runs (check_inputs checks the inputs themselves)."""
    check_exactly_one_input(input_ids, inputs_embeds)
    name, tensor, dim = ("input_ids", input_ids, 2) if input_ids is not None else ("inputs_embeds", inputs_embeds, 3)
    if not isinstance(tensor, torch.Tensor) or tensor.dim() != dim:
        shape = "(batch, sequence)" if dim == 2 else "(batch, sequence, embedding)"
        raise ValueError(f"{name} must have shape {shape}, got {describe(tensor)}")
    return tuple(tensor.shape[:2])


def check_tensor(name: str, value: Any) -> None:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a tensor, got {type(value).__name__}")


def check_integer_tensor(name: str, labels: Any) -> None:
    """Class indices for a loss: int64, the only integer type PyTorch's cross_entropy takes."""
    if not isinstance(labels, torch.Tensor) or labels.dtype != torch.int64:
        raise TypeError(
            f"{name} must be an integer tensor of dtype int64 (torch.long), got {describe(labels)}; "
            f"convert it with .long()"
        )


def check_batch_not_empty(name: str, batch_size: int) -> None:
    """A loss is a mean over the examples of a batch, and over none it is 0 / 0 = NaN (as the reference returns it)."""
    if batch_size == 0:
        raise ValueError(
            f"{name} given for an empty batch (batch size 0): a loss over no examples would be NaN; "
            f"give at least one example"
        )


def check_token_labels(
    name: str, labels: Optional[torch.Tensor], shape: tuple[int, int], high: int, limit: str
) -> None:
    """Per-token labels: shape (B, T), each -100 (ignored) or in [0, high), and not all -100: the loss averages over
    the labelled positions, and over none it is 0 / 0 = NaN (the reference returns that NaN)."""
    if labels is None:
        return
    check_integer_tensor(name, labels)
    if tuple(labels.shape) != tuple(shape):
        raise ValueError(f"{name} must have the shape of input_ids {tuple(shape)}, got {tuple(labels.shape)}")
    check_batch_not_empty(name, shape[0])
    values = ValueChecks()
    values.add(
        labels,
        lambda t: (t != IGNORE_INDEX) & ((t < 0) | (t >= high)),
        f"{name} must be -100 (ignored) or in [0, {high}) ({limit} = {high})",
    )
    values.whole(
        (labels == IGNORE_INDEX).all(),
        f"{name} holds only -100 (ignored): no position takes part in the "
        f"loss, which would be NaN; label at least one position",
    )
    values.raise_if_any()


def check_class_labels(name: str, labels: Optional[torch.Tensor], batch_size: int, num_classes: int) -> None:
    """One class per example: shape (B,) or (B, 1), each in [0, num_classes)."""
    if labels is None:
        return
    check_integer_tensor(name, labels)
    if labels.numel() != batch_size or labels.dim() > 2:
        raise ValueError(f"{name} must have shape (batch,) = ({batch_size},), got {tuple(labels.shape)}")
    check_batch_not_empty(name, batch_size)
    values = ValueChecks()
    values.add(labels, lambda t: (t < 0) | (t >= num_classes), f"{name} must be in [0, {num_classes})")
    values.raise_if_any()


def check_pretraining_labels(config: Any, input_ids, inputs_embeds, labels, sentence_order_label) -> None:
    """MLM labels per token (in the vocabulary or -100) and one sentence-order label (0 or 1) per pair."""
    batch_size, seq_len = batch_shape(input_ids, inputs_embeds)
    check_token_labels("labels", labels, (batch_size, seq_len), config.vocab_size, "vocab_size")
    check_class_labels("sentence_order_label", sentence_order_label, batch_size, 2)
    if sentence_order_label is not None and config.num_labels != 2:
        raise ValueError(f"sentence-order prediction has 2 classes; this config has num_labels = {config.num_labels}")


def sequence_problem_type(config: Any, labels: torch.Tensor) -> str:
    """config.problem_type, or the reference's rule when it is None: 1 label is regression, integer labels are
    single-label classification, anything else (float multi-hot vectors) multi-label classification."""
    if config.problem_type is not None:
        return config.problem_type
    if config.num_labels == 1:
        return "regression"
    return "single_label_classification" if not labels.dtype.is_floating_point else "multi_label_classification"


def check_sequence_labels(config: Any, input_ids, inputs_embeds, labels) -> Optional[str]:
    """Sequence-classification labels for the head's problem type (see sequence_problem_type); returns that type,
    None without labels."""
    batch_size, _ = batch_shape(input_ids, inputs_embeds)
    if labels is None:
        return None
    check_tensor("labels", labels)
    check_batch_not_empty("labels", batch_size)
    problem_type, num_labels = sequence_problem_type(config, labels), config.num_labels
    if problem_type == "single_label_classification":
        check_class_labels("labels", labels, batch_size, num_labels)
    elif problem_type == "multi_label_classification" and tuple(labels.shape) != (batch_size, num_labels):
        raise ValueError(
            f"multi-label labels must have shape (batch, num_labels) = {(batch_size, num_labels)}, "
            f"got {tuple(labels.shape)}"
        )
    elif problem_type == "regression" and labels.numel() != batch_size * num_labels:
        raise ValueError(
            f"regression labels must hold batch x num_labels = {batch_size * num_labels} values, "
            f"got shape {tuple(labels.shape)}"
        )
    # The reference takes any float: a NaN target makes the loss NaN, and a multi-label target outside [0, 1] gives
    # binary cross-entropy with no meaning (it is not even bounded below).
    values = ValueChecks()
    if problem_type == "regression":
        values.finite("regression labels", labels)
    elif problem_type == "multi_label_classification":
        values.add(
            labels,
            lambda t: ~((t >= 0) & (t <= 1)),
            "multi-label labels must be between 0 and 1 (each label's probability; 0 or 1 for plain yes/no labels)",
        )
    values.raise_if_any()
    return problem_type


def check_answer_positions(config: Any, input_ids, inputs_embeds, start_positions, end_positions) -> None:
    """Question answering: num_labels = 2 (start, end), and one start and one end position per example, shape (B,)
    or (B, 1), both or neither. Positions at or past the sequence's end are allowed (the loss ignores them, as the
    reference's does: an answer truncated away); negative ones are not (the reference would silently clamp them to 0,
    the [CLS] piece)."""
    batch_size, seq_len = batch_shape(input_ids, inputs_embeds)
    if config.num_labels != 2:
        raise ValueError(f"question answering needs num_labels = 2 (start and end), got {config.num_labels}")
    if (start_positions is None) != (end_positions is None):
        given = "start_positions" if end_positions is None else "end_positions"
        raise ValueError(
            f"{given} is given without its partner: a loss needs both start_positions and end_positions "
            f"(or neither, for logits only)"
        )
    values = ValueChecks()
    for name, positions in (("start_positions", start_positions), ("end_positions", end_positions)):
        if positions is None:
            continue
        check_integer_tensor(name, positions)
        if positions.numel() != batch_size or positions.dim() > 2:
            raise ValueError(f"{name} must have shape (batch,) = ({batch_size},), got {tuple(positions.shape)}")
        check_batch_not_empty(name, batch_size)
        values.add(
            positions,
            lambda p: p < 0,
            f"{name} must be 0 or more (a position at or past the sequence's end is ignored by the loss)",
        )
        values.whole(
            (positions >= seq_len).all(),
            f"every one of {name} is at or past the sequence's end "
            f"({seq_len}): the loss ignores them all and would be NaN; give at least one answer inside",
        )
    values.raise_if_any()


def check_multiple_choice(input_ids, attention_mask, token_type_ids, position_ids, inputs_embeds, labels) -> int:
    """Multiple-choice inputs are (B, C, T) (embeddings (B, C, T, E)), with one label in [0, C) per example;
    returns C."""
    check_exactly_one_input(input_ids, inputs_embeds)
    first = input_ids if input_ids is not None else inputs_embeds
    expected_dim = 3 if input_ids is not None else 4
    if not isinstance(first, torch.Tensor) or first.dim() != expected_dim:
        name = "input_ids" if input_ids is not None else "inputs_embeds"
        shape = "(batch, choices, sequence)" + (", embedding" if inputs_embeds is not None else "")
        raise ValueError(f"{name} must have shape {shape} for multiple choice, got {describe(first)}")
    batch_size, num_choices, seq_len = first.shape[:3]
    if num_choices == 0:
        name = "input_ids" if input_ids is not None else "inputs_embeds"
        raise ValueError(
            f"{name} has no choices: shape (batch, choices, sequence) = {tuple(first.shape[:3])}; "
            f"multiple choice needs at least one choice per example"
        )
    # Every tensor is flattened to (batch * choices, sequence) before the encoder, so a mask given as (choices,
    # batch, sequence) would flatten without error and pair each choice with another example's mask: compare shapes.
    for name, tensor in (
        ("attention_mask", attention_mask),
        ("token_type_ids", token_type_ids),
        ("position_ids", position_ids),
    ):
        if tensor is not None and (
            not isinstance(tensor, torch.Tensor) or tuple(tensor.shape) != (batch_size, num_choices, seq_len)
        ):
            raise ValueError(
                f"{name} must have the shape of the inputs, (batch, choices, sequence) = "
                f"{(batch_size, num_choices, seq_len)}, got {describe(tensor)}"
            )
    if isinstance(labels, torch.Tensor) and labels.numel() != batch_size and labels.dim() <= 2:
        raise ValueError(
            f"labels must have shape (batch,) = ({batch_size},), one choice per example, got "
            f"{tuple(labels.shape)}; the inputs are read as (batch, choices, sequence) = "
            f"{(batch_size, num_choices, seq_len)}: are the batch and choice axes swapped?"
        )
    check_class_labels("labels", labels, batch_size, num_choices)
    return num_choices
