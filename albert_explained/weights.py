"""Checkpoints in the reference's format: load transformers' ALBERT (and BERT) weights, and write ones it loads.

Every model class derives from `AlbertPreTrainedModel`, defined here: it gives them the reference's initialisation
(weights drawn from N(0, initializer_range), zero biases, LayerNorms at identity) and `from_pretrained` /
`save_pretrained`.

A checkpoint is a directory:

    config.json          the config (config.py reads and writes the reference's keys)
    model.safetensors    the tensors, by state-dict key; or pytorch_model.bin from older checkpoints

Keys: our modules carry the reference's names (`albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.weight`), so
a state dict moves across unchanged; `bert.py` translates BERT's few different names. Task models keep their
AlbertModel under `albert.`, so a checkpoint of AlbertModel (keys without the prefix) loads into a task model and the
other way round, as in the reference.

What loading reports, as the reference does:
- **missing** keys (in the model, not in the file) keep their fresh initialisation: normal for a task head
  (a classifier) put on a pretrained encoder, which is what fine-tuning then trains; a warning names them.
- **unexpected** keys (in the file, not used by this model), such as the MLM head when loading AlbertModel.
- **mis-shaped** keys are an error: the config and the weights disagree.

Safety: safetensors files hold raw tensors only. A pytorch_model.bin is a pickle, and unpickling can run arbitrary
code, so it is read with `torch.load(weights_only=True)`, which accepts tensors and plain containers only.
Writing is atomic: both files are written under temporary names in the target directory and renamed over the old
ones only once both are complete, so a failure midway leaves an existing checkpoint as it was.

Hub ids ("albert/albert-base-v2") are downloaded with huggingface_hub for users who are online; offline, loading fails
within seconds and says how to load a local directory instead.
"""

from __future__ import annotations

import json
import os
import re
import socket
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from .config import AlbertConfig

CONFIG_NAME = "config.json"
SAFETENSORS_NAME = "model.safetensors"
PICKLE_NAME = "pytorch_model.bin"
HUB_TIMEOUT_SECONDS = 5.0
# Buffers that older transformers versions saved with the weights; they are recomputed, never loaded.
_IGNORED_SUFFIXES = ("embeddings.position_ids", "embeddings.token_type_ids")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


class AlbertPreTrainedModel(nn.Module):
    """Initialisation and checkpoint reading/writing shared by every model class."""

    config_class = AlbertConfig
    # The attribute under which task models keep their AlbertModel; a prefix of the state-dict keys.
    base_model_prefix = "albert"

    def __init__(self, config: AlbertConfig):
        super().__init__()
        if not isinstance(config, self.config_class):
            raise TypeError(f"config must be a {self.config_class.__name__}, got {type(config).__name__}")
        self.config = config

    @torch.no_grad()
    def init_weights(self) -> None:
        """The reference's initialisation: N(0, initializer_range) weights, zero biases, identity LayerNorms."""
        std = self.config.initializer_range
        for module in self.modules():
            if isinstance(module, nn.Linear):
                module.weight.normal_(mean=0.0, std=std)
                if module.bias is not None:
                    module.bias.zero_()
            elif isinstance(module, nn.Embedding):
                module.weight.normal_(mean=0.0, std=std)
                if module.padding_idx is not None:
                    module.weight[module.padding_idx].zero_()
            elif isinstance(module, nn.LayerNorm):
                module.weight.fill_(1.0)
                module.bias.zero_()
        self.tie_weights()

    @staticmethod
    def to_reference_key(key: str) -> str:
        """Our state-dict key -> the reference's: equal for ALBERT, which keeps the reference's module names
        (`bert.py` translates)."""
        return key

    def tie_weights(self) -> None:
        """Models with an MLM head tie its decoder to the word embeddings; the others have nothing to tie."""

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, *, output_loading_info: bool = False,
                        **config_overrides: Any):
        """Load a checkpoint in the reference's format: a directory with config.json and model.safetensors
        (or pytorch_model.bin), or a hub id such as "albert/albert-base-v2" when online. """
        return load_pretrained(cls, name_or_path, output_loading_info=output_loading_info, **config_overrides)

    def save_pretrained(self, path: str | os.PathLike) -> None:
        """Write config.json and model.safetensors that transformers loads too. """
        save_pretrained(self, path)


@dataclass
class LoadingInfo:
    """What `from_pretrained` did with the checkpoint's keys (reference names)."""

    missing_keys: list[str] = field(default_factory=list)  # left at their fresh initialisation
    unexpected_keys: list[str] = field(default_factory=list)  # in the file, not used


def load_pretrained(cls: type, name_or_path: str | os.PathLike, *, output_loading_info: bool = False,
                    **config_overrides: Any):
    """Build `cls` from a checkpoint directory or hub id (see the module docstring)."""
    directory = resolve_checkpoint(name_or_path)
    config = cls.config_class.from_json_file(directory / CONFIG_NAME, **config_overrides)
    state_dict = read_state_dict(directory)
    model = cls(config)
    info = load_reference_state_dict(model, state_dict)
    if info.missing_keys:
        warnings.warn(f"{cls.__name__}: these weights were not in {directory} and keep their fresh initialisation "
                      f"(train them before use): {info.missing_keys}", stacklevel=3)
    if info.unexpected_keys:
        warnings.warn(f"{cls.__name__}: these weights in {directory} are not used by this model: "
                      f"{info.unexpected_keys}", stacklevel=3)
    model.eval()  # as the reference: dropout off until you call model.train()
    return (model, info) if output_loading_info else model


def resolve_checkpoint(name_or_path: str | os.PathLike) -> Path:
    """A local directory as it is; a name that is not a local path is taken as a hub id and downloaded."""
    path = Path(name_or_path)
    if path.is_dir():
        return path
    if path.exists():
        raise ValueError(f"{path} is a file; from_pretrained expects a directory holding {CONFIG_NAME} and "
                         f"{SAFETENSORS_NAME}")
    name = str(name_or_path)
    if _HUB_ID.match(name) and not name.startswith("."):
        return download_from_hub(name)
    raise FileNotFoundError(f"no checkpoint directory at {path}")


def download_from_hub(repo_id: str) -> Path:
    """Fetch config.json and the weights of `repo_id` into the huggingface_hub cache; fail fast when offline."""
    local_hint = (f"To load a local copy, pass the directory that holds {CONFIG_NAME} and {SAFETENSORS_NAME}, "
                  f"e.g. AlbertModel.from_pretrained('path/to/{repo_id.split('/')[-1]}').")
    try:
        import huggingface_hub
        from huggingface_hub.utils import EntryNotFoundError
    except ImportError as error:
        raise ImportError(f"{repo_id!r} is not a local directory, and downloading it needs huggingface_hub "
                          f"(pip install 'albert-explained[hub]'). {local_hint}") from error

    offline = os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")
    if not offline:
        endpoint = os.environ.get("HF_ENDPOINT") or huggingface_hub.constants.ENDPOINT
        _check_reachable(endpoint, repo_id, local_hint)
    try:
        config_file = huggingface_hub.hf_hub_download(repo_id, CONFIG_NAME, local_files_only=offline,
                                                      etag_timeout=HUB_TIMEOUT_SECONDS)
        try:
            huggingface_hub.hf_hub_download(repo_id, SAFETENSORS_NAME, local_files_only=offline,
                                            etag_timeout=HUB_TIMEOUT_SECONDS)
        except EntryNotFoundError:  # older repositories have only the pickle
            huggingface_hub.hf_hub_download(repo_id, PICKLE_NAME, local_files_only=offline,
                                            etag_timeout=HUB_TIMEOUT_SECONDS)
    except Exception as error:  # network errors, missing repository, offline cache miss
        raise OSError(f"could not get {repo_id!r} from the hub ({type(error).__name__}: {error}). "
                      f"{local_hint}") from error
    return Path(config_file).parent


def _check_reachable(endpoint: str, repo_id: str, local_hint: str) -> None:
    """Open one TCP connection to the hub with a short timeout, so that offline machines fail in seconds."""
    url = urlparse(endpoint)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname, port), timeout=HUB_TIMEOUT_SECONDS).close()
    except OSError as error:
        raise OSError(f"cannot reach {endpoint} to download {repo_id!r} (offline?): {error}. {local_hint}") from error


def read_state_dict(directory: Path) -> dict[str, torch.Tensor]:
    """The tensors of a checkpoint directory; a truncated or corrupt file is an error that names it."""
    safetensors_file, pickle_file = directory / SAFETENSORS_NAME, directory / PICKLE_NAME
    if safetensors_file.is_file():
        try:
            return load_file(safetensors_file)
        except Exception as error:  # safetensors raises its own error type for every kind of damage
            raise ValueError(f"{safetensors_file} is not a readable safetensors file (truncated or corrupt?): "
                             f"{error}") from error
    if pickle_file.is_file():
        try:
            state_dict = torch.load(pickle_file, map_location="cpu", weights_only=True)
        except Exception as error:  # UnpicklingError for forbidden objects, RuntimeError/EOFError for damage
            raise ValueError(f"{pickle_file} could not be read as plain tensors (truncated, corrupt, or holding "
                             f"objects other than tensors): {error}") from error
        if not isinstance(state_dict, dict) or not all(isinstance(v, torch.Tensor) for v in state_dict.values()):
            raise ValueError(f"{pickle_file} does not hold a dict of tensors")
        return state_dict
    raise FileNotFoundError(f"no weights in {directory}: expected {SAFETENSORS_NAME} or {PICKLE_NAME}")


def load_reference_state_dict(model: torch.nn.Module, state_dict: dict[str, torch.Tensor]) -> LoadingInfo:
    """Copy reference-named tensors into `model`; report missing and unexpected keys; refuse mis-shaped ones."""
    state_dict = _match_prefix(model, {k: v for k, v in state_dict.items() if not k.endswith(_IGNORED_SUFFIXES)})
    ours = model.state_dict()
    our_key = {model.to_reference_key(key): key for key in ours}  # reference key -> our key

    mismatched = [f"{key}: checkpoint {tuple(tensor.shape)}, model {tuple(ours[our_key[key]].shape)}"
                  for key, tensor in state_dict.items()
                  if key in our_key and tensor.shape != ours[our_key[key]].shape]
    if mismatched:
        raise ValueError("the checkpoint's shapes do not match this config (is config.json the right one?): "
                         + "; ".join(mismatched))
    _check_shared_tensors_agree(model, ours, our_key, state_dict)

    model.load_state_dict({our_key[k]: v for k, v in state_dict.items() if k in our_key}, strict=False)
    model.tie_weights()
    tied = set(getattr(model, "tied_weight_keys", ()))
    return LoadingInfo(
        missing_keys=sorted(k for k in our_key if k not in state_dict and k not in tied),
        unexpected_keys=sorted(k for k in state_dict if k not in our_key),
    )


def _match_prefix(model: torch.nn.Module, state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Add or strip the base model's prefix ("albert.") so that base and task checkpoints load into each other."""
    prefix = model.base_model_prefix + "."
    model_has_prefix = hasattr(model, model.base_model_prefix)
    file_has_prefix = any(key.startswith(prefix) for key in state_dict)
    if model_has_prefix and not file_has_prefix:
        return {prefix + key: value for key, value in state_dict.items()}
    if not model_has_prefix and file_has_prefix:
        # Keys outside the base model (the heads) keep their names and are reported as unexpected.
        return {key[len(prefix):] if key.startswith(prefix) else key: value for key, value in state_dict.items()}
    return state_dict


def _check_shared_tensors_agree(model, ours, our_key, state_dict) -> None:
    """A tensor that this model shares across depth must have one value in the checkpoint, not several."""
    by_tensor: dict[int, list[str]] = {}
    for ref_key, key in our_key.items():
        if ref_key in state_dict:  # keys of one shared tensor point at the same memory
            by_tensor.setdefault(ours[key].data_ptr(), []).append(ref_key)
    tied = set(getattr(model, "tied_weight_keys", ()))
    for ref_keys in by_tensor.values():
        ref_keys = [k for k in ref_keys if k not in tied]
        first = ref_keys[0] if ref_keys else None
        for other in ref_keys[1:]:
            if not torch.equal(state_dict[first], state_dict[other]):
                raise ValueError(f"the checkpoint holds different values for {first} and {other}, which this config "
                                 f"shares (sharing={model.config.sharing!r}); load it with the config it was saved "
                                 f"with")


def save_pretrained(model: torch.nn.Module, path: str | os.PathLike) -> None:
    """Write config.json and model.safetensors (reference keys) into `path`, atomically per file."""
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, torch.Tensor] = {}
    written: set[int] = set()
    tied = set(getattr(model, "tied_weight_keys", ()))
    for key, tensor in model.state_dict().items():
        ref_key = model.to_reference_key(key)
        if ref_key in tied:
            continue  # the MLM decoder is the word-embedding matrix: stored once, as the reference does
        tensor = tensor.detach().cpu().contiguous()
        storage = tensor.untyped_storage().data_ptr()
        # A layer shared across depth appears under every depth's key; write a copy under each, so that the file is
        # a complete reference checkpoint (safetensors refuses two names for one tensor).
        tensors[ref_key] = tensor.clone() if storage in written else tensor
        written.add(storage)
    config = {**model.config.to_dict(), "architectures": [type(model).__name__]}
    _write_atomically({
        directory / SAFETENSORS_NAME: lambda tmp: save_file(tensors, tmp, metadata={"format": "pt"}),
        directory / CONFIG_NAME: lambda tmp: Path(tmp).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n"),
    })


def _write_atomically(writers: dict[Path, Callable[[str], Any]]) -> None:
    """Write every file under a temporary name beside its target and flush it to disk; only when all are complete,
    rename them over the targets. A failure before that point leaves the old files as they were."""
    temporaries: dict[Path, str] = {}
    try:
        for target, write in writers.items():
            handle, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
            os.close(handle)
            temporaries[target] = tmp
            write(tmp)
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        for target, tmp in temporaries.items():
            os.replace(tmp, target)
    finally:
        for tmp in temporaries.values():
            if os.path.exists(tmp):
                os.remove(tmp)
