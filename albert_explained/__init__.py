"""albert-explained: ALBERT ("A Lite BERT", Lan et al., 2020, arXiv 1909.11942) built to be read.

Every module is a plain PyTorch `nn.Module`, annotated with the paper's equations and the shape of every tensor,
and checked number for number against Hugging Face transformers' ALBERT (same outputs, losses, parameter counts and
state-dict keys, so checkpoints move between the two).

Read it in this order:

    config.py       AlbertConfig, BertConfig and the published presets
    tokenizer/      SentencePiece with ALBERT's rules (normalization.py), the reference's API, train_tokenizer
    model.py        the whole model in one sitting, in data-flow order: embeddings, attention, the layer, the
                    encoder with cross-layer sharing, AlbertModel, and the pretraining heads (MLM + SOP)
    task_heads.py   the four fine-tuning heads on AlbertModel: sequence, token, question answering, multiple choice
    checks.py       the input and label checks every forward pass starts with
    weights.py      the base class of every model: initialisation, from_pretrained / save_pretrained
    bert.py         BERT built from the same parts, for comparison
    parameters.py   parameter counts by component and the paper's tables

and around the model:

    pretraining/    corpus, SOP pairs and n-gram masking, the MLM + SOP objective, pretrain(), the model card
    training/       what pretraining and fine-tuning share: optimisers, checkpoints, DDP, progress bars
    views/          attention views that work offline, analyses of heads, bertviz adapters, architecture diagrams
    bundled/        a tiny ALBERT pretrained here on Shakespeare, with its card
    fill_mask.py    fill in [MASK]s, like transformers' fill-mask pipeline
    device.py       get_device(): CUDA when present, else CPU; bf16 autocast
    cli.py          the `albert-explained` command

Dimension letters used in every comment:

    B batch size          T tokens in a sequence     V vocabulary size
    E embedding size      H hidden size              N attention heads
    D head size (H / N)   I FFN inner size           L layers (depth)
    G groups of shared layer weights                 C choices (multiple choice)
"""

from .config import ALBERT_PRESETS, BERT_PRESETS, AlbertConfig, BertConfig
from .model import (
    AlbertForMaskedLM,
    AlbertForPreTraining,
    AlbertForPreTrainingOutput,
    AlbertModel,
    AlbertModelOutput,
    TaskOutput,
)
from .task_heads import (
    AlbertForMultipleChoice,
    AlbertForQuestionAnswering,
    AlbertForSequenceClassification,
    AlbertForTokenClassification,
    QuestionAnsweringOutput,
)
from .bert import BertModel
from .device import get_device
from .parameters import count_parameters, format_table, paper_parameter_table
from .tokenizer import AlbertTokenizer, BatchEncoding, train_tokenizer
from .weights import LoadingInfo

__all__ = [
    "ALBERT_PRESETS",
    "BERT_PRESETS",
    "AlbertConfig",
    "BertConfig",
    "AlbertModel",
    "AlbertModelOutput",
    "AlbertForPreTraining",
    "AlbertForPreTrainingOutput",
    "AlbertForMaskedLM",
    "AlbertForSequenceClassification",
    "AlbertForTokenClassification",
    "AlbertForQuestionAnswering",
    "AlbertForMultipleChoice",
    "TaskOutput",
    "QuestionAnsweringOutput",
    "BertModel",
    "LoadingInfo",
    "count_parameters",
    "paper_parameter_table",
    "format_table",
    "get_device",
    "AlbertTokenizer",
    "BatchEncoding",
    "train_tokenizer",
]
