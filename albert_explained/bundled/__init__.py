"""The model that ships with the package: a tiny ALBERT pretrained on Shakespeare's plays, here, from scratch.

Nothing can be downloaded from a model hub in a classroom behind a firewall, yet attention views, fill-mask demos and
fine-tuning exercises only teach something with a trained model. So the package carries one:

    albert_explained/bundled/albert-tiny-shakespeare/
        config.json          AlbertConfig (E=128, H=128, L=4 all-shared, N=2, V=4000)
        model.safetensors    AlbertForPreTraining weights (MLM + SOP heads), reference key names
        spiece.model         its SentencePiece tokenizer (+ tokenizer_config.json, special_tokens_map.json)
        README.md            the card: corpus, split, command, steps, wall time, hardware, validation metrics
        metrics.json         the same, for programs, and the learning curve (plotted in notebook 08)

It was produced by one command of this package, given in the card (`albert-explained pretrain ...`), and it loads
with `from_pretrained` here and in transformers:

    model, tokenizer = load_pretrained()                          # AlbertForMaskedLM + AlbertTokenizer
    transformers.AlbertForMaskedLM.from_pretrained(BUNDLED_MODEL_DIR)

The loaders here read any pretraining run's model directory (`runs/<name>/model`) as well as the bundled model:
`load_pretrained` gives a fresh model of the class you ask for (to fine-tune, or to take apart), from a hub id too,
and `load_if_available` the same or the reason it cannot be had (offline, say); `inference_model` gives the
AlbertForMaskedLM that fill-mask and the attention views read from a directory, once per process.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional, Union

from ..model import AlbertForMaskedLM
from ..tokenizer import AlbertTokenizer
from ..tokenizer.albert_tokenizer import VOCAB_FILE
from ..weights import CONFIG_NAME, one_line_reason, resolve_checkpoint

BUNDLED_MODEL_NAME = "albert-tiny-shakespeare"
BUNDLED_MODEL_DIR = Path(__file__).resolve().parent / BUNDLED_MODEL_NAME
# The command that made it (its card and metrics.json give it too; a test checks that they agree).
BUNDLED_MODEL_COMMAND = (
    f"albert-explained pretrain --output-dir runs/{BUNDLED_MODEL_NAME} --num-threads 2 --precision bf16 --steps 17000"
)


def bundled_model_dir() -> Path:
    """The bundled model's directory; an error that says how to rebuild it if the files are missing."""
    if not (BUNDLED_MODEL_DIR / "model.safetensors").is_file():
        raise FileNotFoundError(
            f"the bundled model is missing from {BUNDLED_MODEL_DIR}; rebuild it with "
            f"`{BUNDLED_MODEL_COMMAND}` and copy runs/{BUNDLED_MODEL_NAME}/model/ there"
        )
    return BUNDLED_MODEL_DIR


def load_pretrained(
    name_or_path: Union[str, os.PathLike, None] = None, model_class: Optional[type] = None
) -> tuple[Any, Any]:
    """(model, tokenizer) from a model directory that holds spiece.model too (the bundled one by default), or from a
    hub id, whose files are downloaded into the huggingface_hub cache (or, with HF_HUB_OFFLINE=1, read from it).

    The model is an AlbertForMaskedLM unless `model_class` says otherwise: AlbertForPreTraining keeps the SOP head
    too, AlbertModel is the encoder alone, and a task class gets a fresh head on the trained encoder. The tokenizer
    reads spiece.model with the reference's defaults, and tokenizer_config.json and special_tokens_map.json where
    the directory has them; a hub download fetches spiece.model only.
    """
    directory = resolve_checkpoint(bundled_model_dir() if name_or_path is None else name_or_path, also=(VOCAB_FILE,))
    model = (model_class or AlbertForMaskedLM).from_pretrained(directory)
    tokenizer = AlbertTokenizer.from_pretrained(directory)
    if len(tokenizer) != model.config.vocab_size:  # ids would name other pieces' embeddings, or none at all
        raise ValueError(
            f"{directory / VOCAB_FILE} has {len(tokenizer):,} pieces but {directory / CONFIG_NAME} says "
            f"vocab_size = {model.config.vocab_size:,}: the tokenizer and the model were not made "
            f"together"
        )
    return model, tokenizer


def load_if_available(
    name_or_path: Union[str, os.PathLike], model_class: Optional[type] = None
) -> tuple[Any, Any, Optional[str]]:
    """`load_pretrained`, for code that can go on without the checkpoint (the notebooks' optional cells):
    (model, tokenizer, None) when it loads, (None, None, why) when it cannot be had.

    "Cannot be had" is an OSError (offline, the hub unreachable or without that repository, an empty HF_HUB_OFFLINE
    cache, no such directory) or an ImportError (huggingface_hub not installed); offline that takes seconds, as
    `weights.download_from_hub` checks the connection first. `why` is the error's message on one line, without the
    advice on loading a local copy, and at most about 200 characters. A checkpoint that is there but broken (a
    ValueError) is raised as usual: that is not a reason to skip quietly.
    """
    try:
        model, tokenizer = load_pretrained(name_or_path, model_class)
    except (OSError, ImportError) as error:
        return None, None, one_line_reason(error)
    return model, tokenizer, None


def inference_model(directory: Union[str, os.PathLike, None] = None) -> tuple[Any, Any]:
    """(AlbertForMaskedLM in eval mode, tokenizer) from a model directory (the bundled one by default), read once per
    process and shared by every caller that only reads it: fill-mask, the attention views and the command line."""
    directory = bundled_model_dir() if directory is None else Path(directory)
    return _read_once(str(directory.resolve()))


@lru_cache(maxsize=None)
def _read_once(resolved_directory: str) -> tuple[Any, Any]:
    model, tokenizer = load_pretrained(resolved_directory)
    return model.eval(), tokenizer
