"""Parameter counts: against transformers 4.56.2, against formulas written here, and against the paper's tables.

Every model is built on the meta device (shapes, no storage), so even xxlarge costs milliseconds.
"""

import pytest
import torch
import transformers
from torch import nn

from albert_explained import (
    ALBERT_PRESETS,
    BERT_PRESETS,
    AlbertConfig,
    AlbertForMaskedLM,
    AlbertForMultipleChoice,
    AlbertForPreTraining,
    AlbertForQuestionAnswering,
    AlbertForSequenceClassification,
    AlbertForTokenClassification,
    AlbertModel,
    BertConfig,
)
from albert_explained.bert import BertModel
from albert_explained.parameters import (
    COMPONENTS,
    ParameterCount,
    count_parameters,
    format_table,
    paper_parameter_table,
)

P, TYPES = 512, 2  # positions and token types in every published configuration


def on_meta(cls, config, **kwargs):
    with torch.device("meta"):
        return cls(config, **kwargs)


def torch_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())  # torch lists a shared tensor once


# --- Formulas, written from the module tree (reference notes 1.2), not from our code ----------------------------


def albert_formula(V, E, H, I, L, sharing="all-shared", pooler=True, positions=P):
    embeddings = V * E + positions * E + TYPES * E + 2 * E  # three tables + LayerNorm(E)
    projection = E * H + H
    attention = 4 * H * H + 4 * H + 2 * H  # Q, K, V, output dense + the attention's LayerNorm
    ffn = 2 * H * I + I + H + 2 * H  # H -> I -> H + the LayerNorm after it
    attention_copies = L if sharing in ("not-shared", "shared-FFN") else 1
    ffn_copies = L if sharing in ("not-shared", "shared-attention") else 1
    return embeddings + projection + attention_copies * attention + ffn_copies * ffn + (H * H + H if pooler else 0)


def bert_formula(V, H, I, L, pooler=True):
    return albert_formula(V, H, H, I, L, "not-shared", pooler) - (H * H + H)  # BERT: E = H and no projection


def mlm_head_formula(V, E, H):
    return H * E + E + 2 * E + V  # dense H -> E, LayerNorm(E), output bias; the V x E decoder is the embeddings


def millions(count):
    return f"{round(count / 1e6)}M"


# --- Every preset, against transformers ---------------------------------------------------------------------------

CLASS_PAIRS = [
    (AlbertModel, transformers.AlbertModel),
    (AlbertForMaskedLM, transformers.AlbertForMaskedLM),
    (AlbertForPreTraining, transformers.AlbertForPreTraining),
]


@pytest.mark.parametrize("ours, theirs", CLASS_PAIRS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("preset", sorted(ALBERT_PRESETS))
def test_every_albert_preset_has_the_reference_parameter_count(preset, ours, theirs):
    our_model = on_meta(ours, AlbertConfig.from_preset(preset))
    reference = on_meta(theirs, transformers.AlbertConfig(**ALBERT_PRESETS[preset]))
    assert count_parameters(our_model).total == torch_count(reference)


@pytest.mark.parametrize("pooler", [True, False], ids=["with_pooler", "without_pooler"])
@pytest.mark.parametrize("preset", sorted(BERT_PRESETS))
def test_every_bert_preset_has_the_reference_parameter_count(preset, pooler):
    ours = on_meta(BertModel, BertConfig.from_preset(preset), add_pooling_layer=pooler)
    reference = on_meta(
        transformers.BertModel, transformers.BertConfig(**BERT_PRESETS[preset]), add_pooling_layer=pooler
    )
    assert count_parameters(ours).total == torch_count(reference)


# The table of reference notes 1.13 (computed there from the module tree, matching transformers).
NOTES_COUNTS = {
    "albert-base-v2": (11_683_584, 11_221_680, 11_813_810),
    "albert-large-v2": (17_683_968, 16_795_824, 17_847_474),
    "albert-xlarge-v2": (58_724_864, 54_821_040, 59_021_490),
    "albert-xxlarge-v2": (222_595_584, 206_368_944, 223_158_450),
}


@pytest.mark.parametrize("preset", sorted(NOTES_COUNTS))
def test_albert_sizes_have_the_counts_of_the_reference_notes(preset):
    # e.g. albert-base: 11,683,584 (AlbertModel), 11,221,680 (MaskedLM), 11,813,810 (PreTraining)
    config = AlbertConfig.from_preset(preset)
    counts = tuple(count_parameters(on_meta(cls, config)).total for cls, _ in CLASS_PAIRS)
    assert counts == NOTES_COUNTS[preset]


# --- The breakdown ------------------------------------------------------------------------------------------------

ALL_CLASSES = [
    AlbertModel,
    AlbertForPreTraining,
    AlbertForMaskedLM,
    AlbertForSequenceClassification,
    AlbertForTokenClassification,
    AlbertForQuestionAnswering,
    AlbertForMultipleChoice,
]


@pytest.mark.parametrize("sharing", ["all-shared", "shared-attention", "shared-FFN", "not-shared"])
@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_the_components_add_up_to_what_torch_counts(cls, sharing):
    model = on_meta(cls, AlbertConfig.from_preset("tiny", sharing=sharing))
    counts = count_parameters(model)
    assert sum(getattr(counts, name) for name in COMPONENTS) == counts.total == torch_count(model)


def test_albert_base_components_follow_the_formulas():
    V, E, H, I = 30000, 128, 768, 3072  # one layer counted, whatever L is
    counts = count_parameters(on_meta(AlbertModel, AlbertConfig.from_preset("albert-base-v2")))
    assert counts == ParameterCount(
        word_embeddings=V * E,  # 3,840,000
        position_embeddings=P * E,
        token_type_embeddings=TYPES * E,
        projection=E * H + H,
        attention=4 * H * H + 4 * H,  # one layer's worth: all 12 depths share it
        ffn=2 * H * I + I + H,
        layer_norms=2 * E + 2 * 2 * H,
        pooler=H * H + H,
        heads=0,
    )
    assert counts.total == 11_683_584


def test_bert_base_has_no_projection_and_twelve_layers_of_weights():
    V, H, I, L = 30522, 768, 3072, 12
    counts = count_parameters(on_meta(BertModel, BertConfig.from_preset("bert-base")))
    assert counts.projection == 0
    assert counts.word_embeddings == V * H
    assert counts.attention == L * (4 * H * H + 4 * H)
    assert counts.ffn == L * (2 * H * I + I + H)
    assert counts.layer_norms == 2 * H + L * 2 * 2 * H
    assert counts.total == bert_formula(V, H, I, L)


@pytest.mark.parametrize(
    "ours, theirs, config, their_config",
    [
        (
            AlbertForPreTraining,
            transformers.AlbertForPreTraining,
            AlbertConfig.from_preset("albert-base-v2"),
            transformers.AlbertConfig(**ALBERT_PRESETS["albert-base-v2"]),
        ),
        (
            BertModel,
            transformers.BertModel,
            BertConfig.from_preset("bert-base"),
            transformers.BertConfig(**BERT_PRESETS["bert-base"]),
        ),
    ],
    ids=["albert_pretraining", "bert"],
)
def test_transformers_models_get_the_same_breakdown_as_ours(ours, theirs, config, their_config):
    # The reference names BERT's modules differently (attention.self.query, intermediate.dense, output.dense).
    assert count_parameters(on_meta(theirs, their_config)) == count_parameters(on_meta(ours, config))


def test_relative_position_table_is_counted_with_attention_like_the_reference():
    config = AlbertConfig.from_preset("tiny", position_embedding_type="relative_key")
    H, D, positions = config.hidden_size, config.head_size, config.max_position_embeddings
    counts = count_parameters(on_meta(AlbertModel, config))
    assert counts.attention == 4 * H * H + 4 * H + (2 * positions - 1) * D
    reference = on_meta(
        transformers.AlbertModel,
        transformers.AlbertConfig(**ALBERT_PRESETS["tiny"], position_embedding_type="relative_key"),
    )
    assert counts.total == torch_count(reference)


def test_a_parameter_of_unknown_role_is_an_error_that_names_it():
    model = nn.Module()
    model.embeddings = nn.Module()
    model.embeddings.mystery = nn.Parameter(torch.zeros(3))
    with pytest.raises(ValueError, match="embeddings.mystery"):
        count_parameters(model)


# --- Sharing and tying count a tensor once ------------------------------------------------------------------------


def test_not_shared_minus_all_shared_is_l_minus_one_layers():
    H, I, L = 768, 3072, 12
    one_layer = (4 * H * H + 4 * H) + (2 * H * I + I + H) + 2 * 2 * H  # attention, FFN, two LayerNorms
    counts = {
        sharing: count_parameters(
            on_meta(AlbertModel, AlbertConfig.from_preset("albert-base-v2", sharing=sharing))
        ).total
        for sharing in ("all-shared", "shared-attention", "shared-FFN", "not-shared")
    }
    assert counts["not-shared"] - counts["all-shared"] == (L - 1) * one_layer  # 77,966,592
    # shared-attention keeps one attention (with its LayerNorm); shared-FFN one FFN (with the LayerNorm after it).
    assert counts["not-shared"] - counts["shared-attention"] == (L - 1) * (4 * H * H + 4 * H + 2 * H)
    assert counts["not-shared"] - counts["shared-FFN"] == (L - 1) * (2 * H * I + I + H + 2 * H)


def test_the_tied_mlm_decoder_is_counted_once_as_the_word_embeddings():
    V, E, H = 30000, 128, 768
    config = AlbertConfig.from_preset("albert-base-v2")
    masked_lm = count_parameters(on_meta(AlbertForMaskedLM, config))
    assert masked_lm.word_embeddings == V * E
    assert masked_lm.pooler == 0
    assert masked_lm.heads == mlm_head_formula(V, E, H)
    pretraining = count_parameters(on_meta(AlbertForPreTraining, config))
    assert pretraining.heads == mlm_head_formula(V, E, H) + 2 * H + 2  # + the SOP classifier
    base = count_parameters(on_meta(AlbertModel, config))
    assert pretraining.total - base.total == pretraining.heads


@pytest.mark.parametrize(
    "cls, head, pooler",
    [
        (AlbertForSequenceClassification, lambda H, n: H * n + n, True),
        (AlbertForMultipleChoice, lambda H, n: H + 1, True),
        (AlbertForTokenClassification, lambda H, n: H * n + n, False),
        (AlbertForQuestionAnswering, lambda H, n: 2 * H + 2, False),
    ],
    ids=lambda x: getattr(x, "__name__", ""),
)
def test_task_heads_count_as_heads(cls, head, pooler):
    config = (
        AlbertConfig.from_preset("tiny", num_labels=3)
        if cls is not AlbertForQuestionAnswering
        else AlbertConfig.from_preset("tiny")
    )
    H = config.hidden_size
    counts = count_parameters(on_meta(cls, config))
    assert counts.heads == head(H, config.num_labels)
    assert counts.pooler == (H * H + H if pooler else 0)


# --- The paper's tables -------------------------------------------------------------------------------------------

# The paper's rows (reference notes 3.1, 3.3, 3.4): (table, E, H, L, sharing or "BERT", figure as printed).
PAPER = [
    (1, 768, 768, 12, "BERT", "108M"),
    (1, 1024, 1024, 24, "BERT", "334M"),
    (1, 128, 768, 12, "all-shared", "12M"),
    (1, 128, 1024, 24, "all-shared", "18M"),
    (1, 128, 2048, 24, "all-shared", "60M"),
    (1, 128, 4096, 12, "all-shared", "235M"),
    (3, 64, 768, 12, "not-shared", "87M"),
    (3, 128, 768, 12, "not-shared", "89M"),
    (3, 256, 768, 12, "not-shared", "93M"),
    (3, 768, 768, 12, "not-shared", "108M"),
    (3, 64, 768, 12, "all-shared", "10M"),
    (3, 128, 768, 12, "all-shared", "12M"),
    (3, 256, 768, 12, "all-shared", "16M"),
    (3, 768, 768, 12, "all-shared", "31M"),
    (4, 768, 768, 12, "all-shared", "31M"),
    (4, 768, 768, 12, "shared-attention", "83M"),
    (4, 768, 768, 12, "shared-FFN", "57M"),
    (4, 768, 768, 12, "not-shared", "108M"),
    (4, 128, 768, 12, "all-shared", "12M"),
    (4, 128, 768, 12, "shared-attention", "64M"),
    (4, 128, 768, 12, "shared-FFN", "38M"),
    (4, 128, 768, 12, "not-shared", "89M"),
]
V_ALBERT = 30000


def row_formula(row, pooler=True, projection=True):
    """The analytic count of a paper row: V = 30000, I = 4H; optionally without the pooler or the projection."""
    E, H, L = row.embedding_size, row.hidden_size, row.num_layers
    if row.model == "BertModel":
        return bert_formula(V_ALBERT, H, 4 * H, L, pooler)
    return albert_formula(V_ALBERT, E, H, 4 * H, L, row.sharing, pooler) - (0 if projection else E * H + H)


@pytest.fixture(scope="module")
def rows():
    return paper_parameter_table()


def test_the_table_has_the_papers_rows_in_order(rows):
    described = [
        (
            r.table,
            r.embedding_size,
            r.hidden_size,
            r.num_layers,
            "BERT" if r.model == "BertModel" else r.sharing,
            r.paper,
        )
        for r in rows
    ]
    assert described == PAPER
    assert all(r.model == "AlbertModel" for r in rows if r.table in (3, 4))


def test_every_row_count_equals_the_formula(rows):
    for row in rows:
        assert row.count == row_formula(row), row.label


def test_every_row_rounds_to_the_paper_unless_it_says_why(rows):
    for row in rows:
        assert row.rounded == millions(row_formula(row))
        if millions(row_formula(row)) == row.paper:
            assert row.matches and row.reason is None, row.label
        else:
            assert not row.matches and row.reason, row.label


def test_albert_base_and_large_match_table_1_as_published(rows):
    table_1 = {r.label: r for r in rows if r.table == 1}
    assert table_1["ALBERT base"].count == 11_683_584 and table_1["ALBERT base"].matches
    assert table_1["ALBERT large"].count == 17_683_968 and table_1["ALBERT large"].matches


def test_bert_rows_use_the_albert_vocabulary_and_match_the_paper_without_the_pooler(rows):
    for row in (r for r in rows if r.model == "BertModel"):
        assert "V=30000" in row.label
        assert not row.matches
        assert millions(row_formula(row, pooler=False)) == row.paper
        assert f"{row_formula(row, pooler=False):,}" in row.reason


def test_e_equals_h_rows_match_the_paper_without_the_projection(rows):
    for row in (r for r in rows if r.model == "AlbertModel" and r.embedding_size == r.hidden_size):
        # not-shared with E = H is BERT-base: the paper repeats BERT-base's 108M, which also has no pooler.
        adjusted = row_formula(row, projection=False, pooler=row.sharing != "not-shared")
        assert millions(adjusted) == row.paper, row.label
        assert f"{adjusted:,}" in row.reason


def test_not_shared_rows_with_small_e_match_the_paper_without_the_pooler(rows):
    for row in (r for r in rows if r.sharing == "not-shared" and r.model == "AlbertModel" and r.embedding_size < 768):
        assert millions(row_formula(row, pooler=False)) == row.paper, row.label
        assert f"{row_formula(row, pooler=False):,}" in row.reason


def test_xlarge_and_xxlarge_figures_are_not_reproduced_and_say_so(rows):
    table_1 = {r.label: r for r in rows if r.table == 1}
    for label, with_heads in (("ALBERT xlarge", 59_021_490), ("ALBERT xxlarge", 223_158_450)):
        row = table_1[label]
        assert not row.matches and "not reproduced" in row.reason
        assert f"{with_heads:,}" in row.reason  # the pretraining model's count (reference notes 1.13)


def test_format_table_shows_every_count_and_every_note(rows):
    text = format_table(rows)
    for row in rows:
        assert f"{row.count:,}" in text and row.label in text
    notes = [r.reason for r in rows if r.reason]
    assert all(f"[{i}] {note}" in text for i, note in enumerate(notes, start=1))


def test_format_table_without_notes_says_for_each_row_whether_it_rounds_to_the_papers_figure(rows):
    lines = format_table(rows, notes=False).splitlines()
    assert lines[0].endswith("same") and len(lines) == 2 + len(rows)  # header, rule, one line per row, no notes
    for row, line in zip(rows, lines[2:], strict=True):
        assert row.label in line and f"{row.count:,}" in line
        assert line.endswith("yes" if row.rounded == row.paper else "no")
