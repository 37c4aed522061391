"""albert-explained: ALBERT ("A Lite BERT", Lan et al., 2020, arXiv 1909.11942) built to be read.

Every module is a plain PyTorch `nn.Module`, annotated with the paper's equations and the shape of every tensor,
and checked number for number against Hugging Face transformers' ALBERT (same outputs, losses, parameter counts and
state-dict keys, so checkpoints move between the two).

The files, in the order data flows through the model:

    config.py       AlbertConfig, BertConfig and the published presets
    tokenizer.py    SentencePiece with ALBERT's rules; train_tokenizer
    activations.py  gelu, gelu_new (tanh), relu, silu
    embeddings.py   token + position + segment embeddings of size E
    attention.py    multi-head self-attention: the step-by-step path and the fused SDPA path
    layer.py        attention + feed-forward, residuals, post-LayerNorm
    encoder.py      E -> H projection, and cross-layer parameter sharing
    model.py        AlbertModel (+ pooler) and input checks
    heads.py        MLM, sentence-order prediction and the four task heads
    bert.py         BERT built from the same parts, for comparison
    weights.py      from_pretrained / save_pretrained in the reference's format
    parameters.py   parameter counts by component and the paper's tables
    device.py       get_device(): CUDA when present, else CPU

and around the model:

    corpus.py, pretraining_data.py, optim.py, pretrain.py    pretraining from raw text (MLM + SOP)
    bundled/        a tiny ALBERT pretrained here on Shakespeare, with its card
    fill_mask.py    fill in [MASK]s, like transformers' fill-mask pipeline
    visualize.py, attention_analysis.py                      attention views and analyses that work offline
    cli.py          the `albert-explained` command

Dimension letters used in every comment:

    B batch size          T tokens in a sequence     V vocabulary size
    E embedding size      H hidden size              N attention heads
    D head size (H / N)   I FFN inner size           L layers (depth)
    G groups of shared layer weights                 C choices (multiple choice)
"""

from .config import ALBERT_PRESETS, BERT_PRESETS, AlbertConfig, BertConfig
from .heads import (
    AlbertForMaskedLM,
    AlbertForMultipleChoice,
    AlbertForPreTraining,
    AlbertForPreTrainingOutput,
    AlbertForQuestionAnswering,
    AlbertForSequenceClassification,
    AlbertForTokenClassification,
    QuestionAnsweringOutput,
    TaskOutput,
)
from .bert import BertModel
from .device import get_device
from .model import AlbertModel, AlbertModelOutput
from .parameters import count_parameters, format_table, paper_parameter_table
from .tokenizer import AlbertTokenizer, BatchEncoding, train_tokenizer
from .weights import LoadingInfo

__all__ = [
    "ALBERT_PRESETS", "BERT_PRESETS", "AlbertConfig", "BertConfig",
    "AlbertModel", "AlbertModelOutput", "AlbertForPreTraining", "AlbertForPreTrainingOutput", "AlbertForMaskedLM",
    "AlbertForSequenceClassification", "AlbertForTokenClassification", "AlbertForQuestionAnswering",
    "AlbertForMultipleChoice", "TaskOutput", "QuestionAnsweringOutput", "BertModel", "LoadingInfo",
    "count_parameters", "paper_parameter_table", "format_table", "get_device",
    "AlbertTokenizer", "BatchEncoding", "train_tokenizer",
]
