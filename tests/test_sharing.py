"""Cross-layer sharing, head_mask and the two attention paths: what the encoder promises."""

import warnings

import pytest
import torch
import transformers

from albert_explained import AlbertConfig, AlbertModel
from albert_explained.model import AlbertLayer

SIZES = dict(
    vocab_size=99,
    embedding_size=16,
    hidden_size=32,
    num_hidden_layers=4,
    num_attention_heads=4,
    intermediate_size=37,
    max_position_embeddings=40,
    attn_implementation="eager",
)


def batch(seed: int = 0) -> dict:
    generator = torch.Generator().manual_seed(seed)
    input_ids = torch.randint(5, 99, (2, 10), generator=generator)
    attention_mask = torch.ones(2, 10, dtype=torch.long)
    attention_mask[1, 7:] = 0
    return dict(input_ids=input_ids, attention_mask=attention_mask)


def distinct_layers(model: AlbertModel) -> list[AlbertLayer]:
    return list({id(m): m for m in model.modules() if isinstance(m, AlbertLayer)}.values())


def test_changing_the_one_shared_layer_changes_every_depth():
    model = AlbertModel(AlbertConfig(**SIZES)).eval()
    assert len(distinct_layers(model)) == 1  # one set of weights serves all four depths
    before = model(**batch(), output_hidden_states=True).hidden_states
    with torch.no_grad():
        model.encoder.albert_layer_groups[0].albert_layers[0].ffn.weight.mul_(1.5)
    after = model(**batch(), output_hidden_states=True).hidden_states
    torch.testing.assert_close(after[0], before[0])  # the projected embeddings do not depend on the layer
    for depth in range(1, 5):
        assert not torch.allclose(after[depth], before[depth]), f"depth {depth} did not change"


def test_not_shared_has_L_distinct_layers_and_a_change_stays_at_its_depth():
    model = AlbertModel(AlbertConfig(**SIZES, sharing="not-shared")).eval()
    layers = distinct_layers(model)
    assert len(layers) == 4
    assert len({p.data_ptr() for layer in layers for p in layer.parameters()}) == 4 * len(list(layers[0].parameters()))
    before = model(**batch(), output_hidden_states=True).hidden_states
    with torch.no_grad():
        model.encoder.albert_layer_groups[2].albert_layers[0].ffn.weight.mul_(1.5)  # the layer at depth 3
    after = model(**batch(), output_hidden_states=True).hidden_states
    for depth in range(3):
        torch.testing.assert_close(after[depth], before[depth])
    assert not torch.allclose(after[3], before[3])


@pytest.mark.parametrize(
    "sharing,shared,separate",
    [
        ("shared-attention", ["attention"], ["ffn", "ffn_output", "full_layer_layer_norm"]),
        ("shared-FFN", ["ffn", "ffn_output", "full_layer_layer_norm"], ["attention"]),
    ],
)
def test_partial_sharing_ties_exactly_one_sub_layer(sharing, shared, separate):
    model = AlbertModel(AlbertConfig(**SIZES, sharing=sharing))
    layers = distinct_layers(model)
    assert len(layers) == 4
    for name in shared:
        assert len({id(getattr(layer, name)) for layer in layers}) == 1, name
    for name in separate:
        assert len({id(getattr(layer, name)) for layer in layers}) == 4, name


@pytest.mark.parametrize("layers", range(1, 49))
def test_group_index_equals_the_reference_float_formula(layers):
    model = AlbertModel(AlbertConfig(**{**SIZES, "num_hidden_layers": 1}), add_pooling_layer=False)
    for groups in range(1, layers + 1):
        model.encoder.config = AlbertConfig(**{**SIZES, "num_hidden_layers": layers, "num_hidden_groups": groups})
        for depth in range(layers):
            assert model.encoder.group_index(depth) == int(depth / (layers / groups))
            # The integer formula agrees except where floats round 6.999... down (documented in model.py).
            assert model.encoder.group_index(depth) in (depth * groups // layers, depth * groups // layers - 1)


def test_reference_group_formula_differs_from_exact_floor_at_L18_G14():
    model = AlbertModel(AlbertConfig(**{**SIZES, "num_hidden_layers": 18, "num_hidden_groups": 14}))
    assert model.encoder.group_index(9) == 6 and 9 * 14 // 18 == 7


def run_with_head_mask(model, head_mask):
    return model(**batch(), head_mask=head_mask, output_attentions=True, output_hidden_states=True)


def test_head_mask_row_i_acts_on_layer_i():
    """Silencing head 1 at layer application 2 zeroes that map only, and changes nothing before depth 3."""
    model = AlbertModel(AlbertConfig(**SIZES)).eval()
    head_mask = torch.ones(4, 4)
    head_mask[2, 1] = 0.0
    plain, masked = run_with_head_mask(model, None), run_with_head_mask(model, head_mask)
    assert masked.attentions[2][:, 1].abs().max() == 0
    for application in (0, 1, 3):
        assert masked.attentions[application][:, 1].abs().max() > 0
    for depth in (0, 1, 2):  # hidden_states[d] is the output of application d - 1
        torch.testing.assert_close(masked.hidden_states[depth], plain.hidden_states[depth])
    assert not torch.allclose(masked.hidden_states[3], plain.hidden_states[3])


def reference_pair(**config_kwargs):
    config = AlbertConfig(**{**SIZES, **config_kwargs})
    torch.manual_seed(0)
    model = AlbertModel(config).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = transformers.AlbertModel(transformers.AlbertConfig(**{**SIZES, **config_kwargs})).eval()
    ref.load_state_dict(model.state_dict())
    return model, ref


def test_reference_applies_row_0_of_head_mask_to_every_shared_layer():
    """transformers 4.56.2 slices head_mask by group, so with one group its row 0 masks every depth and the other
    rows are ignored. Ours gives each depth its own row."""
    model, ref = reference_pair()
    last_only = torch.ones(4, 4)
    last_only[3, 0] = 0.0
    first_only = torch.ones(4, 4)
    first_only[0, 0] = 0.0
    with torch.no_grad():
        ref_plain = run_with_head_mask(ref, None)
        ref_last, ref_first = run_with_head_mask(ref, last_only), run_with_head_mask(ref, first_only)
        ours_last = run_with_head_mask(model, last_only)
    torch.testing.assert_close(ref_last.last_hidden_state, ref_plain.last_hidden_state)  # row 3 ignored
    assert all(a[:, 0].abs().max() == 0 for a in ref_first.attentions)  # row 0 masks all four depths
    assert ours_last.attentions[3][:, 0].abs().max() == 0
    assert not torch.allclose(ours_last.last_hidden_state, ref_plain.last_hidden_state)


def test_head_mask_matches_the_reference_when_each_depth_has_its_own_group():
    model, ref = reference_pair(num_hidden_groups=4)
    head_mask = torch.ones(4, 4)
    head_mask[1, 2] = 0.0
    head_mask[3, 0] = 0.5
    with torch.no_grad():
        a, b = run_with_head_mask(model, head_mask), run_with_head_mask(ref, head_mask)
    for x, y in zip(a.attentions + a.hidden_states, b.attentions + b.hidden_states, strict=True):
        torch.testing.assert_close(x, y, atol=1e-5, rtol=0)


def test_one_row_head_mask_applies_to_every_layer_like_the_reference():
    model, ref = reference_pair()
    head_mask = torch.tensor([1.0, 0.0, 1.0, 1.0])
    with torch.no_grad():
        a, b = run_with_head_mask(model, head_mask), run_with_head_mask(ref, head_mask)
    torch.testing.assert_close(a.last_hidden_state, b.last_hidden_state, atol=1e-5, rtol=0)


@pytest.mark.parametrize("inner_group_num,num_hidden_groups", [(1, 1), (2, 2)])
def test_sdpa_and_eager_paths_agree_within_1e_6(inner_group_num, num_hidden_groups):
    eager = AlbertModel(
        AlbertConfig(**SIZES, inner_group_num=inner_group_num, num_hidden_groups=num_hidden_groups)
    ).eval()
    sdpa = AlbertModel(eager.config.replace(attn_implementation="sdpa")).eval()
    sdpa.load_state_dict(eager.state_dict())
    with torch.no_grad():
        a, b = eager(**batch()), sdpa(**batch())
    torch.testing.assert_close(a.last_hidden_state, b.last_hidden_state, atol=1e-6, rtol=0)
    torch.testing.assert_close(a.pooler_output, b.pooler_output, atol=1e-6, rtol=0)


def test_sdpa_runs_the_fused_kernel_only_when_probabilities_are_not_needed(monkeypatch):
    calls = []
    fused = torch.nn.functional.scaled_dot_product_attention
    monkeypatch.setattr(
        torch.nn.functional,
        "scaled_dot_product_attention",
        lambda *args, **kwargs: calls.append(1) or fused(*args, **kwargs),
    )
    model = AlbertModel(AlbertConfig(**{**SIZES, "attn_implementation": "sdpa"})).eval()
    model(**batch())
    assert len(calls) == 4  # one per depth
    out = model(**batch(), output_attentions=True)
    assert len(calls) == 4 and len(out.attentions) == 4  # probabilities requested: the eager path ran
    for probs in out.attentions:  # rows are distributions, and padding gets no weight
        torch.testing.assert_close(probs.sum(-1), torch.ones_like(probs.sum(-1)))
        assert probs[1, :, :, 7:].abs().max() == 0


def test_uneven_groups_match_the_reference_where_float_rounding_matters():
    model, ref = reference_pair(num_hidden_layers=18, num_hidden_groups=14)
    with torch.no_grad():
        a, b = model(**batch(), output_hidden_states=True), ref(**batch(), output_hidden_states=True)
    for x, y in zip(a.hidden_states, b.hidden_states, strict=True):
        torch.testing.assert_close(x, y, atol=1e-5, rtol=0)
