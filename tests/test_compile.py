"""torch.compile(model, fullgraph=True) works for every model class: the forward pass, checks and losses included,
is one graph with no break, and the compiled model computes what the eager one does.

`fullgraph=True` makes any graph break an error, so these tests fail on a Python branch on a tensor's value (the
"data-dependent branching" that value checks written as `if ids.max() >= V:` would cause). The graph capture is what
is tested, so most tests compile with the "eager" backend (TorchDynamo's capture, then plain PyTorch), which is quick;
one test runs the whole inductor compiler on a training step and is marked slow.
"""

import pytest
import torch

import albert_explained as ours
from albert_explained.bert import BertModel

SIZES = dict(
    vocab_size=99,
    embedding_size=16,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=37,
    max_position_embeddings=40,
)
B, T, C = 2, 8, 3


def inputs_and_labels(name: str) -> dict:
    generator = torch.Generator().manual_seed(0)
    shape = (B, C, T) if name == "AlbertForMultipleChoice" else (B, T)
    inputs = dict(
        input_ids=torch.randint(0, SIZES["vocab_size"], shape, generator=generator),
        attention_mask=torch.ones(shape, dtype=torch.long),
    )
    inputs["attention_mask"][..., 1, T - 3 :] = 0  # padding in the second example (or choice)
    labels = {
        "AlbertForPreTraining": dict(
            labels=torch.randint(0, 99, (B, T), generator=generator), sentence_order_label=torch.tensor([0, 1])
        ),
        "AlbertForMaskedLM": dict(labels=torch.full((B, T), -100).index_fill_(1, torch.tensor([2]), 7)),
        "AlbertForSequenceClassification": dict(labels=torch.tensor([0, 1])),
        "AlbertForTokenClassification": dict(labels=torch.randint(0, 2, (B, T), generator=generator)),
        "AlbertForQuestionAnswering": dict(start_positions=torch.tensor([1, 3]), end_positions=torch.tensor([2, 9])),
        "AlbertForMultipleChoice": dict(labels=torch.tensor([2, 0])),
    }
    return {**inputs, **labels.get(name, {})}


def build(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    if name == "BertModel":
        config = ours.BertConfig(**{k: v for k, v in SIZES.items() if k != "embedding_size"})
        return BertModel(config).eval()
    return getattr(ours, name)(ours.AlbertConfig(**SIZES, num_labels=2, classifier_dropout_prob=0.0)).eval()


CLASSES = [
    "AlbertModel",
    "BertModel",
    "AlbertForPreTraining",
    "AlbertForMaskedLM",
    "AlbertForSequenceClassification",
    "AlbertForTokenClassification",
    "AlbertForQuestionAnswering",
    "AlbertForMultipleChoice",
]


def output_tensors(output) -> list[torch.Tensor]:
    return [value for value in vars(output).values() if isinstance(value, torch.Tensor)]


@pytest.mark.parametrize("name", CLASSES)
def test_every_model_class_compiles_to_one_graph_and_computes_what_it_computes_eagerly(name):
    model, inputs = build(name), inputs_and_labels(name)
    torch._dynamo.reset()
    compiled = torch.compile(model, fullgraph=True, backend="eager")
    with torch.no_grad():
        expected, got = output_tensors(model(**inputs)), output_tensors(compiled(**inputs))
    assert len(got) == len(expected) >= 1
    for x, y in zip(got, expected, strict=True):
        torch.testing.assert_close(x, y)


@pytest.mark.parametrize(
    "argument, bad_value, message",
    [
        ("input_ids", 500, r"input_ids must be in \[0, 99\)"),
        ("attention_mask", 2, r"attention_mask must hold only 1 \(a token\) and 0 \(padding\)"),
    ],
)
def test_a_compiled_model_still_refuses_bad_values_naming_the_argument(argument, bad_value, message):
    """Under compilation the value checks are asserted inside the graph (torch._assert_async): a RuntimeError that
    names the argument, where the eager model raises a ValueError with the same words."""
    model, inputs = build("AlbertModel"), inputs_and_labels("AlbertModel")
    torch._dynamo.reset()
    compiled = torch.compile(model, fullgraph=True, backend="eager")
    compiled(**inputs)
    inputs[argument] = inputs[argument].clone()
    inputs[argument][0, 0] = bad_value
    with pytest.raises(RuntimeError, match=message):
        compiled(**inputs)


@pytest.mark.slow
def test_inductor_compiles_a_pretraining_training_step_with_the_eager_gradients():
    model, inputs = build("AlbertForPreTraining"), inputs_and_labels("AlbertForPreTraining")
    model.train()
    torch._dynamo.reset()
    compiled = torch.compile(model, fullgraph=True)
    compiled(**inputs).loss.backward()
    compiled_grads = {name: param.grad.clone() for name, param in model.named_parameters() if param.grad is not None}
    model.zero_grad()
    model(**inputs).loss.backward()
    for name, param in model.named_parameters():
        if param.grad is not None:
            torch.testing.assert_close(compiled_grads[name], param.grad, atol=1e-5, rtol=1e-4)
