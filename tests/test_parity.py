"""Every model class against transformers 4.56.2, the reference: same outputs, hidden states, attentions and losses.

Weights are random (and larger than the default initialisation, so that every path matters), created on one side,
saved with that side's save_pretrained and loaded by the other side's from_pretrained: both directions of the
checkpoint format are exercised by every comparison.
"""

import math
import warnings
import zlib

import pytest
import torch
import transformers

import albert_explained as ours
from albert_explained.bert import BertModel

ATOL = 1e-5  # float32

# Several configs: groups, inner groups, each activation, each position type, both attention paths.
CONFIGS = {
    "base-like": dict(
        num_hidden_layers=3, hidden_act="gelu_new", position_embedding_type="absolute", attn_implementation="sdpa"
    ),
    "groups+inner": dict(
        num_hidden_layers=4,
        num_hidden_groups=2,
        inner_group_num=2,
        hidden_act="gelu",
        position_embedding_type="relative_key",
        attn_implementation="eager",
    ),
    "three-groups": dict(
        num_hidden_layers=6,
        num_hidden_groups=3,
        hidden_act="relu",
        position_embedding_type="relative_key_query",
        attn_implementation="eager",
    ),
    "silu-eager": dict(num_hidden_layers=2, hidden_act="silu", attn_implementation="eager"),
}
SIZES = dict(
    vocab_size=99,
    embedding_size=16,
    hidden_size=32,
    num_attention_heads=4,
    intermediate_size=37,
    max_position_embeddings=40,
    type_vocab_size=2,
)
BATCH, SEQ, CHOICES = 3, 12, 3


def randomize(model: torch.nn.Module, seed: int) -> None:
    """Weights far from the initialisation: std 0.2 everywhere, LayerNorm scales around 1."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            noise = torch.randn(param.shape, generator=generator)
            param.copy_(1 + 0.1 * noise if "LayerNorm.weight" in name or "layer_norm.weight" in name else 0.2 * noise)


def make_inputs(seed: int, batch: int = BATCH, seq: int = SEQ) -> dict:
    """A padded batch: row 1 ends in padding, row 2 is a sentence pair."""
    generator = torch.Generator().manual_seed(seed)
    input_ids = torch.randint(5, SIZES["vocab_size"], (batch, seq), generator=generator)
    attention_mask = torch.ones(batch, seq, dtype=torch.long)
    attention_mask[1, seq - 4 :] = 0
    input_ids[1, seq - 4 :] = 0
    token_type_ids = torch.zeros(batch, seq, dtype=torch.long)
    token_type_ids[2, seq // 2 :] = 1
    return dict(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)


def labels_for(name: str, num_labels: int, seed: int) -> dict:
    generator = torch.Generator().manual_seed(seed + 1)
    if name in ("AlbertForPreTraining", "AlbertForMaskedLM"):
        labels = torch.full((BATCH, SEQ), -100)
        labels[:, 2:5] = torch.randint(0, SIZES["vocab_size"], (BATCH, 3), generator=generator)
        extra = {"sentence_order_label": torch.tensor([0, 1, 1])} if name == "AlbertForPreTraining" else {}
        return dict(labels=labels, **extra)
    if name == "AlbertForSequenceClassification":
        return dict(labels=torch.randint(0, num_labels, (BATCH,), generator=generator))
    if name == "AlbertForTokenClassification":
        labels = torch.randint(0, num_labels, (BATCH, SEQ), generator=generator)
        labels[1, SEQ - 4 :] = -100  # padding takes no part in the loss
        return dict(labels=labels)
    if name == "AlbertForQuestionAnswering":
        # The second example's answer lies beyond the sequence: clamped, then ignored.
        return dict(start_positions=torch.tensor([1, SEQ + 5, 3]), end_positions=torch.tensor([4, SEQ + 9, 3]))
    if name == "AlbertForMultipleChoice":
        return dict(labels=torch.tensor([0, 2, 1]))
    raise AssertionError(name)


def assert_outputs_equal(a, b, fields) -> float:
    """Compare the named output fields (tensors or tuples of tensors); return the largest difference seen."""
    largest = 0.0
    for field in fields:
        x, y = getattr(a, field), getattr(b, field)
        xs, ys = (x, y) if isinstance(x, tuple) else ((x,), (y,))
        assert len(xs) == len(ys), field
        for p, q in zip(xs, ys, strict=True):
            torch.testing.assert_close(p, q, atol=ATOL, rtol=0, msg=lambda m, field=field: f"{field}: {m}")
            largest = max(largest, (p - q).abs().max().item())
    return largest


def build_pair(name: str, config_kwargs: dict, direction: str, tmp_path, seed: int):
    """The same random weights in our model and in the reference's, moved through a checkpoint in `direction`."""
    our_cls, ref_cls = getattr(ours, name), getattr(transformers, name)
    our_config, ref_config = ours.AlbertConfig(**config_kwargs), transformers.AlbertConfig(**config_kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the reference's SDPA-fallback notices
        if direction == "reference->ours":
            torch.manual_seed(seed)
            ref = ref_cls(ref_config)
            randomize(ref, seed)
            ref.save_pretrained(tmp_path)
            model = our_cls.from_pretrained(tmp_path)
        else:
            model = our_cls(our_config)
            randomize(model, seed)
            model.save_pretrained(tmp_path)
            ref = ref_cls.from_pretrained(tmp_path)
    return model.eval(), ref.eval()


CLASSES = [
    "AlbertModel",
    "AlbertForPreTraining",
    "AlbertForMaskedLM",
    "AlbertForSequenceClassification",
    "AlbertForTokenClassification",
    "AlbertForQuestionAnswering",
    "AlbertForMultipleChoice",
]
FIELDS = {
    "AlbertModel": ["last_hidden_state", "pooler_output", "hidden_states", "attentions"],
    "AlbertForPreTraining": ["loss", "prediction_logits", "sop_logits", "hidden_states", "attentions"],
    "AlbertForQuestionAnswering": ["loss", "start_logits", "end_logits", "hidden_states", "attentions"],
}


@pytest.mark.parametrize("direction", ["reference->ours", "ours->reference"])
@pytest.mark.parametrize("config_name", list(CONFIGS))
@pytest.mark.parametrize("name", CLASSES)
def test_every_output_matches_the_reference(name, config_name, direction, tmp_path):
    seed = zlib.crc32(f"{name}{config_name}{direction}".encode()) % 1000
    num_labels = 2 if name in ("AlbertForPreTraining", "AlbertForQuestionAnswering") else 3
    config_kwargs = {**SIZES, **CONFIGS[config_name], "num_labels": num_labels}
    model, ref = build_pair(name, config_kwargs, direction, tmp_path, seed)

    inputs = make_inputs(seed)
    if name == "AlbertForMultipleChoice":  # (B, C, T): every example has C candidate sequences
        inputs = {k: v.unsqueeze(1).expand(-1, CHOICES, -1).clone() for k, v in inputs.items()}
        inputs["input_ids"][:, 1] = inputs["input_ids"][:, 1].flip(-1)
    if name != "AlbertModel":
        inputs.update(labels_for(name, num_labels, seed))
    kwargs = dict(output_hidden_states=True, output_attentions=True)
    with torch.no_grad():
        a, b = model(**inputs, **kwargs), ref(**inputs, **kwargs)
    assert_outputs_equal(a, b, FIELDS.get(name, ["loss", "logits", "hidden_states", "attentions"]))


@pytest.mark.parametrize(
    "num_labels,labels,problem_type",
    [
        (1, torch.tensor([0.5, -1.0, 2.0]), "regression"),
        (3, torch.tensor([0, 2, 1]), "single_label_classification"),
        (3, torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), "multi_label_classification"),
    ],
)
def test_sequence_classification_infers_problem_type_and_loss_like_the_reference(
    num_labels, labels, problem_type, tmp_path
):
    config_kwargs = {**SIZES, **CONFIGS["base-like"], "num_labels": num_labels}
    model, ref = build_pair("AlbertForSequenceClassification", config_kwargs, "ours->reference", tmp_path, seed=7)
    inputs = make_inputs(7)
    assert ours.checks.sequence_problem_type(model.config, labels) == problem_type
    with torch.no_grad():
        a, b = model(**inputs, labels=labels), ref(**inputs, labels=labels)
    assert ref.config.problem_type == problem_type  # the reference infers the same
    assert_outputs_equal(a, b, ["loss", "logits"])


def test_hidden_state_and_attention_counts_follow_the_reference(tmp_path):
    """L + 1 hidden states (one per group application) and L x inner_group_num attention maps."""
    config_kwargs = {**SIZES, **CONFIGS["groups+inner"]}
    model, ref = build_pair("AlbertModel", config_kwargs, "ours->reference", tmp_path, seed=3)
    out = model(**make_inputs(3), output_hidden_states=True, output_attentions=True)
    assert len(out.hidden_states) == 4 + 1
    assert len(out.attentions) == 4 * 2
    assert out.attentions[0].shape == (BATCH, 4, SEQ, SEQ)


def test_inputs_embeds_and_position_ids_match_the_reference(tmp_path):
    config_kwargs = {**SIZES, **CONFIGS["base-like"]}
    model, ref = build_pair("AlbertModel", config_kwargs, "reference->ours", tmp_path, seed=11)
    inputs = make_inputs(11)
    embeds = model.embeddings.word_embeddings(inputs.pop("input_ids")).detach()
    position_ids = torch.arange(SEQ).flip(0).unsqueeze(0).expand(BATCH, -1)
    with torch.no_grad():
        a = model(inputs_embeds=embeds, position_ids=position_ids, **inputs)
        b = ref(inputs_embeds=embeds, position_ids=position_ids, **inputs)
    assert_outputs_equal(a, b, ["last_hidden_state", "pooler_output"])


def test_mlm_decoder_is_tied_to_the_word_embeddings():
    model = ours.AlbertForMaskedLM(ours.AlbertConfig(**SIZES))
    assert model.predictions.decoder.weight is model.albert.embeddings.word_embeddings.weight
    assert model.predictions.decoder.bias is model.predictions.bias
    # Training one changes the other: they are one tensor.
    with torch.no_grad():
        model.albert.embeddings.word_embeddings.weight[7, 0] = 123.0
    assert model.predictions.decoder.weight[7, 0] == 123.0


BERT_CONFIGS = {
    "absolute-sdpa": dict(position_embedding_type="absolute", attn_implementation="sdpa"),
    "relative_key": dict(position_embedding_type="relative_key", attn_implementation="eager", hidden_act="gelu_new"),
    "relative_key_query": dict(position_embedding_type="relative_key_query", attn_implementation="eager"),
}


@pytest.mark.parametrize("direction", ["reference->ours", "ours->reference"])
@pytest.mark.parametrize("config_name", list(BERT_CONFIGS))
def test_bert_baseline_matches_the_reference_bert(config_name, direction, tmp_path):
    kwargs = dict(
        vocab_size=99,
        hidden_size=32,
        num_hidden_layers=3,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=40,
        **BERT_CONFIGS[config_name],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if direction == "reference->ours":
            ref = transformers.BertModel(transformers.BertConfig(**kwargs))
            randomize(ref, 5)
            ref.save_pretrained(tmp_path)
            model = BertModel.from_pretrained(tmp_path)
        else:
            model = BertModel(ours.BertConfig(**kwargs))
            randomize(model, 5)
            model.save_pretrained(tmp_path)
            ref = transformers.BertModel.from_pretrained(tmp_path)
    model.eval(), ref.eval()
    inputs = make_inputs(5)
    with torch.no_grad():
        a = model(**inputs, output_hidden_states=True, output_attentions=True)
        b = ref(**inputs, output_hidden_states=True, output_attentions=True)
    assert_outputs_equal(a, b, ["last_hidden_state", "pooler_output", "hidden_states", "attentions"])


@pytest.mark.parametrize("config_name", ["base-like", "groups+inner", "three-groups"])
def test_gradients_match_the_reference(config_name, tmp_path):
    """Training needs the backward pass as much as the forward one: the gradient of the pretraining loss with respect
    to every weight equals the reference's (shared weights collect the sum over every depth that uses them)."""
    config_kwargs = {**SIZES, **CONFIGS[config_name], "num_labels": 2}
    model, ref = build_pair("AlbertForPreTraining", config_kwargs, "ours->reference", tmp_path, seed=13)
    inputs = {**make_inputs(13), **labels_for("AlbertForPreTraining", 2, 13)}
    model(**inputs).loss.backward()
    ref(**inputs).loss.backward()
    reference_grads = {name: param.grad for name, param in ref.named_parameters()}
    relative = CONFIGS[config_name].get("position_embedding_type", "absolute") != "absolute"
    for name, param in model.named_parameters():
        unused = relative and name.endswith("embeddings.position_embeddings.weight")  # absolute table, not added
        expected = reference_grads[model.to_reference_key(name)]
        if unused:
            assert param.grad is None and expected is None, name
            continue
        assert param.grad is not None and param.grad.abs().sum() > 0, f"{name} receives no gradient"
        torch.testing.assert_close(param.grad, expected, atol=ATOL, rtol=1e-4, msg=lambda m, name=name: f"{name}: {m}")


def test_gelu_new_is_the_written_out_tanh_formula_and_the_reference_gelu_new():
    """gelu_new runs as PyTorch's fused tanh GELU; it must be the formula of Google's code, term by term, within
    float32 rounding, over a range that reaches both saturated ends."""
    x = torch.linspace(-12.0, 12.0, 100_001)
    formula = 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
    ours_gelu = ours.model.ACTIVATIONS["gelu_new"]()(x)
    torch.testing.assert_close(ours_gelu, formula, rtol=1.3e-6, atol=1e-6)
    torch.testing.assert_close(ours_gelu, transformers.activations.ACT2FN["gelu_new"](x), rtol=1.3e-6, atol=1e-6)


@pytest.mark.parametrize("hidden_act", ["gelu_new", "gelu"])
def test_sdpa_attention_equals_the_written_out_attention_forward_and_backward(hidden_act):
    """The fused path (scaled_dot_product_attention) and the explained one (eager_attention) on the same weights and a
    padded batch: the same hidden states and the same gradient for every weight."""
    models = {}
    for implementation in ("eager", "sdpa"):
        torch.manual_seed(3)
        models[implementation] = ours.AlbertModel(
            ours.AlbertConfig(**SIZES, num_hidden_layers=3, hidden_act=hidden_act, attn_implementation=implementation)
        )
    randomize(models["eager"], 3)
    models["sdpa"].load_state_dict(models["eager"].state_dict())
    inputs = make_inputs(3)
    outputs = {name: model(**inputs) for name, model in models.items()}
    assert_outputs_equal(outputs["sdpa"], outputs["eager"], ["last_hidden_state", "pooler_output"])
    for output in outputs.values():
        (output.last_hidden_state.square().mean() + output.pooler_output.sum()).backward()
    eager_grads = dict(models["eager"].named_parameters())
    for name, param in models["sdpa"].named_parameters():
        if param.grad is None:
            assert eager_grads[name].grad is None, name
            continue
        torch.testing.assert_close(
            param.grad, eager_grads[name].grad, atol=ATOL, rtol=1e-4, msg=lambda m, name=name: f"{name}: {m}"
        )
