"""The diagrams: each draws, its labels do not overlap, and what it prints is what the code does.

The numbers on the forward-pass and factorized-embedding figures must be the config's (read back from the figure's
text), the sharing figure must show the paper's four patterns (written out here from the paper's definitions), and
the fine-tuning figure's wiring must be that of the task models (checked by running them).
"""

import io
import re
from collections import Counter

import matplotlib

matplotlib.use("Agg")  # headless: no display needed

import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from albert_explained import AlbertConfig  # noqa: E402
from albert_explained.bundled import BUNDLED_MODEL_DIR  # noqa: E402
from albert_explained.views import diagrams  # noqa: E402

# Every number differs from every other, so a number on a figure says which field it came from.
ODD = AlbertConfig(
    vocab_size=321,
    embedding_size=24,
    hidden_size=40,
    num_hidden_layers=5,
    num_attention_heads=4,
    intermediate_size=72,
    max_position_embeddings=33,
)
BASE = AlbertConfig.from_preset("albert-base-v2")
BUNDLED = AlbertConfig.from_json_file(BUNDLED_MODEL_DIR / "config.json")

FIGURES = {
    "forward pass, letters only": lambda: diagrams.forward_pass_diagram(),
    "forward pass, albert-base": lambda: diagrams.forward_pass_diagram(BASE),
    "forward pass, bundled (relative positions)": lambda: diagrams.forward_pass_diagram(BUNDLED),
    "forward pass, G = 2 groups of 2 layers": lambda: diagrams.forward_pass_diagram(
        AlbertConfig.from_preset("tiny", num_hidden_groups=2, inner_group_num=2)
    ),
    "forward pass, shared-attention": lambda: diagrams.forward_pass_diagram(BASE.replace(sharing="shared-attention")),
    "factorized embedding, albert-base": lambda: diagrams.factorized_embedding_diagram(),
    "factorized embedding, tiny": lambda: diagrams.factorized_embedding_diagram(AlbertConfig.from_preset("tiny")),
    "sharing strategies, L = 4": lambda: diagrams.sharing_strategies_diagram(BUNDLED),
    "NSP against SOP": lambda: diagrams.nsp_sop_diagram(),
    "fine-tuning heads": lambda: diagrams.finetuning_heads_diagram(BASE),
}


def texts(fig: Figure) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_text().strip() and t.get_visible()]


def numbers(fig: Figure) -> set[int]:
    """Every whole number printed on the figure ("30,000" is 30000); percentages ("17.1%") left out."""
    found = set()
    for text in texts(fig):
        for number in re.findall(r"\d[\d,]*(?:\.\d+)?%?", text.get_text()):
            if not number.endswith("%"):
                found.add(int(number.rstrip(",").replace(",", "")))
    return found


@pytest.mark.parametrize("name", list(FIGURES))
def test_each_diagram_draws_a_png_with_no_label_overlapping_another_or_the_edge(name):
    fig = FIGURES[name]()
    assert isinstance(fig, Figure)
    assert fig.get_size_inches()[0] <= 10  # fits a notebook's width at 100 dpi
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    assert buffer.getvalue().startswith(b"\x89PNG")
    renderer = FigureCanvasAgg(fig).get_renderer()  # the figure's own dpi: 100, a notebook's
    figure_box = fig.bbox
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts(fig)]
    for text, box in boxes:
        assert (
            figure_box.x0 <= box.x0 and box.x1 <= figure_box.x1 and figure_box.y0 <= box.y0 and box.y1 <= figure_box.y1
        ), f"{text!r} runs off the figure"
    for i, (text_a, box_a) in enumerate(boxes):
        for text_b, box_b in boxes[i + 1 :]:
            assert not box_a.overlaps(box_b), f"{text_a!r} overlaps {text_b!r}"


def test_the_forward_pass_prints_the_configs_numbers_and_no_others():
    fig = diagrams.forward_pass_diagram(ODD)
    config_numbers = {
        ODD.vocab_size,
        ODD.embedding_size,
        ODD.hidden_size,
        ODD.num_attention_heads,
        ODD.head_size,
        ODD.intermediate_size,
        ODD.num_hidden_layers,
        ODD.max_position_embeddings,
    }
    assert config_numbers <= numbers(fig)
    # 0 in h_0 and [:, 0], 1 in h_1, 2 in "2 x E" and "(B, 2)", 100 in "-100 ignored"
    assert numbers(fig) - config_numbers <= {0, 1, 2, 100}
    assert numbers(diagrams.forward_pass_diagram()) <= {0, 1, 2, 100}


def test_the_forward_pass_says_how_positions_enter():
    absolute = " ".join(t.get_text() for t in texts(diagrams.forward_pass_diagram(BASE)))
    relative = " ".join(t.get_text() for t in texts(diagrams.forward_pass_diagram(BUNDLED)))
    assert "+ position_embeddings (P × E)" in absolute and "distance_embedding" not in absolute
    assert "left out: relative_key" in relative and "distance_embedding: (2P − 1) × D" in relative
    assert "gelu_new" in absolute and "act" in " ".join(t.get_text() for t in texts(diagrams.forward_pass_diagram()))


@pytest.mark.parametrize("config", [BASE, ODD], ids=["albert-base", "odd"])
def test_the_factorized_embedding_prints_the_configs_counts_and_draws_them_to_scale(config):
    V, E, H = config.vocab_size, config.embedding_size, config.hidden_size
    fig = diagrams.factorized_embedding_diagram(config)
    assert numbers(fig) == {V, E, H, V * H, V * E, E * H, V * E + E * H}
    assert f"{(V * E + E * H) / (V * H):.1%}" in " ".join(t.get_text() for t in texts(fig))
    areas = sorted(p.get_width() * p.get_height() for p in fig.axes[0].patches if type(p) is Rectangle)
    counts = sorted([V * H, V * E, E * H])
    assert len(areas) == 3
    assert areas[0] / areas[2] == pytest.approx(counts[0] / counts[2])
    assert areas[1] / areas[2] == pytest.approx(counts[1] / counts[2])


def test_the_sharing_diagram_shows_the_papers_four_patterns():
    """Row by row, left to right: all-shared, shared-attention, shared-FFN, not-shared (paper, section 4.5)."""
    L = 4
    fig = diagrams.sharing_strategies_diagram(BASE.replace(num_hidden_layers=L))
    labels = [t for t in texts(fig) if re.fullmatch(r"(attention|FFN) \d+", t.get_text())]
    rows = Counter(round(t.get_position()[1], 3) for t in labels)
    assert len(rows) == L and set(rows.values()) == {8}
    for depth, y in enumerate(sorted(rows, reverse=True), start=1):
        row = [
            t.get_text()
            for t in sorted(
                (t for t in labels if round(t.get_position()[1], 3) == y), key=lambda t: t.get_position()[0]
            )
        ]
        assert row == [
            "attention 1",
            "FFN 1",  # all-shared
            "attention 1",
            f"FFN {depth}",  # shared-attention
            f"attention {depth}",
            "FFN 1",  # shared-FFN
            f"attention {depth}",
            f"FFN {depth}",
        ]  # not-shared


def test_the_sharing_diagrams_parameter_counts_follow_from_the_sub_layer_counts():
    """AlbertModel = embeddings + projection + n_att attention blocks + n_ffn FFN blocks + pooler, computed here."""
    config = BASE
    V, E, H, I, P = (
        config.vocab_size,
        config.embedding_size,
        config.hidden_size,
        config.intermediate_size,
        config.max_position_embeddings,
    )
    outside_layers = (V + P + 2) * E + 2 * E + (E * H + H) + (H * H + H)
    attention, ffn = 4 * H * H + 4 * H + 2 * H, 2 * H * I + I + H + 2 * H  # each with the LayerNorm after it
    L = config.num_hidden_layers
    expected = {"all-shared": (1, 1), "shared-attention": (1, L), "shared-FFN": (L, 1), "not-shared": (L, L)}
    printed = " ".join(t.get_text() for t in texts(diagrams.sharing_strategies_diagram(config)))
    for n_att, n_ffn in expected.values():
        total = outside_layers + n_att * attention + n_ffn * ffn
        assert f"{n_att} attention, {n_ffn} FFN\nAlbertModel: {total / 1e6:.1f}M parameters" in printed


def test_the_nsp_and_sop_rows_hold_the_segments_in_the_order_the_labels_say():
    fig = diagrams.nsp_sop_diagram()
    words = {"[CLS]", "[SEP]", "A", "B", "R"}
    pieces = [t for t in texts(fig) if t.get_text() in words and t.get_position()[1] < 2]
    rows = {}
    for t in pieces:
        x, y = t.get_position()
        rows.setdefault((x < 5, round(y, 2)), []).append((x, t.get_text()))
    sequences = {key: " ".join(text for _, text in sorted(row)) for key, row in rows.items()}
    nsp = [sequences[key] for key in sorted(sequences, reverse=True) if key[0]]
    sop = [sequences[key] for key in sorted(sequences, reverse=True) if not key[0]]
    assert nsp == ["[CLS] A [SEP] B [SEP]", "[CLS] A [SEP] R [SEP]"]  # IsNext (0), NotNext (1)
    assert sop == ["[CLS] A [SEP] B [SEP]", "[CLS] B [SEP] A [SEP]"]  # in order (0), swapped (1)
    printed = [t.get_text() for t in texts(fig)]
    assert {"IsNext, label 0", "NotNext, label 1", "in order, label 0", "swapped, label 1"} <= set(printed)


@pytest.mark.parametrize("head", diagrams.FINETUNING_HEADS, ids=lambda h: h.model_class.__name__)
def test_each_heads_wiring_is_the_models(head):
    config = AlbertConfig.from_preset("tiny", num_labels=2 if head.outputs == "2" else 3)
    model = head.model_class(config).eval()
    B, T, C = 2, 5, 3
    sizes = {"B": B, "T": T, "C": C, "num_labels": config.num_labels, "1": 1, "2": 2}
    layer = getattr(model, head.layer)
    assert isinstance(layer, torch.nn.Linear)
    assert (layer.in_features, layer.out_features) == (config.hidden_size, sizes[head.outputs])
    assert hasattr(model, "dropout") == head.dropout
    assert (model.albert.pooler is not None) == (head.reads == "pooled")
    shape = (B, C, T) if "C" in dict(head.logits).get("logits", "") else (B, T)
    with torch.no_grad():
        output = model(torch.randint(5, config.vocab_size, shape))
    for field, letters in head.logits:
        expected = tuple(sizes[letter] for letter in letters.strip("()").split(", "))
        assert tuple(getattr(output, field).shape) == expected, field
