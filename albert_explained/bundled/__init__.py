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

The two loaders here read any pretraining run's model directory (`runs/<name>/model`) as well as the bundled one:
`load_pretrained` gives a fresh model of the class you ask for (to fine-tune, or to take apart);
`inference_model` gives the AlbertForMaskedLM that fill-mask and the attention views read, once per process.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional, Union

BUNDLED_MODEL_NAME = "albert-tiny-shakespeare"
BUNDLED_MODEL_DIR = Path(__file__).resolve().parent / BUNDLED_MODEL_NAME
# The command that made it (its card and metrics.json give it too; a test checks that they agree).
BUNDLED_MODEL_COMMAND = (f"albert-explained pretrain --output-dir runs/{BUNDLED_MODEL_NAME} --num-threads 2 "
                         "--precision bf16 --steps 17000")


def bundled_model_dir() -> Path:
    """The bundled model's directory; an error that says how to rebuild it if the files are missing."""
    if not (BUNDLED_MODEL_DIR / "model.safetensors").is_file():
        raise FileNotFoundError(f"the bundled model is missing from {BUNDLED_MODEL_DIR}; rebuild it with "
                                f"`{BUNDLED_MODEL_COMMAND}` and copy runs/{BUNDLED_MODEL_NAME}/model/ there")
    return BUNDLED_MODEL_DIR


def load_pretrained(directory: Union[str, os.PathLike, None] = None,
                    model_class: Optional[type] = None) -> tuple[Any, Any]:
    """(model, tokenizer) from a model directory (the bundled one by default) or a hub id
    (`weights.load_with_tokenizer`).

    The model is an AlbertForMaskedLM unless `model_class` says otherwise: AlbertForPreTraining keeps the SOP head
    too, AlbertModel is the encoder alone, and a task class gets a fresh head on the trained encoder.
    """
    from ..weights import load_with_tokenizer

    return load_with_tokenizer(bundled_model_dir() if directory is None else directory, model_class)


def inference_model(directory: Union[str, os.PathLike, None] = None) -> tuple[Any, Any]:
    """(AlbertForMaskedLM in eval mode, tokenizer) from a model directory (the bundled one by default), read once per
    process and shared by every caller that only reads it: fill-mask, the attention views and the command line."""
    directory = bundled_model_dir() if directory is None else Path(directory)
    return _read_once(str(directory.resolve()))


@lru_cache(maxsize=None)
def _read_once(resolved_directory: str) -> tuple[Any, Any]:
    model, tokenizer = load_pretrained(resolved_directory)
    return model.eval(), tokenizer
