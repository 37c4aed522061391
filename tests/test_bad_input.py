"""Bad input: a clear ValueError or TypeError that names the argument and what is allowed, raised before any
computation, never a deep index error from torch.

The issue lists the bad inputs; each has a test here, in the list's order:

- configs: hidden_size not divisible by num_attention_heads; num_hidden_groups outside 1..num_hidden_layers; an
  unknown hidden_act, position_embedding_type, sharing or attn_implementation; a config.json that is not valid JSON
  or holds values of the wrong type; an impossible layer_norm_eps, initializer_range or pad_token_id; a config changed
  after it was made; a misspelled key in config.json (a warning naming it);
- model inputs, for AlbertModel and BertModel alike: input_ids outside [0, vocab_size); token_type_ids outside
  [0, type_vocab_size); a sequence longer than max_position_embeddings; both or neither of input_ids and
  inputs_embeds; inputs_embeds of the wrong width; attention_mask or head_mask of the wrong shape; position_ids with
  no axis or three; a list where a tensor belongs;
- labels of the task heads: wrong shape or out of range (-100 is allowed where the reference ignores it); multiple-
  choice tensors whose batch and choice axes are swapped.

"Before any computation" is checked directly: every layer of the model (every leaf module: Embedding, Linear,
LayerNorm, ...) gets a forward pre-hook, and the test asserts that none of them ran when the error came. The message
is matched too, so the error is ours and not one that torch raised from inside an embedding lookup (an IndexError or
RuntimeError, which `pytest.raises(ValueError)` would not accept).

A weights file that is truncated or corrupt is the last item of the list; it is tested with the rest of checkpoint
reading in test_weights.py.
"""

from __future__ import annotations

import json
import re
import warnings
from contextlib import contextmanager

import pytest
import torch

from albert_explained import (
    AlbertConfig,
    AlbertForMaskedLM,
    AlbertForMultipleChoice,
    AlbertForPreTraining,
    AlbertForQuestionAnswering,
    AlbertForSequenceClassification,
    AlbertForTokenClassification,
    AlbertModel,
    AlbertTokenizer,
    BertConfig,
)
from albert_explained.bert import BertModel
from albert_explained.config import ATTN_IMPLEMENTATIONS, HIDDEN_ACTS, POSITION_EMBEDDING_TYPES, SHARING_STRATEGIES

# Tiny sizes: V, E, H, L, N, I, P (max_position_embeddings); a batch of B sequences of T tokens.
V, E, H, L, N, P = 99, 16, 32, 2, 4, 20
I = 37  # noqa: E741 (the package's letter for the FFN inner size)
B, T = 2, 5


def albert_config(**overrides) -> AlbertConfig:
    fields = dict(
        vocab_size=V,
        embedding_size=E,
        hidden_size=H,
        num_hidden_layers=L,
        num_attention_heads=N,
        intermediate_size=I,
        max_position_embeddings=P,
    )
    return AlbertConfig(**{**fields, **overrides})


def bert_config(**overrides) -> BertConfig:
    fields = dict(
        vocab_size=V,
        hidden_size=H,
        num_hidden_layers=L,
        num_attention_heads=N,
        intermediate_size=I,
        max_position_embeddings=P,
    )
    return BertConfig(**{**fields, **overrides})


def token_ids(batch: int = B, seq_len: int = T) -> torch.Tensor:
    return torch.arange(batch * seq_len).reshape(batch, seq_len) % V  # (B, T), every id valid


@contextmanager
def raises_before_computation(model: torch.nn.Module, exception: type[Exception], match: str):
    """Expect `exception` with a message matching `match`, raised before any layer of `model` computed anything.

    The layers that compute are the leaves of the module tree (Embedding, Linear, LayerNorm, Dropout, ...); a task
    head may call its AlbertModel, whose forward begins with the checks, so only the leaves are watched."""
    ran: list[str] = []
    handles = [
        module.register_forward_pre_hook(lambda module, args, name=name: ran.append(name))
        for name, module in model.named_modules()
        if not list(module.children())
    ]
    try:
        with pytest.raises(exception, match=match) as info:
            yield info
    finally:
        for handle in handles:
            handle.remove()
    assert ran == [], f"the model computed before raising: {ran} ran"


def test_the_computation_watch_sees_an_ordinary_forward_pass():
    """The check above is not vacuous: on valid input the watched layers do run, and the watch says so."""
    model = AlbertModel(albert_config()).eval()
    with pytest.raises(AssertionError, match=r"the model computed before raising: \['embeddings.word_embeddings'"):
        with raises_before_computation(model, ValueError, "never raised"):
            model(token_ids())
            raise ValueError("never raised")


@pytest.fixture(scope="module", params=["AlbertModel", "BertModel"])
def model(request) -> torch.nn.Module:
    """AlbertModel and BertModel share the input checks; every model-input test runs on both."""
    torch.manual_seed(0)
    if request.param == "AlbertModel":
        return AlbertModel(albert_config()).eval()
    return BertModel(bert_config()).eval()


def input_width(model: torch.nn.Module) -> int:
    """The last size of inputs_embeds: E for ALBERT (factorized embeddings), H for BERT (E = H)."""
    return model.config.embedding_size if isinstance(model, AlbertModel) else model.config.hidden_size


# ---------------------------------------------------------------------------------------------------------------
# Configs
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("config_factory", [albert_config, bert_config], ids=["AlbertConfig", "BertConfig"])
@pytest.mark.parametrize("hidden_size, num_heads", [(30, 4), (32, 5), (32, 64)])
def test_hidden_size_must_be_divisible_by_num_attention_heads(config_factory, hidden_size, num_heads):
    with pytest.raises(
        ValueError,
        match=rf"hidden_size \({hidden_size}\) must be divisible by "
        rf"num_attention_heads \({num_heads}\)",
    ):
        config_factory(hidden_size=hidden_size, num_attention_heads=num_heads)


@pytest.mark.parametrize("num_groups", [0, -1, L + 1])
def test_num_hidden_groups_must_be_between_1_and_num_hidden_layers(num_groups):
    with pytest.raises(
        ValueError,
        match=rf"num_hidden_groups must be between 1 and num_hidden_layers \({L}\), "
        rf"got {num_groups}",
    ):
        albert_config(num_hidden_groups=num_groups)


@pytest.mark.parametrize("num_groups", [1, L])
def test_num_hidden_groups_at_either_end_of_the_range_is_accepted(num_groups):
    assert albert_config(num_hidden_groups=num_groups).num_hidden_groups == num_groups


CHOICE_FIELDS = [
    # field, a plausible mistake, what is allowed
    ("hidden_act", "gelu-new", tuple(HIDDEN_ACTS)),
    ("position_embedding_type", "rotary", POSITION_EMBEDDING_TYPES),
    ("sharing", "all_shared", SHARING_STRATEGIES),
    ("attn_implementation", "flash_attention_2", ATTN_IMPLEMENTATIONS),
]


@pytest.mark.parametrize("field, value, allowed", CHOICE_FIELDS, ids=[f[0] for f in CHOICE_FIELDS])
def test_unknown_choice_in_albert_config_names_the_field_and_lists_the_allowed_values(field, value, allowed):
    with pytest.raises(ValueError, match=rf"^{field} must be one of .*got {value!r}") as info:
        albert_config(**{field: value})
    for choice in allowed:
        assert repr(choice) in str(info.value)


@pytest.mark.parametrize(
    "field, value, allowed",
    [f for f in CHOICE_FIELDS if f[0] != "sharing"],
    ids=[f[0] for f in CHOICE_FIELDS if f[0] != "sharing"],
)
def test_unknown_choice_in_bert_config_names_the_field_and_lists_the_allowed_values(field, value, allowed):
    with pytest.raises(ValueError, match=rf"^{field} must be one of .*got {value!r}") as info:
        bert_config(**{field: value})
    for choice in allowed:
        assert repr(choice) in str(info.value)


def test_the_allowed_choices_are_each_accepted():
    for field, _, allowed in CHOICE_FIELDS:
        for choice in allowed:
            assert getattr(albert_config(**{field: choice}), field) == choice


def test_config_json_that_is_not_valid_json_names_the_file(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"hidden_size": 32, "num_attention_heads": 4,', encoding="utf-8")  # cut off mid-object
    with pytest.raises(ValueError, match=rf"{re.escape(str(path))} is not valid JSON"):
        AlbertConfig.from_json_file(path)


def test_config_json_that_is_not_utf8_names_the_file(tmp_path):
    path = tmp_path / "config.json"
    path.write_bytes(b'{"hidden_act": "gelu\xff"}')
    with pytest.raises(
        ValueError,
        match=rf"{re.escape(str(path))} is not UTF-8 text \(invalid start byte at byte "
        rf"20\)",
    ):
        AlbertConfig.from_json_file(path)


def test_from_pretrained_with_an_invalid_config_json_names_the_file(tmp_path):
    (tmp_path / "config.json").write_text("not json at all", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"{re.escape(str(tmp_path / 'config.json'))} is not valid JSON"):
        AlbertModel.from_pretrained(tmp_path)


WRONG_TYPES = [
    # a key of config.json, a value of the wrong type (as a hand-edited or foreign config.json may hold), the type
    ("hidden_size", "32", "int"),
    ("num_hidden_layers", 2.0, "int"),
    ("num_attention_heads", True, "int"),  # bool is an int subclass in Python, but not a head count
    ("hidden_dropout_prob", "0.1", "float"),
    ("hidden_act", 1, "str"),
    ("classifier_dropout_prob", [0.1], "float"),
    ("vocab_size", None, "int"),  # null where a number is required
]


@pytest.mark.parametrize("key, value, type_name", WRONG_TYPES, ids=[f"{k}={v!r}" for k, v, _ in WRONG_TYPES])
def test_config_json_with_a_value_of_the_wrong_type_names_the_key_and_the_type(tmp_path, key, value, type_name):
    path = tmp_path / "config.json"
    data = albert_config().to_dict()
    data[key] = value
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(TypeError, match=rf"{key} must be of type {type_name}, got {re.escape(repr(value))}") as info:
        AlbertConfig.from_json_file(path)
    assert str(path) in str(info.value)


def test_config_json_with_wrong_types_is_refused_for_bert_too(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**bert_config().to_dict(), "intermediate_size": "37"}), encoding="utf-8")
    with pytest.raises(TypeError, match="intermediate_size must be of type int"):
        BertConfig.from_json_file(path)


def test_config_json_that_is_not_an_object_is_refused(tmp_path):
    path = tmp_path / "config.json"
    path.write_text("[1, 2, 3]", encoding="utf-8")
    with pytest.raises(TypeError, match=r"a config must be a JSON object \(dict\), got list"):
        AlbertConfig.from_json_file(path)


def test_config_json_with_id2label_keys_that_are_not_integers_names_id2label(tmp_path):
    # The reference writes id2label with string keys "0", "1", ...; a key such as "zero" is a wrong type, and the
    # error should say where it is rather than repeat int()'s "invalid literal for int() with base 10".
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps({**albert_config().to_dict(), "id2label": {"zero": "NEG", "one": "POS"}}), encoding="utf-8"
    )
    with pytest.raises((TypeError, ValueError)) as info:
        AlbertConfig.from_json_file(path)
    # The file's path holds this test's name, so look for "id2label" in the rest of the message.
    assert "id2label" in str(info.value).replace(str(path), "")


def test_config_json_with_id2label_that_is_not_an_object_is_refused(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**albert_config().to_dict(), "id2label": ["NEG", "POS"]}), encoding="utf-8")
    with pytest.raises(TypeError, match="id2label must be a JSON object, got list"):
        AlbertConfig.from_json_file(path)


IMPOSSIBLE_VALUES = [
    # a field, a value no model can use, what the message says is allowed
    ("layer_norm_eps", 0.0, "layer_norm_eps must be a small positive number"),
    ("layer_norm_eps", -1e-12, "layer_norm_eps must be a small positive number"),
    ("layer_norm_eps", float("nan"), "layer_norm_eps must be a small positive number"),
    ("layer_norm_eps", 1e30, "layer_norm_eps must be a small positive number, below 1"),
    ("initializer_range", -0.02, "initializer_range is the standard deviation .* must be between 0 and 1"),
    ("initializer_range", float("inf"), "initializer_range is the standard deviation"),
    ("initializer_range", 1e30, "initializer_range is the standard deviation .* must be between 0 and 1"),
    ("pad_token_id", V, rf"pad_token_id must be a token id, between 0 and vocab_size - 1 \({V - 1}\)"),
    ("pad_token_id", -1, "pad_token_id must be a token id"),
]


@pytest.mark.parametrize("config_factory", [albert_config, bert_config], ids=["AlbertConfig", "BertConfig"])
@pytest.mark.parametrize("field, value, message", IMPOSSIBLE_VALUES, ids=[f"{f}={v}" for f, v, _ in IMPOSSIBLE_VALUES])
def test_impossible_values_are_refused_naming_the_field(config_factory, field, value, message):
    with pytest.raises(ValueError, match=message):
        config_factory(**{field: value})


def test_a_config_changed_after_it_was_made_is_checked_again_when_a_model_is_built():
    config = albert_config()
    config.hidden_size = 30  # not divisible by N = 4, and never checked by __post_init__
    with pytest.raises(ValueError, match="hidden_size .*divisible by num_attention_heads"):
        AlbertModel(config)
    config = albert_config()
    config.layer_norm_eps = 0.0
    with pytest.raises(ValueError, match="layer_norm_eps must be a small positive number"):
        AlbertForMaskedLM(config)


def test_a_misspelled_key_in_config_json_warns_naming_it_and_the_field_it_resembles(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**albert_config().to_dict(), "num_hiden_layers": 6}), encoding="utf-8")
    with pytest.warns(
        UserWarning,
        match=r"unknown key 'num_hiden_layers' is ignored \(did you mean "
        r"'num_hidden_layers'\?\)",
    ) as record:
        config = AlbertConfig.from_json_file(path)
    assert str(path) in str(record[0].message)
    assert config.num_hidden_layers == L  # the misspelled value was not used


def test_a_label2id_that_disagrees_with_id2label_warns_and_id2label_is_used(tmp_path):
    path = tmp_path / "config.json"
    saved = albert_config(id2label={0: "no", 1: "yes"}).to_dict()
    assert saved["label2id"] == {"no": 0, "yes": 1}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # as saved: no warning
        AlbertConfig.from_dict(saved)
    path.write_text(json.dumps({**saved, "label2id": {"no": 1, "yes": 0}}), encoding="utf-8")
    with pytest.warns(
        UserWarning, match=re.escape(f"{path}: label2id {{'no': 1, 'yes': 0}} is not the inverse of id2label")
    ):
        config = AlbertConfig.from_json_file(path)
    assert config.id2label == {0: "no", 1: "yes"} and config.to_dict()["label2id"] == {"no": 0, "yes": 1}
    # Indices written as strings are the same indices; new labels passed on top of a file's own consistent pair
    # (as fine-tuning does): no warning either way.
    path.write_text(json.dumps({**saved, "label2id": {"no": "0", "yes": "1"}}), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        AlbertConfig.from_json_file(path)
    path.write_text(json.dumps(saved), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert AlbertConfig.from_json_file(path, id2label={0: "a", 1: "b", 2: "c"}).num_labels == 3


def test_an_override_that_is_not_a_field_is_refused():
    with pytest.raises(TypeError, match=r"AlbertConfig has no field 'hiden_size' \(did you mean 'hidden_size'\?\)"):
        AlbertConfig.from_dict(albert_config().to_dict(), hiden_size=64)


# ---------------------------------------------------------------------------------------------------------------
# Model inputs: AlbertModel and BertModel
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad_id", [-1, V, V + 1000])
def test_input_ids_outside_the_vocabulary_are_refused(model, bad_id):
    input_ids = token_ids()
    input_ids[1, 3] = bad_id
    with raises_before_computation(
        model,
        ValueError,
        rf"input_ids must be in \[0, {V}\) \(vocab_size = {V}\), "
        rf"found {bad_id}",
    ):
        model(input_ids)


@pytest.mark.parametrize(
    "input_ids",
    [token_ids().float(), token_ids().bool(), token_ids()[0], token_ids()[None], [[1, 2, 3]]],
    ids=["float", "bool", "1-D", "3-D", "list"],
)
def test_input_ids_must_be_an_integer_tensor_of_shape_batch_by_sequence(model, input_ids):
    with raises_before_computation(model, TypeError, r"input_ids must be an? .*tensor of shape \(batch, sequence\)"):
        model(input_ids)


@pytest.mark.parametrize("bad_type", [-1, 2, 7])
def test_token_type_ids_outside_type_vocab_size_are_refused(model, bad_type):
    token_type_ids = torch.zeros(B, T, dtype=torch.long)
    token_type_ids[0, -1] = bad_type
    with raises_before_computation(
        model,
        ValueError,
        rf"token_type_ids must be in \[0, 2\) "
        rf"\(type_vocab_size = 2\), found {bad_type}",
    ):
        model(token_ids(), token_type_ids=token_type_ids)


def test_token_type_ids_must_be_integers(model):
    # Without a check, nn.Embedding raises a RuntimeError about "argument #1 'indices'" from inside torch.
    with raises_before_computation(model, TypeError, r"token_type_ids must be an integer tensor"):
        model(token_ids(), token_type_ids=torch.zeros(B, T))


def test_token_type_ids_of_the_wrong_shape_are_refused(model):
    with raises_before_computation(
        model,
        ValueError,
        rf"token_type_ids must have shape \(batch, sequence\) = "
        rf"\({B}, {T}\)",
    ):
        model(token_ids(), token_type_ids=torch.zeros(B, T + 1, dtype=torch.long))


def test_a_sequence_longer_than_max_position_embeddings_is_refused(model):
    with raises_before_computation(
        model,
        ValueError,
        rf"the sequence has {P + 1} tokens but the model accepts at "
        rf"most max_position_embeddings = {P}",
    ):
        model(token_ids(1, P + 1))


def test_inputs_embeds_longer_than_max_position_embeddings_are_refused(model):
    with raises_before_computation(model, ValueError, rf"max_position_embeddings = {P}"):
        model(inputs_embeds=torch.randn(1, P + 1, input_width(model)))


def test_a_sequence_of_exactly_max_position_embeddings_tokens_runs(model):
    with torch.no_grad():
        output = model(token_ids(1, P))
    assert output.last_hidden_state.shape == (1, P, H)


def test_input_ids_and_inputs_embeds_together_are_refused(model):
    with raises_before_computation(model, ValueError, "pass exactly one of input_ids and inputs_embeds, not both"):
        model(token_ids(), inputs_embeds=torch.randn(B, T, input_width(model)))


def test_neither_input_ids_nor_inputs_embeds_is_refused(model):
    with raises_before_computation(model, ValueError, "pass exactly one of input_ids and inputs_embeds, not neither"):
        model(attention_mask=torch.ones(B, T))


@pytest.mark.parametrize("extra", [+1, -1])
def test_inputs_embeds_of_the_wrong_width_are_refused(model, extra):
    width = input_width(model)
    with raises_before_computation(
        model,
        ValueError,
        rf"inputs_embeds must have shape \(batch, sequence, {width}\), "
        rf"got .* \({B}, {T}, {width + extra}\)",
    ):
        model(inputs_embeds=torch.randn(B, T, width + extra))


def test_inputs_embeds_wider_than_the_model_are_refused(model):
    width = input_width(model)
    with raises_before_computation(
        model,
        TypeError,
        r"inputs_embeds must be in the model's dtype \(torch.float32\) "
        r"or a narrower one, got torch.float64: convert them with "
        r"inputs_embeds.to\(model.dtype\)",
    ):
        model(inputs_embeds=torch.randn(B, T, width, dtype=torch.float64))
    embeds = torch.randn(B, T, width)
    with torch.no_grad():
        expected = model(inputs_embeds=embeds.bfloat16().float()).last_hidden_state
        # Narrower: widened by the first addition, as in the reference.
        torch.testing.assert_close(model(inputs_embeds=embeds.bfloat16()).last_hidden_state, expected)
        with torch.autocast("cpu", dtype=torch.bfloat16):  # as under `--precision bf16`
            model(inputs_embeds=embeds.bfloat16())


@pytest.mark.parametrize("shape", [(B, T + 1), (B, T - 1), (B + 1, T), (B,), (B * T,), (T, B)])
def test_attention_mask_of_the_wrong_shape_is_refused(model, shape):
    with raises_before_computation(
        model,
        ValueError,
        rf"attention_mask must have shape \(batch, sequence\) = "
        rf"\({B}, {T}\), got .*{re.escape(str(shape))}",
    ):
        model(token_ids(), attention_mask=torch.ones(shape))


@pytest.mark.parametrize("shape", [(N + 1,), (N - 1,), (L + 1, N), (L - 1, N), (L, N + 1), (L, N, 1), (1, 1, N)])
def test_head_mask_of_the_wrong_shape_is_refused(model, shape):
    with raises_before_computation(
        model,
        ValueError,
        rf"head_mask must have shape \(num_attention_heads,\) = "
        rf"\({N},\) or \(layer applications, num_attention_heads\) = "
        rf"\({L}, {N}\), got {re.escape(str(shape))}",
    ):
        model(token_ids(), head_mask=torch.ones(shape))


@pytest.mark.parametrize(
    "dtype, bad_value",
    [(torch.float32, 2.0), (torch.float32, 0.5), (torch.float32, -1.0), (torch.int64, 2), (torch.int64, -1)],
)
def test_attention_mask_values_other_than_0_and_1_are_refused(model, dtype, bad_value):
    mask = torch.ones(B, T, dtype=dtype)
    mask[1, 2] = bad_value
    with raises_before_computation(
        model,
        ValueError,
        r"attention_mask must hold only 1 \(a token\) and 0 "
        rf"\(padding\), found {bad_value}",
    ):
        model(token_ids(), attention_mask=mask)


@pytest.mark.parametrize("dtype", [torch.bool, torch.int64, torch.float32])
def test_attention_mask_of_0_and_1_in_any_dtype_gives_the_same_output(model, dtype):
    mask = torch.ones(B, T, dtype=torch.long)
    mask[1, 3:] = 0
    with torch.no_grad():
        expected = model(token_ids(), attention_mask=mask).last_hidden_state
        torch.testing.assert_close(model(token_ids(), attention_mask=mask.to(dtype)).last_hidden_state, expected)


def test_a_complex_attention_mask_is_refused(model):
    # 1 + 0j equals 1, so the value check alone would let it through and torch would drop the imaginary part.
    with raises_before_computation(
        model,
        TypeError,
        r"attention_mask must be a tensor of 0s and 1s \(integer, bool "
        r"or float\), got a torch.complex64 tensor",
    ):
        model(token_ids(), attention_mask=torch.ones(B, T, dtype=torch.complex64))


@pytest.mark.parametrize("bad_value", [float("nan"), float("inf"), float("-inf")])
def test_inputs_embeds_that_are_not_finite_are_refused(model, bad_value):
    inputs_embeds = torch.randn(B, T, input_width(model))
    inputs_embeds[0, 1, 2] = bad_value
    with raises_before_computation(
        model,
        ValueError,
        rf"inputs_embeds must be finite \(no inf or nan\), "
        rf"found {bad_value}",
    ):
        model(inputs_embeds=inputs_embeds)


@pytest.mark.parametrize("shape", [(N,), (L, N)])
def test_head_mask_that_is_not_finite_is_refused(model, shape):
    head_mask = torch.ones(shape)
    head_mask.view(-1)[1] = float("nan")
    with raises_before_computation(model, ValueError, r"head_mask must be finite \(no inf or nan\), found nan"):
        model(token_ids(), head_mask=head_mask)


def test_the_value_checks_of_a_forward_pass_ask_the_device_once(model, monkeypatch):
    """Every value check of AlbertModel's inputs is decided by one bool() of one tensor: on a GPU, one
    synchronisation per forward pass (counted here by wrapping Tensor.__bool__, which `if tensor:` calls)."""
    calls = []
    original = torch.Tensor.__bool__
    monkeypatch.setattr(torch.Tensor, "__bool__", lambda self: calls.append(self.shape) or original(self))
    mask = torch.ones(B, T, dtype=torch.long)
    with torch.no_grad():
        model(
            token_ids(),
            attention_mask=mask,
            token_type_ids=torch.zeros(B, T, dtype=torch.long),
            position_ids=torch.arange(T),
            head_mask=torch.ones(N),
        )
    assert len(calls) == 1, calls


def test_head_mask_that_is_not_a_tensor_is_refused(model):
    with raises_before_computation(model, TypeError, "head_mask must be a tensor, got list"):
        model(token_ids(), head_mask=[1.0] * N)


@pytest.mark.parametrize("shape", [(N,), (L, N)])
def test_head_mask_of_either_allowed_shape_runs(model, shape):
    with torch.no_grad():
        assert model(token_ids(), head_mask=torch.ones(shape)).last_hidden_state.shape == (B, T, H)


def test_head_mask_rows_count_layer_applications_when_groups_hold_several_layers():
    """With inner_group_num = 2 a forward pass runs L x 2 layers, so a per-layer head_mask has L x 2 rows."""
    model = AlbertModel(albert_config(inner_group_num=2)).eval()
    with raises_before_computation(
        model,
        ValueError,
        rf"\(layer applications, num_attention_heads\) = "
        rf"\({2 * L}, {N}\), got \({L}, {N}\)",
    ):
        model(token_ids(), head_mask=torch.ones(L, N))


@pytest.mark.parametrize("bad_position", [-1, P])
def test_position_ids_outside_max_position_embeddings_are_refused(model, bad_position):
    position_ids = torch.arange(T).expand(B, T).clone()
    position_ids[1, 0] = bad_position
    with raises_before_computation(
        model,
        ValueError,
        rf"position_ids must be in \[0, {P}\) "
        rf"\(max_position_embeddings = {P}\), found {bad_position}",
    ):
        model(token_ids(), position_ids=position_ids)


def test_position_ids_must_be_integers(model):
    with raises_before_computation(model, TypeError, r"position_ids must be an integer tensor"):
        model(token_ids(), position_ids=torch.arange(T).float())


@pytest.mark.parametrize("shape", [(), (1, 1, T)], ids=["0-d", "3-d"])
def test_position_ids_of_no_or_too_many_dimensions_name_the_allowed_shapes(model, shape):
    # A 0-d tensor has no last axis: without the check, indexing its shape raised an IndexError from inside the check.
    position_ids = torch.arange(T).reshape(shape) if shape else torch.tensor(3)
    with raises_before_computation(
        model,
        ValueError,
        rf"position_ids must have shape \(batch, sequence\), "
        rf"\(1, sequence\) or \(sequence,\) with sequence = {T}",
    ):
        model(token_ids(), position_ids=position_ids)


@pytest.mark.parametrize(
    "argument, exception, expected",
    [
        (
            "input_ids",
            TypeError,
            r"input_ids must be an int64 or int32 tensor of shape \(batch, sequence\), got a list",
        ),
        ("inputs_embeds", ValueError, r"inputs_embeds must have shape \(batch, sequence, \d+\), got a list"),
        (
            "attention_mask",
            ValueError,
            rf"attention_mask must have shape \(batch, sequence\) = \({B}, {T}\), got a list",
        ),
        (
            "token_type_ids",
            ValueError,
            rf"token_type_ids must have shape \(batch, sequence\) = \({B}, {T}\), got a list",
        ),
        ("position_ids", ValueError, r"position_ids must have shape .* got a list"),
        ("head_mask", TypeError, r"head_mask must be a tensor, got list"),
    ],
    ids=lambda value: value if isinstance(value, str) and value.isidentifier() else "",
)
def test_a_list_where_a_tensor_belongs_is_named(model, argument, exception, expected):
    # Lists are what a student has after tokenizing without return_tensors="pt".
    as_list = {
        "input_ids": token_ids().tolist(),
        "inputs_embeds": torch.zeros(B, T, E).tolist(),
        "attention_mask": [[1] * T] * B,
        "token_type_ids": [[0] * T] * B,
        "position_ids": list(range(T)),
        "head_mask": [1.0] * N,
    }[argument]
    inputs = {} if argument == "inputs_embeds" else {"input_ids": token_ids()}
    inputs[argument] = as_list
    with raises_before_computation(model, exception, expected):
        model(**inputs)


# ---------------------------------------------------------------------------------------------------------------
# Labels of the task heads
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def masked_lm() -> AlbertForMaskedLM:
    torch.manual_seed(0)
    return AlbertForMaskedLM(albert_config()).eval()


@pytest.mark.parametrize("shape", [(B, T + 1), (B, T - 1), (B * T,), (B, T, 1), (B + 1, T)])
def test_masked_lm_labels_must_have_the_shape_of_input_ids(masked_lm, shape):
    with raises_before_computation(
        masked_lm,
        ValueError,
        rf"labels must have the shape of input_ids \({B}, {T}\), "
        rf"got {re.escape(str(shape))}",
    ):
        masked_lm(token_ids(), labels=torch.zeros(shape, dtype=torch.long))


@pytest.mark.parametrize("bad_label", [V, -1, -99, -101])
def test_masked_lm_labels_outside_the_vocabulary_are_refused(masked_lm, bad_label):
    labels = torch.full((B, T), -100)
    labels[0, 2] = bad_label
    with raises_before_computation(
        masked_lm,
        ValueError,
        rf"labels must be -100 \(ignored\) or in \[0, {V}\) "
        rf"\(vocab_size = {V}\), found {bad_label}",
    ):
        masked_lm(token_ids(), labels=labels)


def test_masked_lm_labels_must_be_integers(masked_lm):
    with raises_before_computation(masked_lm, TypeError, "labels must be an integer tensor"):
        masked_lm(token_ids(), labels=torch.zeros(B, T))


def test_masked_lm_label_minus_100_is_allowed_and_ignored_by_the_loss(masked_lm):
    labels = torch.full((B, T), -100)
    labels[0, 1], labels[1, 4] = 7, V - 1
    with torch.no_grad():
        output = masked_lm(token_ids(), labels=labels)
    # Independent computation: cross-entropy over the two labelled positions only.
    picked = torch.stack([output.logits[0, 1], output.logits[1, 4]])  # (2, V)
    expected = torch.nn.functional.cross_entropy(picked, torch.tensor([7, V - 1]))
    torch.testing.assert_close(output.loss, expected)


@pytest.fixture(scope="module")
def sequence_classifier() -> AlbertForSequenceClassification:
    torch.manual_seed(0)
    return AlbertForSequenceClassification(albert_config(num_labels=3)).eval()


@pytest.mark.parametrize("bad_label", [3, -1, -100])
def test_single_label_classification_labels_outside_num_labels_are_refused(sequence_classifier, bad_label):
    # -100 is not an "ignore" value here: the reference's sequence loss ignores nothing.
    with raises_before_computation(sequence_classifier, ValueError, rf"labels must be in \[0, 3\), found {bad_label}"):
        sequence_classifier(token_ids(), labels=torch.tensor([0, bad_label]))


@pytest.mark.parametrize("shape", [(B + 1,), (B, 3), (1,)])
def test_single_label_classification_labels_must_have_one_class_per_example(sequence_classifier, shape):
    with raises_before_computation(
        sequence_classifier,
        ValueError,
        rf"labels must have shape \(batch,\) = \({B},\), "
        rf"got {re.escape(str(shape))}",
    ):
        sequence_classifier(token_ids(), labels=torch.zeros(shape, dtype=torch.long))


def test_multi_label_classification_labels_must_be_batch_by_num_labels(sequence_classifier):
    with raises_before_computation(
        sequence_classifier,
        ValueError,
        rf"multi-label labels must have shape "
        rf"\(batch, num_labels\) = \({B}, 3\)",
    ):
        sequence_classifier(token_ids(), labels=torch.zeros(B, 4))  # float labels: multi-label, as the reference


@pytest.mark.parametrize("bad_value", [1.5, -0.25, float("nan")])
def test_multi_label_classification_labels_outside_0_to_1_are_refused(sequence_classifier, bad_value):
    labels = torch.tensor([[0.0, 1.0, 0.5], [1.0, bad_value, 0.0]])
    with raises_before_computation(
        sequence_classifier,
        ValueError,
        rf"multi-label labels must be between 0 and 1 "
        rf"\(each label's probability.*\), found "
        rf"{re.escape(str(bad_value))}",
    ):
        sequence_classifier(token_ids(), labels=labels)


@pytest.mark.parametrize("bad_value", [float("nan"), float("inf")])
def test_regression_labels_that_are_not_finite_are_refused(bad_value):
    torch.manual_seed(0)
    regressor = AlbertForSequenceClassification(albert_config(num_labels=1)).eval()
    with raises_before_computation(
        regressor,
        ValueError,
        rf"regression labels must be finite \(no inf or nan\), "
        rf"found {bad_value}",
    ):
        regressor(token_ids(), labels=torch.tensor([0.5, bad_value]))
    with torch.no_grad():
        assert torch.isfinite(regressor(token_ids(), labels=torch.tensor([0.5, -3.0])).loss)


@pytest.fixture(scope="module")
def token_classifier() -> AlbertForTokenClassification:
    torch.manual_seed(0)
    return AlbertForTokenClassification(albert_config(num_labels=3)).eval()


@pytest.mark.parametrize("bad_label", [3, -1])
def test_token_classification_labels_outside_num_labels_are_refused(token_classifier, bad_label):
    labels = torch.zeros(B, T, dtype=torch.long)
    labels[1, 1] = bad_label
    with raises_before_computation(
        token_classifier,
        ValueError,
        rf"labels must be -100 \(ignored\) or in \[0, 3\) "
        rf"\(num_labels = 3\), found {bad_label}",
    ):
        token_classifier(token_ids(), labels=labels)


def test_token_classification_labels_must_have_the_shape_of_input_ids(token_classifier):
    with raises_before_computation(
        token_classifier,
        ValueError,
        rf"labels must have the shape of input_ids "
        rf"\({B}, {T}\), got \({B}, {T - 1}\)",
    ):
        token_classifier(token_ids(), labels=torch.zeros(B, T - 1, dtype=torch.long))


def test_token_classification_label_minus_100_is_allowed(token_classifier):
    labels = torch.full((B, T), -100)
    labels[0, 0] = 2
    with torch.no_grad():
        output = token_classifier(token_ids(), labels=labels)
    expected = torch.nn.functional.cross_entropy(output.logits[0, 0][None], torch.tensor([2]))
    torch.testing.assert_close(output.loss, expected)


@pytest.mark.parametrize("head", ["token_classifier", "masked_lm", "pretraining"])
def test_labels_that_are_all_minus_100_are_refused_rather_than_giving_a_nan_loss(head, request):
    """Cross-entropy averages over the labelled positions; over none it is 0 / 0, and the reference returns NaN."""
    model = request.getfixturevalue(head)
    extra = {"sentence_order_label": torch.tensor([0, 1])} if head == "pretraining" else {}
    with raises_before_computation(
        model,
        ValueError,
        r"labels holds only -100 \(ignored\): no position takes part "
        r"in the loss, which would be NaN; label at least one position",
    ):
        model(token_ids(), labels=torch.full((B, T), -100), **extra)


@pytest.fixture(scope="module")
def multiple_choice() -> AlbertForMultipleChoice:
    torch.manual_seed(0)
    return AlbertForMultipleChoice(albert_config()).eval()  # num_labels = 2: irrelevant to multiple choice


@pytest.mark.parametrize("num_choices, bad_label", [(3, 3), (3, -1), (4, 4)])
def test_multiple_choice_labels_must_index_one_of_the_choices(multiple_choice, num_choices, bad_label):
    input_ids = torch.randint(0, V, (B, num_choices, T))
    with raises_before_computation(
        multiple_choice,
        ValueError,
        rf"labels must be in \[0, {num_choices}\), "
        rf"found {bad_label}",
    ):
        multiple_choice(input_ids, labels=torch.tensor([0, bad_label]))


def test_multiple_choice_labels_follow_the_number_of_choices_not_num_labels(multiple_choice):
    # Four choices, config.num_labels = 2: label 3 (the fourth choice) is valid.
    with torch.no_grad():
        output = multiple_choice(torch.randint(0, V, (B, 4, T)), labels=torch.tensor([3, 2]))
    assert output.logits.shape == (B, 4)
    torch.testing.assert_close(output.loss, torch.nn.functional.cross_entropy(output.logits, torch.tensor([3, 2])))


def test_multiple_choice_labels_must_have_one_answer_per_example(multiple_choice):
    with raises_before_computation(multiple_choice, ValueError, rf"labels must have shape \(batch,\) = \({B},\)"):
        multiple_choice(torch.randint(0, V, (B, 3, T)), labels=torch.zeros(B, 3, dtype=torch.long))


@pytest.mark.parametrize("argument", ["attention_mask", "token_type_ids", "position_ids"])
def test_multiple_choice_tensors_with_batch_and_choice_axes_swapped_are_refused(multiple_choice, argument):
    # (choices, batch, sequence) flattens to the same (batch * choices, sequence) as the inputs, so without the check
    # each choice would be read with another example's mask, silently.
    num_choices = 3
    swapped = torch.zeros(num_choices, B, T, dtype=torch.long)
    if argument == "attention_mask":
        swapped += 1
    expected = (
        rf"{argument} must have the shape of the inputs, \(batch, choices, sequence\) = "
        rf"\({B}, {num_choices}, {T}\), got .* \({num_choices}, {B}, {T}\)"
    )
    with raises_before_computation(multiple_choice, ValueError, expected):
        multiple_choice(torch.randint(0, V, (B, num_choices, T)), **{argument: swapped})


def test_multiple_choice_inputs_with_swapped_axes_are_caught_by_their_labels(multiple_choice):
    num_choices = 3
    inputs = torch.randint(0, V, (B, num_choices, T)).transpose(0, 1)  # (choices, batch, sequence)
    with raises_before_computation(multiple_choice, ValueError, r"are the batch and choice axes swapped\?"):
        multiple_choice(inputs, labels=torch.tensor([0, 2]))


def test_multiple_choice_input_ids_must_have_a_choices_dimension(multiple_choice):
    with raises_before_computation(
        multiple_choice,
        ValueError,
        r"input_ids must have shape "
        r"\(batch, choices, sequence\) for multiple choice",
    ):
        multiple_choice(token_ids(), labels=torch.tensor([0, 1]))


@pytest.fixture(scope="module")
def pretraining() -> AlbertForPreTraining:
    torch.manual_seed(0)
    return AlbertForPreTraining(albert_config()).eval()


@pytest.mark.parametrize("bad_label", [2, -1, -100])
def test_sentence_order_label_outside_0_and_1_is_refused(pretraining, bad_label):
    with raises_before_computation(
        pretraining,
        ValueError,
        rf"sentence_order_label must be in \[0, 2\), "
        rf"found {bad_label}",
    ):
        pretraining(token_ids(), sentence_order_label=torch.tensor([bad_label, 0]))


def test_sentence_order_label_must_have_one_label_per_example(pretraining):
    with raises_before_computation(
        pretraining,
        ValueError,
        rf"sentence_order_label must have shape \(batch,\) = "
        rf"\({B},\), got \({B}, 2\)",
    ):
        pretraining(token_ids(), sentence_order_label=torch.zeros(B, 2, dtype=torch.long))


def test_pretraining_mlm_labels_outside_the_vocabulary_are_refused(pretraining):
    labels = torch.full((B, T), -100)
    labels[1, 0] = V
    with raises_before_computation(pretraining, ValueError, rf"labels must be -100 \(ignored\) or in \[0, {V}\)"):
        pretraining(token_ids(), labels=labels, sentence_order_label=torch.tensor([0, 1]))


def test_question_answering_positions_must_have_one_per_example():
    model = AlbertForQuestionAnswering(albert_config()).eval()
    with raises_before_computation(model, ValueError, rf"start_positions must have shape \(batch,\) = \({B},\)"):
        model(
            token_ids(),
            start_positions=torch.zeros(B + 1, dtype=torch.long),
            end_positions=torch.zeros(B, dtype=torch.long),
        )


def test_question_answering_positions_come_in_pairs_and_are_not_negative():
    model = AlbertForQuestionAnswering(albert_config()).eval()
    with raises_before_computation(model, ValueError, "start_positions is given without its partner"):
        model(token_ids(), start_positions=torch.zeros(B, dtype=torch.long))  # the reference returns no loss
    with raises_before_computation(model, ValueError, r"end_positions must be 0 or more .*, found -3"):
        model(
            token_ids(), start_positions=torch.zeros(B, dtype=torch.long), end_positions=torch.tensor([1, -3])
        )  # the reference would train towards [CLS]
    truncated = torch.tensor([1, T + 5])  # the second answer was truncated away: ignored, as in the reference
    assert torch.isfinite(model(token_ids(), start_positions=truncated, end_positions=truncated).loss)
    past_the_end = torch.full((B,), T + 5)  # every answer ignored: the reference's loss is 0 / 0 = NaN
    with raises_before_computation(
        model,
        ValueError,
        rf"every one of start_positions is at or past the sequence's "
        rf"end \({T}\): the loss ignores them all and would be NaN",
    ):
        model(token_ids(), start_positions=past_the_end, end_positions=past_the_end)


@pytest.mark.parametrize(
    "head", ["sequence_classifier", "token_classifier", "multiple_choice", "question_answering", "pretraining"]
)
def test_labels_for_an_empty_batch_are_refused_rather_than_giving_a_nan_loss(head, request):
    empty = torch.zeros(0, T, dtype=torch.long)
    labels = {
        "sequence_classifier": {"labels": torch.zeros(0, dtype=torch.long)},
        "token_classifier": {"labels": torch.zeros(0, T, dtype=torch.long)},
        "multiple_choice": {"labels": torch.zeros(0, dtype=torch.long)},
        "question_answering": {"start_positions": empty[:, 0], "end_positions": empty[:, 0]},
        "pretraining": {"labels": empty, "sentence_order_label": empty[:, 0]},
    }[head]
    if head == "question_answering":
        model = AlbertForQuestionAnswering(albert_config()).eval()
    else:
        model = request.getfixturevalue(head)
    inputs = torch.zeros(0, 3, T, dtype=torch.long) if head == "multiple_choice" else empty
    name = "start_positions" if head == "question_answering" else "labels"
    with raises_before_computation(
        model,
        ValueError,
        rf"{name} given for an empty batch \(batch size 0\): a loss "
        rf"over no examples would be NaN",
    ):
        model(inputs, **labels)


def test_multiple_choice_with_no_choices_is_refused(multiple_choice):
    with raises_before_computation(
        multiple_choice,
        ValueError,
        rf"input_ids has no choices: shape \(batch, choices, "
        rf"sequence\) = \({B}, 0, {T}\)",
    ):
        multiple_choice(torch.zeros(B, 0, T, dtype=torch.long))


@pytest.mark.parametrize("load", [AlbertModel.from_pretrained, AlbertTokenizer.from_pretrained])
@pytest.mark.parametrize("value", [None, 3])
def test_from_pretrained_without_a_path_names_the_argument(load, value):
    with pytest.raises(TypeError, match=rf"must be a .* \(a str or a path\), got {type(value).__name__}"):
        load(value)


def test_task_heads_check_their_inputs_like_albert_model():
    """A head passes its inputs to AlbertModel's checks, so an id outside the vocabulary is refused there too."""
    model = AlbertForSequenceClassification(albert_config()).eval()
    input_ids = token_ids()
    input_ids[0, 0] = V
    with raises_before_computation(model, ValueError, rf"input_ids must be in \[0, {V}\)"):
        model(input_ids, labels=torch.tensor([0, 1]))


# ---------------------------------------------------------------------------------------------------------------
# From the third adversarial review
# ---------------------------------------------------------------------------------------------------------------


def test_int32_labels_are_named_before_torchs_cross_entropy_refuses_them(sequence_classifier, token_classifier):
    """cross_entropy takes int64 class indices only; int32 labels passed our checks and failed inside torch."""
    message = r"labels must be an integer tensor of dtype int64 \(torch.long\), got a torch.int32 tensor"
    with raises_before_computation(sequence_classifier, TypeError, message):
        sequence_classifier(token_ids(), labels=torch.tensor([0, 1], dtype=torch.int32))
    with raises_before_computation(token_classifier, TypeError, message):
        token_classifier(token_ids(), labels=torch.zeros(B, T, dtype=torch.int32))


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("output_dir", "", "output_dir must name a directory, got an empty string"),
        ("seed", 2**64, f"seed must be an integer in \\[0, 2\\*\\*63\\), got {2**64}"),
        ("num_threads", 10_000, r"num_threads must be at most the number of CPUs here \(\d+\), got 10000"),
    ],
)
def test_run_settings_that_would_misplace_or_stall_a_run_are_refused(field, value, message, tmp_path):
    """An empty --output-dir wrote the run into the current directory; a seed past 64 bits failed with "Overflow when
    unpacking long long"; 10,000 threads on 2 CPUs made a 2-second run take 91 seconds."""
    from albert_explained.finetuning.run import FinetuningConfig
    from albert_explained.pretraining.run import PretrainingConfig

    for config in (
        FinetuningConfig(task="sequence-classification", output_dir=str(tmp_path)),
        PretrainingConfig(output_dir=str(tmp_path)),
    ):
        setattr(config, field, value)
        with pytest.raises(ValueError, match=message):
            config.check()


def test_fill_mask_refuses_a_model_whose_mlm_head_was_not_in_its_checkpoint(tmp_path, capsys):
    """A fine-tuned task model has no MLM head: loaded for fill-mask, the head is random and its answers noise."""
    from albert_explained.bundled import BUNDLED_MODEL_DIR
    from albert_explained.cli import main
    from albert_explained.tokenizer import AlbertTokenizer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fresh classifier's warning
        AlbertForSequenceClassification.from_pretrained(BUNDLED_MODEL_DIR).save_pretrained(tmp_path)
    AlbertTokenizer.from_pretrained(BUNDLED_MODEL_DIR).save_pretrained(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # from_pretrained's own warning about the same weights
        assert main(["fill-mask", "To be, or not to [MASK]", "--model", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "the model's masked-language-model head was not in its checkpoint (predictions." in error
    assert "fill-mask needs a pretrained checkpoint" in error


def test_a_tokenizer_and_a_config_of_different_vocabularies_are_refused_together(tmp_path, plays_tokenizer):
    """A 300-piece spiece.model beside a config of 4,000 words loaded and gave ids that name other pieces' rows."""
    import shutil

    from albert_explained.bundled import BUNDLED_MODEL_DIR, load_pretrained

    shutil.copytree(BUNDLED_MODEL_DIR, tmp_path / "model")
    shutil.copy(plays_tokenizer.vocab_file, tmp_path / "model" / "spiece.model")
    with pytest.raises(
        ValueError,
        match=r"spiece.model has 300 pieces but .*config.json says vocab_size = 4,000: the "
        r"tokenizer and the model were not made together",
    ):
        load_pretrained(tmp_path / "model")


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(num_hidden_layers=10**8), r"at most 1,000 layer applications per forward pass, got 100,000,000 x 1"),
        (dict(inner_group_num=10**6), r"at most 1,000 layer applications per forward pass, got 2 x 1,000,000"),
    ],
)
def test_a_config_asking_for_millions_of_layers_is_refused_before_anything_is_built(tmp_path, overrides, message):
    """A shared layer costs no memory, so only the count of layer applications stops a forward pass that would never
    end (or, for inner_group_num, a million modules built one by one)."""
    with pytest.raises(ValueError, match=message):
        albert_config(**overrides)
    AlbertForMaskedLM(albert_config()).save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, **overrides}))
    with pytest.raises(ValueError, match=message):
        AlbertForMaskedLM.from_pretrained(tmp_path)
    with pytest.raises(ValueError, match="num_hidden_layers must be at most 1,000, got 5,000"):
        bert_config(num_hidden_layers=5000)


@pytest.mark.parametrize(
    "text, reason",
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"hidden_size": ' + "9" * 5000 + "}", "Exceeds the limit .* for integer string conversion"),
    ],
)
@pytest.mark.parametrize("name", ["config.json", "tokenizer_config.json"])
def test_json_that_python_cannot_parse_is_one_error_naming_the_file(tmp_path, text, reason, name):
    """Deep nesting is a RecursionError and a huge integer a ValueError about digits, deep inside json: both are
    reported as the file not being valid JSON, with the file's name."""
    from albert_explained.bundled import BUNDLED_MODEL_DIR

    for file in ("config.json", "spiece.model"):
        (tmp_path / file).write_bytes((BUNDLED_MODEL_DIR / file).read_bytes())
    (tmp_path / name).write_text(text)
    load = AlbertConfig.from_json_file if name == "config.json" else AlbertTokenizer.from_pretrained
    with pytest.raises(ValueError, match=rf"{re.escape(str(tmp_path / name))} is not valid JSON: {reason}"):
        load(tmp_path / name if name == "config.json" else tmp_path)


def test_the_view_and_count_functions_name_a_wrong_argument():
    import torch as t

    from albert_explained import count_parameters
    from albert_explained.fill_mask import fill_mask
    from albert_explained.views.page import attention_html
    from albert_explained.views.sample import AttentionSample

    sample = AttentionSample(tokens=["a", "b"], attentions=t.full((2, 2, 2, 2), 0.5), input_ids=t.arange(2))
    with pytest.raises(ValueError, match=r"include_layers must list one or more layers in \[0, 2\), got \[\]"):
        attention_html(sample, include_layers=[])
    with pytest.raises(ValueError, match=r"include_layers must list one or more layers in \[0, 2\), got \[5\]"):
        attention_html(sample, include_layers=[5])
    with pytest.raises(TypeError, match="title must be a string .*, got int"):
        attention_html(sample, title=5)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module .*, got str"):
        count_parameters("x")
    long_text = r"text has no \[MASK\] to fill in: 'word word .*\.\.\. \(100,000 characters\)"
    with pytest.raises(ValueError, match=long_text):
        fill_mask("word " * 20_000)
