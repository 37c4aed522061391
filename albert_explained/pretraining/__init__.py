"""Pretraining ALBERT from raw text, end to end: corpus -> tokenizer -> masked sentence-order pairs -> a trained model.

    corpus.py      Shakespeare's plays (or your own text), split by document
    data.py        sentence-order pairs and n-gram masking, as Google's create_pretraining_data.py builds them
    objective.py   the MLM + SOP loss and its evaluation on held-out pairs
    card.py        the exported model directory and its card (card.md)
    run.py         PretrainingConfig and pretrain(): the whole run, resumable, on CPU, GPU or several processes

`albert-explained pretrain` (cli.py) builds a `PretrainingConfig` from its flags and calls `pretrain`.
"""

from .run import PretrainingConfig, PretrainingResult, pretrain

__all__ = ["PretrainingConfig", "PretrainingResult", "pretrain"]
