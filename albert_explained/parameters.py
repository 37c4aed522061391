"""Counting parameters: where ALBERT's savings come from, and the paper's tables 1, 3 and 4 rebuilt from real models.

Every count here is taken from a real model instance (`model.named_parameters()`), never from a formula, so it
always agrees with what the model holds. The formulas below say what those counts are made of.

**The pieces of one model** (V vocabulary, P = 512 positions, E embedding size, H hidden size, I = 4H FFN size,
L layers; a Linear(a -> b) holds a*b weights and b biases, a LayerNorm(n) holds 2n):

| component              | parameters                     | ALBERT-base (E=128, H=768) |
|------------------------|--------------------------------|----------------------------|
| word embeddings        | V x E                          | 3,840,000                  |
| position embeddings    | P x E                          | 65,536                     |
| token type embeddings  | 2 x E                          | 256                        |
| E -> H projection      | E x H + H                      | 99,072                     |
| attention, per layer   | 4 H^2 + 4 H  (Q, K, V, output) | 2,362,368                  |
| FFN, per layer         | 2 H I + I + H                  | 4,722,432                  |
| LayerNorms             | 2E, then 2 x 2H per layer      | 256 + 3,072                |
| pooler                 | H^2 + H                        | 590,592                    |
| total (AlbertModel)    |                                | 11,683,584                 |

**Factorized embeddings** (paper, section 3.1): BERT embeds the vocabulary straight into the hidden size, V x H
parameters; ALBERT embeds into E and projects up, V x E + E x H. With V = 30000 and H = 768 that is 23,040,000
against 3,938,304 (E = 128), and the gap grows with H: at H = 4096 (xxlarge) V x H would be 122.9M on its own.

**Cross-layer sharing divides the layer count out.** A layer costs 4H^2 + 4H + 2HI + I + H + 4H, about 12 H^2
(7.1M at H = 768). BERT keeps L of them; all-shared ALBERT keeps one group and applies it L times, so the encoder
costs one layer whatever L is: ALBERT-large (24 layers) has fewer parameters than BERT-base's embeddings. The paper's
partial strategies keep L copies of one sub-layer and one copy of the other: "shared-attention" saves
(L - 1)(4H^2 + 4H + 2H), "shared-FFN" saves (L - 1)(2HI + I + H + 2H) (our shared-FFN also shares the LayerNorm
after the FFN, see model.py, section 4). A tensor that several modules use is the same tensor object, and it is
counted once. The same goes for the MLM decoder, whose V x E weight *is* the word-embedding matrix (model.py,
section 6): a pretraining head adds only H x E + E + 2E + V (dense, LayerNorm, output bias) and the SOP classifier
2H + 2.

**Components by name.** `count_parameters` sorts each tensor by its state-dict name: the embedding tables, the
projection (`embedding_hidden_mapping_in`), attention (query, key, value, dense, and the relative-position
`distance_embedding` when a config asks for one), FFN (`ffn`, `ffn_output`), every LayerNorm of the base model, the
pooler, and "heads": everything outside the base model (MLM head including its LayerNorm, SOP, task classifiers), so
`count_parameters(AlbertForPreTraining).heads` is exactly what pretraining adds to AlbertModel. The names are the
reference's, so transformers' ALBERT and BERT models are read too (BERT's attention.self.query, intermediate.dense
and output.dense are attention and FFN).

**Which model the paper counts.** The paper does not say. We count `AlbertModel` with its pooler: the encoder that a
pretrained checkpoint holds, without the pretraining heads. Table 1's 12M for base and 18M for large need the pooler
(without it they are 11.1M and 16.6M); the pretraining heads on top would change no row's rounding, and fine-tuning
drops them. With it, every ALBERT row with E < H rounds to the paper's figure, whatever the sharing, except these:

- xlarge (paper 60M, ours 58.7M) and xxlarge (paper 235M in Table 1, 233M in its text; ours 222.6M, 223.2M with the
  pretraining heads, the "223M" of the Hugging Face model collection). No count of the published configurations
  gives the paper's figures.
- The not-shared rows (87M, 89M, 93M; ours 87.6M, 89.7M, 93.7M). Like the BERT rows, they round to the paper's
  figure only without the pooler, while the shared rows round to it only with the pooler. No single rule fits the
  paper; we keep one model class and say, row by row, where the paper differs.

Two more differences are systematic. Rows with E = H: Google's TensorFlow code skips the E -> H projection when
E = H, while transformers (and we, for checkpoint compatibility) always keep it (E x H + H = 590,592 at E = 768);
without it the E = 768 rows round to the paper's figures, and the not-shared E = 768 row is BERT-base's 108M
repeated. BERT rows: the paper counts BERT with ALBERT's vocabulary (V = 30000; BERT's own 30,522 pieces would add
522 x H) and, it seems, without the pooler. We build them with our `BertModel` (bert.py) at V = 30000, with its pooler
like the ALBERT rows, and the row's note gives the count without it.

Every model is built on PyTorch's meta device (`with torch.device("meta"):`): the tensors have shapes but no
storage, so even BERT-large and ALBERT-xxlarge take milliseconds and no memory.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Optional

import torch
from torch import nn

from .bert import BertModel
from .config import AlbertConfig, BertConfig
from .model import AlbertForPreTraining, AlbertModel

COMPONENTS = (
    "word_embeddings",
    "position_embeddings",
    "token_type_embeddings",
    "projection",
    "attention",
    "ffn",
    "layer_norms",
    "pooler",
    "heads",
)

# Readable names of the parts the paper's figures seem to leave out (see the module docstring).
_PART_NAMES = {"projection": "E->H projection", "pooler": "pooler"}


@dataclass(frozen=True)
class ParameterCount:
    """Parameters of one model by component; tensors used in several places are counted once."""

    word_embeddings: int = 0  # V x E
    position_embeddings: int = 0  # P x E
    token_type_embeddings: int = 0  # 2 x E
    projection: int = 0  # E x H + H (0 in BERT, where E = H)
    attention: int = 0  # 4 H^2 + 4 H per distinct attention sub-layer
    ffn: int = 0  # 2 H I + I + H per distinct FFN
    layer_norms: int = 0  # 2E for the embeddings, 2H for each distinct LayerNorm of the encoder
    pooler: int = 0  # H^2 + H, or 0 without a pooler
    heads: int = 0  # everything outside the base model: MLM (its decoder weight is the embeddings'), SOP, task heads

    @property
    def total(self) -> int:
        return sum(dataclasses.astuple(self))

    def __str__(self) -> str:
        total = self.total
        lines = [
            f"{name:<22}{value:>14,}  {100 * value / max(total, 1):5.1f}%"
            for name, value in dataclasses.asdict(self).items()
        ]
        return "\n".join(lines + [f"{'total':<22}{total:>14,}"])


def _component(name: str, base_model_prefix: str) -> str:
    """The component a parameter belongs to, read from its state-dict name."""
    if base_model_prefix and name.startswith(base_model_prefix + "."):
        name = name[len(base_model_prefix) + 1 :]  # "albert.encoder...." -> "encoder...."
    part, _, rest = name.partition(".")
    if part == "pooler":
        return "pooler"
    if part == "embeddings":
        table = rest.partition(".")[0]
        if table in ("word_embeddings", "position_embeddings", "token_type_embeddings"):
            return table
        if table == "LayerNorm":
            return "layer_norms"
    elif part == "encoder":
        if rest.startswith("embedding_hidden_mapping_in."):
            return "projection"
        if "LayerNorm." in rest or "layer_norm." in rest:  # attention.LayerNorm, full_layer_layer_norm
            return "layer_norms"
        if ".attention." in rest:  # query, key, value, dense (BERT: self.*, output.dense), distance_embedding
            return "attention"
        if any(f".{module}." in rest for module in ("ffn", "ffn_output", "intermediate", "output")):
            return "ffn"  # ALBERT: ffn, ffn_output; BERT: intermediate.dense, output.dense
    else:
        return "heads"  # not part of the base model: predictions, sop_classifier, classifier, qa_outputs, cls
    raise ValueError(f"count_parameters does not know which component {name!r} belongs to")


def count_parameters(model: nn.Module) -> ParameterCount:
    """Parameters of an ALBERT or BERT model (ours or transformers') by component; shared tensors counted once."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module (an ALBERT or BERT model), got {type(model).__name__}")
    prefix = getattr(model, "base_model_prefix", "")
    # Every name under which each tensor appears: a tensor shared across depth (or tied to the MLM decoder) has
    # several, and must be counted once. Tensors are keyed by identity, as `model.parameters()` does.
    names: dict[int, list[str]] = {}
    tensors: dict[int, nn.Parameter] = {}
    for name, parameter in model.named_parameters(remove_duplicate=False):
        names.setdefault(id(parameter), []).append(name)
        tensors[id(parameter)] = parameter

    counts = dict.fromkeys(COMPONENTS, 0)
    for key, parameter in tensors.items():
        components = [_component(name, prefix) for name in names[key]]
        # The tied decoder weight is also "predictions.decoder.weight"; it belongs to the word embeddings.
        component = next((c for c in components if c != "heads"), "heads")
        counts[component] += parameter.numel()
    return ParameterCount(**counts)


# --- The paper's tables ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaperRow:
    """One row of the paper's parameter columns: our exact count beside the paper's printed figure."""

    table: int  # 1, 3 or 4
    label: str  # the row as the paper names it ("ALBERT base", "not-shared, E=64", ...)
    model: str  # the class we count: "AlbertModel" or "BertModel", both with their pooler
    embedding_size: int  # E (= H for BERT)
    hidden_size: int  # H
    num_layers: int  # L
    sharing: str  # "all-shared", "shared-attention", "shared-FFN" or "not-shared" (BERT)
    count: int  # ours, exact
    paper: str  # the paper's figure as printed, e.g. "12M"
    reason: Optional[str] = None  # why ours rounds to something else; None when it rounds to the paper's figure

    @property
    def rounded(self) -> str:
        return _millions(self.count)

    @property
    def matches(self) -> bool:
        return self.rounded == self.paper


def _millions(count: int) -> str:
    """Rounded to the nearest million, the way the paper prints counts: 11,683,584 -> "12M"."""
    return f"{(count + 500_000) // 1_000_000}M"


@dataclass(frozen=True)
class _RowSpec:
    table: int
    label: str
    config: AlbertConfig | BertConfig
    paper: str
    leaves_out: tuple[str, ...] = ()  # components the paper's figure seems not to count
    why: str = ""


def _paper_rows() -> list[_RowSpec]:
    bert_why = "the paper's BERT figures fit only without the pooler"
    bert = [
        _RowSpec(
            1,
            f"BERT {size} (V=30000)",
            BertConfig.from_preset(f"bert-{size}", vocab_size=30000),
            paper,
            ("pooler",),
            bert_why,
        )
        for size, paper in (("base", "108M"), ("large", "334M"))
    ]
    albert = [
        _RowSpec(1, f"ALBERT {size}", AlbertConfig.from_preset(f"albert-{size}-v2"), paper)
        for size, paper in (("base", "12M"), ("large", "18M"), ("xlarge", "60M"), ("xxlarge", "235M"))
    ]

    def base(embedding_size: int, sharing: str) -> AlbertConfig:
        return AlbertConfig.from_preset("albert-base-v2", embedding_size=embedding_size, sharing=sharing)

    def ablation(table: int, label: str, embedding_size: int, sharing: str, paper: str) -> _RowSpec:
        if embedding_size == 768 and sharing == "not-shared":
            return _RowSpec(
                table,
                label,
                base(embedding_size, sharing),
                paper,
                ("projection", "pooler"),
                "not-shared with E = H is BERT-base, and the paper repeats BERT-base's figure",
            )
        if embedding_size == 768:
            return _RowSpec(
                table,
                label,
                base(embedding_size, sharing),
                paper,
                ("projection",),
                "Google's code skips the E->H projection when E = H; transformers and we keep it",
            )
        if sharing == "not-shared":
            return _RowSpec(
                table,
                label,
                base(embedding_size, sharing),
                paper,
                ("pooler",),
                "the paper's not-shared rows, like its BERT rows, fit only without the pooler",
            )
        return _RowSpec(table, label, base(embedding_size, sharing), paper)

    table3 = [
        ablation(3, f"{sharing}, E={e}", e, sharing, paper)
        for sharing, figures in (
            ("not-shared", ("87M", "89M", "93M", "108M")),
            ("all-shared", ("10M", "12M", "16M", "31M")),
        )
        for e, paper in zip((64, 128, 256, 768), figures, strict=True)
    ]
    table4 = [
        ablation(4, f"E={e}, {sharing}", e, sharing, paper)
        for e, figures in ((768, ("31M", "83M", "57M", "108M")), (128, ("12M", "64M", "38M", "89M")))
        for sharing, paper in zip(("all-shared", "shared-attention", "shared-FFN", "not-shared"), figures, strict=True)
    ]
    return bert + albert + table3 + table4


def _reason(spec: _RowSpec, counts: ParameterCount) -> Optional[str]:
    """Why our count rounds to something other than the paper's figure, with the numbers that show it."""
    if _millions(counts.total) == spec.paper:
        return None
    if spec.leaves_out:
        removed = sum(getattr(counts, part) for part in spec.leaves_out)
        adjusted = counts.total - removed
        parts = " and the ".join(_PART_NAMES[part] for part in spec.leaves_out)
        verdict = "" if _millions(adjusted) == spec.paper else f", still not {spec.paper}"
        return f"{spec.why}: without the {parts} ({removed:,}) ours is {adjusted:,} -> {_millions(adjusted)}{verdict}"
    # No part of the model explains the gap: say what the nearest counts are.
    with torch.device("meta"):
        with_heads = count_parameters(AlbertForPreTraining(spec.config)).total
    text = (
        f"not reproduced by any count of the published configuration: with the pretraining heads ours is "
        f"{with_heads:,} -> {_millions(with_heads)}"
    )
    if spec.paper == "235M":
        text += "; the paper's text says 233M, the Hugging Face model collection 223M"
    return text


def paper_parameter_table() -> list[PaperRow]:
    """The parameter columns of the paper's tables 1, 3 and 4, counted on models built on the meta device."""
    rows = []
    for spec in _paper_rows():
        config = spec.config
        with torch.device("meta"):  # shapes only: no memory, no time
            model = BertModel(config) if isinstance(config, BertConfig) else AlbertModel(config)
        counts = count_parameters(model)
        is_bert = isinstance(config, BertConfig)
        rows.append(
            PaperRow(
                table=spec.table,
                label=spec.label,
                model=type(model).__name__,
                embedding_size=config.hidden_size if is_bert else config.embedding_size,
                hidden_size=config.hidden_size,
                num_layers=config.num_hidden_layers,
                sharing="not-shared" if is_bert else config.sharing,
                count=counts.total,
                paper=spec.paper,
                reason=_reason(spec, counts),
            )
        )
    return rows


def format_table(rows: list[PaperRow], notes: bool = True) -> str:
    """A text table of the rows, with the reasons as numbered notes below it; with notes=False, only whether each
    row rounds to the paper's figure."""
    last = "note" if notes else "same"
    header = (
        f"{'table':<6}{'row':<28}{'model':<12}{'E':>5}{'H':>6}{'L':>4}  {'sharing':<18}"
        f"{'ours':>13}{'ours':>7}{'paper':>7}  {last}"
    )
    lines = [header, "-" * len(header)]
    reasons = []
    for row in rows:
        if not notes:
            note = "yes" if row.rounded == row.paper else "no"
        elif row.reason is not None:
            reasons.append(row.reason)
            note = f"[{len(reasons)}]"
        else:
            note = ""
        lines.append(
            f"{row.table:<6}{row.label:<28}{row.model:<12}{row.embedding_size:>5}{row.hidden_size:>6}"
            f"{row.num_layers:>4}  {row.sharing:<18}{row.count:>13,}{row.rounded:>7}{row.paper:>7}  {note}"
        )
    if reasons:
        lines.append("")
        lines += [f"[{i}] {text}" for i, text in enumerate(reasons, start=1)]
    return "\n".join(lines)


if __name__ == "__main__":
    print(format_table(paper_parameter_table()))
