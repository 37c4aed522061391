"""Extractive question answering: "Who says '...'?", answered with a speaker cue copied from a short scene.

SQuAD gives a question and a context paragraph; the answer is a span of the context, and the model scores every
piece as the span's start and as its end:

    [CLS] who says " stand , and unfold ... " ? [SEP] bernardo : who ' s there ? francisco : nay , answer ... [SEP]
                                                       ^start   ^end
    last_hidden_state (B, T, H) -> start_logits, end_logits (B, T) -> cross-entropy at the true start and end

Here the context is a stretch of one scene, each speech printed as its speaker cue and its first line,

    BERNARDO: Who's there?
    FRANCISCO: Nay, answer me: stand, and unfold yourself.
    BERNARDO: Long live the king!

as many consecutive speeches as fit (two to four; at least two speakers), the question quotes the beginning of one
of those lines, up to nine words (as many as fit in 19 pieces), ending in "..." when it is cut ('Who says "Nay,
answer me: stand, and unfold yourself."?'), and the answer is the cue before it ("FRANCISCO"). The quote occurs
once in the context, so the answer is never ambiguous, and a reader checks it by looking one line up. Each speech
is cut to its first line so that several speakers fit in the 64 pieces of the bundled model. To answer, the model
must find the quoted words in the context and step back to the cue that opens their line: matching text across
the [SEP], the skill SQuAD's questions test. The quote's length matters: with quotes of at most six words (14
pieces) the bundled model never learned the matching and stayed at the baseline below; with nine it does.

**Spans and offsets.** The answer is given as text and its first character in the context (SQuAD's `answers`:
text, answer_start). `encode` turns it into piece positions with the tokenizer's `offset_mapping`, as
transformers' run_qa.py does: the start is the last context piece that begins at or before the answer's first
character, the end the first that ends at or after its last. Decoding runs the other way: the predicted pieces'
offsets give back the characters of the context, so the prediction is the context's own text, in its own case.
A context is never cut here; for examples of one's own, an answer that truncation to max_seq_length would cut
off is an error that names the example.

**Decoding** as transformers' question-answering pipeline does: the span (s, e) of context pieces with s <= e and
at most `max_answer_length` pieces that maximises start_logits[s] + end_logits[e].

**Score**: SQuAD v1.1's exact match (the task's score) and token F1 (`metrics.squad_scores`), which gives part
credit to "HENRY VI" for "KING HENRY VI".

Baseline: answer the first speaker cue of the context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional, Sequence

import torch

from ..task_heads import AlbertForQuestionAnswering
from .metrics import exact_match, squad_scores
from .plays import Play, load_plays, split_plays
from .task import (
    Encoded,
    PieceCounter,
    Task,
    TaskData,
    check_sizes,
    collate,
    model_outputs,
    sample_windows,
    share_out,
    split_rng,
)

TRAIN_SIZE, VALIDATION_SIZE = 4000, 400
QUOTE_WORDS = 9  # the most words a question quotes
QUESTION_PIECES = 19  # the most pieces a question may have; the context gets the rest of max_seq_length
MAX_ANSWER_LENGTH = 15  # the longest answer decoded, in pieces (the pipeline's max_answer_len)
_FIRST_CUE = re.compile(r"^([^:\n]+):", re.MULTILINE)


@dataclass(frozen=True)
class WhoSaysExample:
    question: str  # 'Who says "Long live the king!"?'
    context: str  # speeches, one per line: "BERNARDO: Who's there?\nFRANCISCO: ..."
    answer: str  # the speaker cue, as the context prints it
    answer_start: int  # the answer's first character in context
    play: str


def question_for(line: str, words: int) -> str:
    """'Who says "<the first `words` words of line>"?', with "..." when the line goes on."""
    kept = line.split()[:words]
    quote = " ".join(kept) + (" ..." if len(kept) < len(line.split()) else "")
    return f'Who says "{quote}"?'


def scene_examples(
    play: Play, max_seq_length: int, count: int, rng: Any, count_pieces: PieceCounter
) -> list[WhoSaysExample]:
    """Up to `count` questions on windows of consecutive speeches of `play`'s scenes."""
    scenes = [
        [f"{speech.speaker}: {speech.lines[0]}" for speech in scene.speeches if speech.speaker] for scene in play.scenes
    ]
    context_budget = max_seq_length - 3 - QUESTION_PIECES  # [CLS] question [SEP] context [SEP]

    def make(s: int, start: int, end: int) -> Optional[WhoSaysExample]:
        lines = scenes[s][start:end]
        speakers = [line.split(": ", 1)[0] for line in lines]
        if len(set(speakers)) < 2:
            return None
        context = "\n".join(lines)
        candidates = []
        for k, line in enumerate(lines):
            spoken = line.split(": ", 1)[1]
            for words in range(QUOTE_WORDS, 0, -1):  # the longest quote that fits in QUESTION_PIECES
                question = question_for(spoken, words)
                if count_pieces([question])[0] <= QUESTION_PIECES:
                    break
            else:
                continue
            quote = " ".join(spoken.split()[:words])
            if context.lower().count(quote.lower()) == 1:
                candidates.append((k, question))
        if not candidates:
            return None
        k, question = rng.choice(candidates)
        answer_start = sum(len(line) + 1 for line in lines[:k])  # each line and its newline
        return WhoSaysExample(question, context, speakers[k], answer_start, play.name)

    return sample_windows(scenes, count, context_budget, rng, count_pieces, make)


def make_examples(
    tokenizer: Any,
    max_seq_length: int = 64,
    train_size: Optional[int] = None,
    validation_size: Optional[int] = None,
    seed: int = 0,
) -> TaskData:
    """Questions on the training plays and on the held-out plays, equally many from each play."""
    train_size = TRAIN_SIZE if train_size is None else train_size
    validation_size = VALIDATION_SIZE if validation_size is None else validation_size
    check_sizes(max_seq_length, train_size, validation_size, smallest=QUESTION_PIECES + 16)
    count_pieces = PieceCounter(tokenizer)
    splits = {}
    for split, plays, size in zip(
        ("train", "validation"), split_plays(load_plays()), (train_size, validation_size), strict=True
    ):
        rng = split_rng(seed, split)
        examples: list[WhoSaysExample] = []
        for play, quota in zip(plays, share_out(size, len(plays)), strict=True):
            made = scene_examples(play, max_seq_length, quota, rng, count_pieces)
            if len(made) < quota:
                raise ValueError(
                    f"{split}_size {size} asks {quota} questions on {play.name}, which gives only "
                    f"{len(made)}; choose a smaller {split}_size"
                )
            examples += made
        rng.shuffle(examples)
        splits[split] = (examples, [play.name for play in plays])
    return TaskData(
        train=encode(splits["train"][0], tokenizer, max_seq_length),
        validation=encode(splits["validation"][0], tokenizer, max_seq_length),
        plays={split: names for split, (_, names) in splits.items()},
    )


def encode(examples: Sequence[WhoSaysExample], tokenizer: Any, max_seq_length: int = 64) -> list[Encoded]:
    """[CLS] question [SEP] context [SEP], the context cut to fit max_seq_length, and the answer's first and last
    piece as start_positions and end_positions."""
    for i, example in enumerate(examples):
        found = example.context[example.answer_start : example.answer_start + len(example.answer)]
        if not example.answer.strip() or found != example.answer:
            raise ValueError(
                f"examples[{i}].answer {example.answer!r} is not at answer_start "
                f"{example.answer_start} of its context, which has {found!r} there"
            )
    encoding = tokenizer(
        [example.question for example in examples],
        [example.context for example in examples],
        truncation="only_second",
        max_length=max_seq_length,
        return_offsets_mapping=True,
    )
    encoded = []
    for i, example in enumerate(examples):
        offsets = encoding["offset_mapping"][i]
        first, last = context_pieces(encoding["token_type_ids"][i])
        start_char, end_char = example.answer_start, example.answer_start + len(example.answer)
        if offsets[last][1] < end_char:
            raise ValueError(
                f"examples[{i}] ({example.play}): the answer {example.answer!r} (characters {start_char} "
                f"to {end_char} of the context) is cut off when the question and context are truncated "
                f"to max_seq_length = {max_seq_length} pieces, which keeps the context's first "
                f"{offsets[last][1]} characters; shorten the context or raise max_seq_length"
            )
        start = first
        while start < last and offsets[start + 1][0] <= start_char:
            start += 1  # the last piece that begins at or before the answer's first character
        end = last
        while end > start and offsets[end - 1][1] >= end_char:
            end -= 1  # the first piece that ends at or after its last character
        recovered = example.context[offsets[start][0] : offsets[end][1]].strip()
        if recovered != example.answer.strip():
            raise ValueError(
                f"examples[{i}]: the answer {example.answer!r} does not begin and end where pieces do; "
                f"the pieces that cover it spell {recovered!r}"
            )
        encoded.append(
            Encoded(
                example,
                {key: encoding[key][i] for key in ("input_ids", "token_type_ids", "attention_mask")},
                {"start_positions": start, "end_positions": end},
                offset_mapping=offsets,
            )
        )
    return encoded


def context_pieces(token_type_ids: Sequence[int]) -> tuple[int, int]:
    """The first and last position of the context's pieces in [CLS] question [SEP] context [SEP]."""
    first = list(token_type_ids).index(1)
    return first, len(token_type_ids) - 2  # the last piece is the final [SEP]


def best_span(
    start_logits: torch.Tensor,
    end_logits: torch.Tensor,
    first: int,
    last: int,
    max_answer_length: int = MAX_ANSWER_LENGTH,
) -> tuple[int, int]:
    """The (start, end) with first <= start <= end <= last and end - start < max_answer_length that maximises
    start_logits[start] + end_logits[end]."""
    scores = start_logits[first : last + 1, None] + end_logits[None, first : last + 1]  # (n, n): start x end
    n = last - first + 1
    offset = torch.arange(n)[None, :] - torch.arange(n)[:, None]  # end - start
    scores = scores.masked_fill((offset < 0) | (offset >= max_answer_length), float("-inf"))
    flat = int(scores.argmax())
    return first + flat // n, first + flat % n


def predict(
    model: torch.nn.Module,
    examples: Sequence[Encoded],
    batch_size: int = 64,
    device: Optional[torch.device] = None,
    max_answer_length: int = MAX_ANSWER_LENGTH,
) -> list[str]:
    """The answer the model gives to each question: the best span's characters of the context."""
    answers = []
    for chunk, output in model_outputs(model, examples, batch_size, device):
        start_logits, end_logits = output.start_logits.float().cpu(), output.end_logits.float().cpu()  # (B, T)
        for row, encoded in enumerate(chunk):
            first, last = context_pieces(encoded.inputs["token_type_ids"])
            start, end = best_span(start_logits[row], end_logits[row], first, last, max_answer_length)
            offsets = encoded.offset_mapping
            answers.append(encoded.example.context[offsets[start][0] : offsets[end][1]].strip())
    return answers


def evaluate(
    model: torch.nn.Module, examples: Sequence[Encoded], batch_size: int = 64, device: Optional[torch.device] = None
) -> dict[str, float]:
    """SQuAD's exact match and F1 of the predicted answers."""
    return squad_scores(predict(model, examples, batch_size, device), [[e.example.answer] for e in examples])


def first_speaker(context: str) -> str:
    """The first speaker cue of a context ("BERNARDO" for "BERNARDO: Who's there?\\n..."); its first word if it
    has no cue."""
    match = _FIRST_CUE.search(context)
    return match.group(1) if match else (context.split() or [""])[0]


def baseline(train: Sequence[Encoded], validation: Sequence[Encoded]) -> float:
    """Exact match on `validation` of answering the first speaker cue of the context (`train` is not needed)."""
    return squad_scores(
        [first_speaker(e.example.context) for e in validation], [[e.example.answer] for e in validation]
    )["exact_match"]


def show(model: torch.nn.Module, examples: Sequence[Encoded], device: Optional[torch.device] = None) -> str:
    """Each question with its context, the model's answer and the true one."""
    blocks = []
    for encoded, answer in zip(examples, predict(model, examples, device=device), strict=True):
        example = encoded.example
        verdict = "right" if exact_match(answer, example.answer) else "wrong"
        context = "\n".join("    " + line for line in example.context.split("\n"))
        blocks.append(
            f"{example.question}   ({example.play})\n{context}\n"
            f"  the model answers {answer!r}, the answer is {example.answer!r}: {verdict}"
        )
    return "\n\n".join(blocks)


TASK = Task(
    name="question-answering",
    question="Who says this line? (the answer is a speaker cue of the scene)",
    model_class=AlbertForQuestionAnswering,
    metric="exact_match",
    id2label=None,
    baseline_name="the first speaker cue of the context",
    steps=600,
    make_examples=make_examples,
    collate=collate,
    predict=predict,
    evaluate=evaluate,
    baseline=baseline,
    show=show,
)
