"""Fine-tuning: four tasks made from Shakespeare's plays, one for each task head.

The ALBERT paper's results are fine-tuning results: GLUE (sentence classification), SQuAD (question answering),
RACE (multiple choice). Each puts a small layer on the pretrained encoder and trains the whole model briefly on
labelled examples. This folder makes such examples offline, from the plays the bundled model was pretrained on,
with labels that the printed plays themselves give (speaker cues, scenes, genres; see `plays.py`), so that every
label can be checked by eye. Train and validation come from different plays: the 34 training plays of the
pretraining corpus and its 4 held-out plays (`pretraining.corpus.VALIDATION_PLAYS`), so validation measures what
the model learned about the task, not what it remembers of a play.

| task (= the head)       | module          | input -> label                                  | score     | baseline  |
|-------------------------|-----------------|-------------------------------------------------|-----------|-----------|
| sequence-classification | genre.py        | a passage -> comedy/history/romance/tragedy     | accuracy  | majority  |
| token-classification    | name_tagging.py | spoken lines -> B-PER / I-PER / O per word      | entity F1 | name list |
| question-answering      | who_says.py     | 'Who says "..."?' + a scene -> a speaker cue    | EM, F1    | 1st cue   |
| multiple-choice         | next_line.py    | a line + 4 candidates -> the line that follows  | accuracy  | 1/4       |

Every example fits in max_seq_length pieces (64 for the bundled model, [CLS] and [SEP] included), and the default
sizes (a few thousand examples) let a few hundred steps of batch 16-32 on a laptop CPU move each score clearly off
its baseline. Scores are fractions in [0, 1].

How a training loop uses a task (`task.py` describes the `Task` record and the encoded examples):

    from albert_explained.finetuning import get_task
    from albert_explained.bundled import bundled_model_dir

    task = get_task("token-classification")
    model = task.model_class.from_pretrained(bundled_model_dir(), **task.config_overrides())
    tokenizer = AlbertTokenizer.from_pretrained(bundled_model_dir())
    data = task.make_examples(tokenizer, max_seq_length=64, train_size=2000, validation_size=400, seed=0)
    batch = task.collate(data.train[:32], tokenizer.pad_token_id)    # the head's keyword arguments
    model(**batch).loss.backward()                                   # labels included: a loss comes out
    task.evaluate(model, data.validation)        # {"entity_f1": ..., "precision": ..., "recall": ...}
    task.baseline(data.train, data.validation)   # same units as task.metric
    print(task.show(model, data.validation[:3]))

Each task module also has `encode(examples, tokenizer, max_seq_length)` for readable examples of one's own
(GenreExample, NamesExample, WhoSaysExample, NextLineExample), which checks them before any work: a label outside
the label set, an answer that is not in its context or that truncation would cut off, an example with a different
number of choices from the others.
"""

from __future__ import annotations

from . import genre, name_tagging, next_line, who_says
from .task import TASK_NAMES, Encoded, Task, TaskData, batches_of, collate

TASKS: dict[str, Task] = {task.name: task for task in (genre.TASK, name_tagging.TASK, who_says.TASK, next_line.TASK)}


def get_task(name: str) -> Task:
    """The task called `name`: one of "sequence-classification", "token-classification", "question-answering",
    "multiple-choice" (the names of the heads they train)."""
    if name not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASK_NAMES)}, got {name!r}")
    return TASKS[name]


__all__ = [
    "TASKS",
    "TASK_NAMES",
    "Task",
    "TaskData",
    "Encoded",
    "get_task",
    "collate",
    "batches_of",
    "genre",
    "name_tagging",
    "who_says",
    "next_line",
]
