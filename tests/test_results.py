"""docs/results.md, the page of measured runs: its figures for the bundled model are that model's metrics.json, and
its figures about the corpus are measured again here. (No test reads a docstring: docstrings point to this page.)"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import json
from typing import Any

import pytest

from albert_explained.bundled import BUNDLED_MODEL_COMMAND, BUNDLED_MODEL_DIR

HAS_BUNDLED = (BUNDLED_MODEL_DIR / "model.safetensors").is_file()
needs_bundled = pytest.mark.skipif(not HAS_BUNDLED, reason="the bundled model has not been built")


def bundled_metrics() -> dict[str, Any]:
    return json.loads((BUNDLED_MODEL_DIR / "metrics.json").read_text(encoding="utf-8"))


def metrics_value(metrics: dict[str, Any], path: str) -> Any:
    """A value of metrics.json by its dotted path ("validation.mlm_accuracy"), or the ratio "a / b" of two."""
    if " / " in path:
        numerator, denominator = path.split(" / ")
        return metrics_value(metrics, numerator) / metrics_value(metrics, denominator)
    value = metrics
    for key in path.split("."):
        value = value[key]
    return value


def as_shown(value: Any, shown: str) -> str:
    """`value` written the way the page writes a figure of that kind: 29.0%, 27.6 min, 17,000, bf16."""
    if shown.endswith("%"):
        return f"{value:.1%}"
    if shown.endswith(" min"):
        return f"{value / 60:.1f} min"  # metrics.json keeps seconds
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@needs_bundled
def test_the_bundled_model_section_gives_the_figures_of_its_metrics_json(results_page):
    metrics = bundled_metrics()
    table = results_page.table("The bundled model")
    assert len(table) >= 10
    for label, (shown, path) in table.items():
        assert shown == as_shown(metrics_value(metrics, path.strip("`")), shown), label
    # The command the section gives is the one that made the model, and the one the missing-model error names.
    assert f"`{metrics['command']}`" in results_page.section("The bundled model")
    assert metrics["command"] == BUNDLED_MODEL_COMMAND


@pytest.mark.parametrize(
    "section, changes",
    [
        ("What sharing costs", {}),
        ("What sharing costs", {"sharing": "not-shared"}),  # the same computation, L times the layer weights
        (
            "Other knobs",
            {"hidden_size": 256, "num_attention_heads": 4, "intermediate_size": 1024, "num_hidden_layers": 2},
        ),  # the wider, shallower shape
    ],
)
def test_the_page_gives_the_parameter_counts_of_the_recipe_and_its_variants(results_page, section, changes):
    from albert_explained import AlbertForPreTraining
    from albert_explained.pretraining import PretrainingConfig

    config = PretrainingConfig(**changes).model_config(PretrainingConfig().vocab_size)
    parameters = sum(p.numel() for p in AlbertForPreTraining(config).parameters())
    assert f"{parameters:,}" in results_page.section(section)


@needs_bundled
def test_the_corpus_figures_are_measured_again(results_page, monkeypatch):
    """How the recipe behaves on the plays (with the bundled model's tokenizer and data settings, drawn as pretrain()
    draws them), and how rare a lone '▁' before punctuation is: every row of "The corpus, measured"."""
    import albert_explained.pretraining.data as data_module
    from albert_explained.pretraining import PretrainingConfig
    from albert_explained.pretraining.data import (
        IGNORE_INDEX,
        SpecialIds,
        choose_masked_spans,
        create_examples,
        tokenize_documents,
        word_spans,
    )
    from albert_explained.pretraining.run import load_split
    from albert_explained.tokenizer import AlbertTokenizer

    table = {label: cells[0] for label, cells in results_page.table("The corpus, measured").items()}
    metrics = bundled_metrics()
    config = PretrainingConfig(
        **{k: v for k, v in metrics["training_config"].items() if k in PretrainingConfig.__dataclass_fields__}
    )
    tokenizer = AlbertTokenizer.from_pretrained(BUNDLED_MODEL_DIR)
    ids = SpecialIds.from_tokenizer(tokenizer)
    split = load_split(config)
    train, validation = tokenize_documents(split.train, tokenizer), tokenize_documents(split.validation, tokenizer)

    held_out = sum(len(line.split()) for play in split.validation for line in play.sentences)
    words = held_out + sum(len(line.split()) for play in split.train for line in play.sentences)
    assert table["held-out words"] == f"{round(held_out, -3):,} of {round(words, -4):,}"

    pieces = [piece for document in train for line in document for piece in line]
    unknown = pieces.count(tokenizer.unk_token_id)
    assert table["`<unk>` pieces among the training pieces"] == f"{unknown} of {len(pieces):,}"
    # fill_mask drops the lone '▁' that the tokenizer puts after a glued [MASK]: the training text has few of them.
    lone = tokenizer.convert_tokens_to_ids("▁")
    punctuation = {
        i
        for i, piece in enumerate(tokenizer.convert_ids_to_tokens(list(range(len(tokenizer)))))
        if not piece.startswith("▁") and not piece[0].isalnum() and i != tokenizer.unk_token_id
    }
    before_punctuation = sum(
        first == lone and second in punctuation
        for document in train
        for line in document
        for first, second in itertools.pairwise(line)
    )
    assert (
        table["lone '▁' pieces before punctuation, among the training pieces"]
        == f"{before_punctuation} of {len(pieces):,}"
    )

    # Pairs of the first epoch whose two segments together are one line of a play, cut inside it.
    lines = {tuple(line) for document in train for line in document}
    examples = create_examples(train, ids, config.data_config(), seed=config.seed, epoch=0, shuffle=False)
    one_line = 0
    for example in examples:
        assert tokenizer.unk_token_id not in [label for label in example.labels if label != IGNORE_INDEX]
        original = [
            piece if label == IGNORE_INDEX else label
            for piece, label in zip(example.input_ids, example.labels, strict=True)
        ]  # (T,): unmasked
        middle = original.index(ids.sep)
        first, second = original[1:middle], original[middle + 1 : -1]
        if example.sentence_order_label == 1:
            first, second = second, first
        one_line += tuple(first + second) in lines
    assert (
        table["one-line pairs in the first epoch"]
        == f"{one_line} of {len(examples):,} ({one_line / len(examples):.1%})"
    )
    assert max(len(line) for line in lines) <= config.max_seq_length - 3  # no line is longer than T - 3

    # Span lengths in words on the held-out pairs: record what choose_masked_spans returns while examples are made.
    lengths = collections.Counter()

    def recording(words, budget, data_config, rng):
        spans = choose_masked_spans(words, budget, data_config, rng)
        word_of = {position: i for i, word in enumerate(words) for position in word}
        lengths.update(len({word_of[position] for position in span}) for span in spans)
        return spans

    monkeypatch.setattr(data_module, "choose_masked_spans", recording)
    held_out_pairs = create_examples(
        validation, ids, config.validation_data_config(), seed=config.seed + 1, shuffle=False
    )
    monkeypatch.undo()
    share = [lengths[n] / sum(lengths.values()) for n in (1, 2, 3)]
    assert table["spans of 1, 2 and 3 words on the held-out pairs"] == ", ".join(f"{s:.0%}" for s in share)

    pieces_per_pair = sum(len(e.input_ids) - 3 for e in held_out_pairs) / len(held_out_pairs)
    assert table["pieces per held-out pair, without [CLS] and the two [SEP]"] == f"about {pieces_per_pair:.0f}"

    # The card's second MLM row masks single whole words (max_ngram=1); a word of several pieces hides them all.
    single = create_examples(
        validation,
        ids,
        dataclasses.replace(config.validation_data_config(), max_ngram=1),
        seed=config.seed + 1,
        shuffle=False,
    )
    masked_words = []
    for example in single:
        original = [
            piece if label == IGNORE_INDEX else label
            for piece, label in zip(example.input_ids, example.labels, strict=True)
        ]  # (T,): unmasked
        masked_words += [word for word in word_spans(original, ids) if example.labels[word[0]] != IGNORE_INDEX]
    several = sum(len(word) > 1 for word in masked_words) / len(masked_words)
    assert table["masked words of several pieces, single-word masks"] == f"about 1 in {1 / several:.0f}"


@pytest.mark.parametrize(
    "heading, rows", [("Fine-tuning: the defaults", 8), ("Fine-tuning: how the defaults were found", 11)]
)
def test_the_fine_tuning_tables_give_the_figures_of_each_runs_metrics_json(results_page, heading, rows):
    from pathlib import Path

    from albert_explained.finetuning import get_task
    from albert_explained.finetuning.run import FinetuningConfig

    root = Path(__file__).resolve().parent.parent
    table = results_page.table(heading)
    assert len(table) == rows
    for label, (steps, rate, metric, score, baseline, wall_time, path) in table.items():
        metrics = json.loads((root / path.strip("`")).read_text(encoding="utf-8"))
        assert int(steps.replace(",", "")) == metrics["steps"], label
        assert float(rate) == metrics["training_config"]["learning_rate"], label
        assert metric == metrics["metric"], label
        assert score == f"{metrics['score']:.1%}", label
        assert baseline == f"{metrics['baseline']:.1%}", label
        assert wall_time == f"{metrics['wall_time_seconds']:.0f} s", label
        assert metrics["from_scratch"] == ("from scratch" in label), label
        if heading == "Fine-tuning: the defaults":  # made with the package's defaults, as they are now
            config = FinetuningConfig(task=metrics["task"])
            assert metrics["training_config"]["learning_rate"] == config.learning_rate, label
            assert metrics["steps"] == get_task(metrics["task"]).steps == config.steps, label
            assert metrics["training_config"]["train_size"] is None, label  # the task's default number of examples
            assert "--steps" not in metrics["command"] and "--learning-rate" not in metrics["command"], label
            assert metrics["score"] > metrics["baseline"] or metrics["from_scratch"], label  # what the text says


def test_the_nsp_against_sop_table_gives_the_figures_of_each_runs_metrics_json(results_page):
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    table = results_page.table("NSP against SOP")
    assert set(table) == {"trained on NSP", "trained on SOP"}
    for label, (steps, mlm, sop, nsp, pair_loss, wall_time, path) in table.items():
        metrics = json.loads((root / path.strip("`")).read_text(encoding="utf-8"))
        v = metrics["validation"]
        assert f"--objective {label.split()[-1].lower()} " in metrics["command"], label
        assert metrics["training_config"]["objective"] == label.split()[-1].lower(), label
        assert int(steps.replace(",", "")) == metrics["steps"], label
        assert (mlm, sop, nsp) == tuple(f"{v[key]:.1%}" for key in ("mlm_accuracy", "sop_accuracy", "nsp_accuracy"))
        assert pair_loss == f"{v['sop_loss']:.3f}", label
        assert wall_time == f"{metrics['wall_time_seconds']:.0f} s", label
        assert v["pairs"] == 2011
    # What the text (and notebook 08's appendix) says of them.
    nsp, sop = (
        json.loads((root / f"docs/runs/pretraining/{o}/metrics.json").read_text(encoding="utf-8"))
        for o in ("nsp", "sop")
    )
    assert abs(nsp["validation"]["sop_accuracy"] - 0.5) < 0.02 and abs(sop["validation"]["nsp_accuracy"] - 0.5) < 0.02
    assert sop["validation"]["sop_accuracy"] > 0.6 and nsp["validation"]["nsp_accuracy"] > 0.55  # 5+ standard errors
    nsp_curve, sop_curve = ({r["step"]: r for r in run["learning_curve"]} for run in (nsp, sop))
    first, last = nsp_curve[1000]["sop_loss"], nsp_curve[11000]["sop_loss"]
    assert (f"{first:.3f}", f"{last:.3f}") == ("0.694", "0.716")
    assert (f"{sop_curve[4000]['sop_accuracy']:.1%}", f"{sop_curve[5000]['sop_accuracy']:.1%}") == ("50.7%", "55.5%")
    assert abs(sop["validation"]["mlm_accuracy"] - nsp["validation"]["mlm_accuracy"]) < 0.01
    for objective in ("nsp", "sop"):  # the earlier, shorter pair: neither pair task learned
        v = json.loads(
            (root / f"docs/runs/pretraining/3000-steps/{objective}/metrics.json").read_text(encoding="utf-8")
        )["validation"]
        assert all(abs(v[key] - 0.5) <= 0.014 for key in ("sop_accuracy", "nsp_accuracy")) and v["pairs"] == 2011


def test_the_fine_tuning_run_alone_is_what_the_page_and_the_readme_say(results_page):
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    path = "docs/runs/finetuning/alone/multiple-choice/metrics.json"
    metrics = json.loads((root / path).read_text(encoding="utf-8"))
    said = f"took {metrics['wall_time_seconds']:.0f} s and scored the same {metrics['score']:.1%}"
    assert " ".join(said.split()) in " ".join(results_page.section("Fine-tuning: the defaults").split())
    assert (
        metrics["score"]
        == json.loads(
            (root / "docs/runs/finetuning/multiple-choice-pretrained/metrics.json").read_text(encoding="utf-8")
        )["score"]
    )
    assert "--num-threads" not in metrics["command"] and metrics["hardware"].startswith("AMD EPYC, 2 torch threads")
    assert f"the slowest, {metrics['wall_time_seconds']:.0f} s" in (root / "README.md").read_text(encoding="utf-8")


def test_the_speed_table_gives_the_figures_of_the_committed_benchmark_report(results_page):
    """The Intel Xeon table of the speed section is benchmarks/results/cpu.json, computed as the report computes it
    (ratios round by round, % of matmul at the median), and the README quotes the same figures."""
    import runpy
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    report = runpy.run_path(str(root / "benchmarks" / "report.py"), run_name="report")
    data = json.loads((root / "benchmarks" / "results" / "cpu.json").read_text(encoding="utf-8"))
    assert "--only forward,train --presets albert-base-v2 --shapes 1x16,8x128 --threads 2" in data["command"]
    groups = {(g["section"], g["shape"]): report["Group"](**g) for s in data["sections"].values() for g in s}
    columns = [("forward", "1 x 16"), ("forward", "8 x 128"), ("train", "1 x 16"), ("train", "8 x 128")]
    section = results_page.section("Speed: the hot path (issue 27)")
    lines = section[section.index("| albert-base-v2, Intel Xeon |") :].splitlines()
    table = {row[0]: row[1:] for row in ([c.strip() for c in line.strip("|").split("|")] for line in lines[2:6])}

    def shown(row: str, column: str) -> list[str]:
        cells = []
        for key in columns:
            low, median, high = report["ratios"](groups[key].times, row, column)
            cells.append(f"{median:.2f} ({low:.2f}-{high:.2f})")
        return cells

    ours_sdpa, ours_eager = report["OURS_SDPA"], report["OURS_EAGER"]
    assert table["ours / transformers, SDPA"] == shown(ours_sdpa, report["REF_SDPA"])
    assert table["ours / transformers, eager"] == shown(ours_eager, report["REF_EAGER"])
    assert table["ours compiled / transformers SDPA"] == shown(report["OURS_COMPILED"], report["REF_SDPA"])
    assert table["ours (SDPA), % of torch.matmul's rate"] == [
        f"{groups[key].percent_of_matmul(ours_sdpa):.0f}%" for key in columns
    ]
    readme = " ".join((root / "README.md").read_text(encoding="utf-8").split())
    forward, train = groups[("forward", "8 x 128")], groups[("train", "8 x 128")]
    quoted = (
        f"{report['ratios'](forward.times, ours_sdpa, report['REF_SDPA'])[1]:.2f} for the forward pass and "
        f"{report['ratios'](train.times, ours_sdpa, report['REF_SDPA'])[1]:.2f} for a training step at 8 x 128"
    )
    assert quoted in readme


def test_the_tokenizer_and_memory_figures_are_those_of_the_committed_report(results_page):
    from pathlib import Path

    report = (
        Path(__file__).resolve().parent.parent / "benchmarks" / "results" / "tokenizer-memory" / "cpu.md"
    ).read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip() + "/" + line.split("|")[4].strip(): line
        for line in report.splitlines()
        if line.startswith("| lists") or line.startswith("| padded")
    }
    assert "| 0.124 (" in rows["lists/ours"] and "| 0.350 (" in rows["lists/ours"]
    assert "| 0.135 (" in rows["padded tensors/ours"] and "| 0.368 (" in rows["padded tensors/ours"]
    assert "differ from the slow one's on 252 of 5,000 lines" in report
    for row in (
        "| albert-base-v2 | 768 | 8 x 128 | 11,683,584 | 178 MiB | 823 MiB |",
        "| BERT like albert-base-v2 | 768 | 8 x 128 | 109,081,344 | 1,664 MiB | 1,940 MiB |",
        "| albert-large-v2 | 1024 | 8 x 128 | 17,683,968 | 270 MiB | 1,864 MiB |",
        "| BERT like albert-large-v2 | 1024 | 8 x 128 | 334,607,360 | 5,106 MiB | 5,496 MiB |",
    ):
        assert row in report
    assert "2.36x ALBERT's, 1,117 MiB more" in report and "2.95x ALBERT's, 3,632 MiB more" in report
    assert (f"{109_081_344 / 11_683_584:.1f}x", f"{334_607_360 / 17_683_968:.1f}x") == ("9.3x", "18.9x")
    page = " ".join(results_page.section("Speed: the hot path (issue 27)").split())
    for quoted in (
        "ours 0.124 as lists and 0.135 as padded tensors",
        "0.350 and 0.368",
        "252 of the 5,000 lines",
        "823 MiB against 1,940 MiB",
        "1,864 MiB against 5,496 MiB",
        "(1,117 MiB and 3,632 MiB)",
        "9.3x and 18.9x the parameters",
    ):
        assert quoted in page
