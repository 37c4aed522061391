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
- **unexpected** keys (in the file, not used by this model), such as the MLM head when loading AlbertModel. Those of
  parts that other classes have (`_keys_to_ignore_on_load_unexpected`: pooler, MLM and SOP heads, task heads) are
  only listed in the loading info, as there is nothing to do about them; any other is warned about by name.
- **mis-shaped** keys are an error: the config and the weights disagree.

What loading refuses, before the weights reach the model:
- a config.json that describes a model larger than this machine's memory (checked before anything is allocated);
- weights that are not floating point (an integer or complex tensor would be cast without a word) or that hold NaN or
  infinity (a model that diverged in training);
- a pytorch_model.bin that is a pickle asking to run code. Unpickling can run arbitrary code, so it is read with
  `torch.load(weights_only=True)`, which accepts tensors and plain containers only; the error says what the file
  asked for, never torch's advice to load it unrestricted. safetensors files hold raw tensors only;
- a file larger than the model could need (twice its tensors in float64): checked on the file's size, and for a
  pytorch_model.bin (a zip archive) on the sizes its directory declares, read before anything is unpacked. Records
  must be stored uncompressed, as torch.save writes them, so a small deflated file cannot unpack to gigabytes; they
  are then mapped from the file (mmap) rather than copied. Pickles in torch's format from before 1.6 are not zip
  archives and declare their sizes only inside the pickle, so they are refused.

**The weights are not copied.** The weights file is mapped into memory (mmap) and each of its tensors becomes a
parameter as it is (`load_state_dict(assign=True)`; exceptions below), as in the reference: the loaded model keeps
no copy of the weights besides the file's pages. The mapping is private: a page that training writes to becomes the
process's own copy, and the file is never written. `save_pretrained` writes a new file and renames it over the old
one, whose numbers stay whole for a model still using them. Two consequences:
- On recent Linux with ext4 the kernel caches the file in 2 MB pages, where the process's own memory comes in 4 KB
  pages, so the processor translates the weights' addresses with far fewer TLB entries. A forward pass over a short
  input, which reads every weight and does little with each, runs measurably faster for it (docs/results.md).
- A program that overwrites the file in place while a model uses it (`cp` does; renaming over it, as every save here
  does, is safe) changes that model's weights, or crashes the process where it cuts the file shorter.
Copied all the same: a tensor saved in another dtype (converted to the parameter's), one that is not contiguous or
shares its storage with another (`own_memory`), and the MLM decoder's weight and bias, which are the word embeddings
and `predictions.bias` under second names. Windows cannot rename over a file that is mapped, so saving into the
directory a model came from would fail: there every tensor is copied into the parameters.

**A checkpoint is a pair, saved as one.** Both files are written under hidden names in the target directory and
renamed over the old ones only once both are complete (`files.write_files`), so an error or Ctrl-C midway leaves an
existing checkpoint as it was. A kill between the two renames, or two processes saving to one directory at once, could
still leave new weights beside an old config.json, and for an all-shared ALBERT a different layer count changes no
weight's shape, so the mix would load as another model. So model.safetensors records, in its metadata, the config it
was saved with, and loading compares it with config.json: a difference in anything that changes what the weights
compute is an error (dropout rates, label names, the initializer and the attention kernel may differ). We chose this
over writing a sibling directory and swapping it in: a directory swap is atomic only on Linux (renameat2 with
RENAME_EXCHANGE, and not on every file system) and macOS (renamex_np), takes two renames elsewhere (Windows) with a
moment when no checkpoint exists, fails when the directory is a mount point or another process's working directory,
and drops what else the directory holds (a tokenizer, a card). The record works on every platform with file renames
alone; its limits: a directory left mixed by a kill is refused (save again), not restored to the old pair, and files
written by other programs (transformers, pytorch_model.bin) carry no record, so they are not checked.

Hub ids ("albert/albert-base-v2") are downloaded with huggingface_hub for users who are online; offline, loading fails
within seconds and says how to load a local directory instead. A model together with its tokenizer, from a directory
or a hub id, comes from `bundled.load_pretrained` (and `bundled.load_if_available` for the notebooks' optional cells).
"""

from __future__ import annotations

import json
import os
import pickle
import re
import socket
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence
from urllib.parse import urlparse

import safetensors
import safetensors.torch
import torch
from torch import nn

from .config import AlbertConfig
from .files import parse_json, write_files

CONFIG_NAME = "config.json"
SAFETENSORS_NAME = "model.safetensors"
PICKLE_NAME = "pytorch_model.bin"
HUB_TIMEOUT_SECONDS = 5.0
# Buffers that older transformers versions saved with the weights; they are recomputed, never loaded.
_IGNORED_SUFFIXES = ("embeddings.position_ids", "embeddings.token_type_ids")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
_LOCAL_HINT = "To load a local copy,"  # how the hub errors' advice begins; one_line_reason leaves it out
# The key of model.safetensors' metadata that records the config the weights were saved with (see "A checkpoint is a
# pair" above), and the config fields that may differ from it: they do not change what the weights compute.
SAVED_CONFIG_KEY = "albert_explained.config"
_FREE_FIELDS = {
    "hidden_dropout_prob",
    "attention_probs_dropout_prob",
    "classifier_dropout_prob",
    "classifier_dropout",
    "initializer_range",
    "attn_implementation",
    "problem_type",
    "id2label",
    "label2id",
    "pad_token_id",
    "bos_token_id",
    "eos_token_id",
}
FLOATING_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


class AlbertPreTrainedModel(nn.Module):
    """Initialisation and checkpoint reading/writing shared by every model class."""

    config_class = AlbertConfig
    # The attribute under which task models keep their AlbertModel; a prefix of the state-dict keys.
    base_model_prefix = "albert"
    # Checkpoint keys (patterns, as in the reference) of parts that other ALBERT classes have: the pooler, the MLM and
    # SOP heads of a pretraining checkpoint, a task head. A class without them leaves them out silently, as it should;
    # any other unused key is warned about, since no ALBERT class would read it (a wrong or damaged checkpoint).
    _keys_to_ignore_on_load_unexpected = (
        r"^(albert\.)?pooler\.",
        r"^predictions\.",
        r"^sop_classifier\.",
        r"^classifier\.",
        r"^qa_outputs\.",
    )

    def __init__(self, config: AlbertConfig):
        super().__init__()
        if not isinstance(config, self.config_class):
            raise TypeError(f"config must be a {self.config_class.__name__}, got {type(config).__name__}")
        # Checked again here: a config changed after it was made (config.hidden_size = 100) is used only now.
        config.validate()
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
    def from_pretrained(
        cls, name_or_path: str | os.PathLike, *, output_loading_info: bool = False, **config_overrides: Any
    ):
        """Load a checkpoint in the reference's format: a directory with config.json and model.safetensors
        (or pytorch_model.bin), or a hub id such as "albert/albert-base-v2" when online."""
        return load_pretrained(cls, name_or_path, output_loading_info=output_loading_info, **config_overrides)

    def save_pretrained(self, path: str | os.PathLike) -> None:
        """Write config.json and model.safetensors that transformers loads too."""
        save_pretrained(self, path)


@dataclass
class LoadingInfo:
    """What `from_pretrained` did with the checkpoint's keys (reference names)."""

    missing_keys: list[str] = field(default_factory=list)  # left at their fresh initialisation
    unexpected_keys: list[str] = field(default_factory=list)  # in the file, not used


def load_pretrained(
    cls: type, name_or_path: str | os.PathLike, *, output_loading_info: bool = False, **config_overrides: Any
):
    """Build `cls` from a checkpoint directory or hub id (see the module docstring)."""
    directory = resolve_checkpoint(name_or_path)
    config = cls.config_class.from_json_file(directory / CONFIG_NAME, **config_overrides)
    check_fits_in_memory(cls, config, directory / CONFIG_NAME)
    model = cls(config)
    # A file can hold more than this model's tensors (a task model reads the encoder of a pretraining checkpoint),
    # but never more than twice as many elements, even in float64, and a megabyte of names and layout.
    most_bytes = 2 * 8 * sum(tensor.numel() for tensor in model.state_dict().values()) + (1 << 20)
    state_dict, saved_config = read_state_dict(directory, most_bytes)
    info = load_reference_state_dict(model, state_dict)
    check_saved_together(directory, config, config_overrides, saved_config)
    if info.missing_keys:
        warnings.warn(
            f"{cls.__name__}: these weights were not in {directory} and keep their fresh initialisation "
            f"(train them before use): {info.missing_keys}",
            stacklevel=3,
        )
    unused = [
        key
        for key in info.unexpected_keys
        if not any(re.search(pattern, key) for pattern in cls._keys_to_ignore_on_load_unexpected)
    ]
    if unused:
        warnings.warn(
            f"{cls.__name__}: these weights in {directory} are not used by this model: {unused}", stacklevel=3
        )
    model.eval()  # as the reference: dropout off until you call model.train()
    model.missing_keys = info.missing_keys  # read by fill_mask, which refuses an untrained MLM head
    return (model, info) if output_loading_info else model


def check_fits_in_memory(cls: type, config: Any, source: Path) -> None:
    """Refuse a config whose model cannot fit in this machine's memory, before any of it is allocated: a damaged or
    mistaken config.json (vocab_size 7,000,000,000 is a 3.6 TB embedding) would otherwise fail deep in the allocator,
    or be killed by the operating system. The model is first built on PyTorch's "meta" device, which records shapes
    and allocates nothing, to count its elements. Where the memory size is unknown (not POSIX), nothing is checked."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return
    with torch.device("meta"):
        shapes_only = cls(config)
    elements = sum(tensor.numel() for tensor in [*shapes_only.parameters(), *shapes_only.buffers()])  # shared: once
    needed = elements * torch.get_default_dtype().itemsize
    if needed > memory:
        raise ValueError(
            f"{source} describes a model of {elements:,} parameters ({needed / 1e9:,.1f} GB), more "
            f"than this machine's memory ({memory / 1e9:,.1f} GB): is config.json the right one?"
        )


def resolve_checkpoint(name_or_path: str | os.PathLike, also: Sequence[str] = ()) -> Path:
    """A local directory as it is; a name that is not a local path is taken as a hub id and downloaded, with the
    files named in `also` (such as the tokenizer's spiece.model)."""
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise TypeError(
            f"name_or_path must be a checkpoint directory or a hub id (a str or a path), got "
            f"{type(name_or_path).__name__}"
        )
    if not str(name_or_path).strip():
        raise ValueError("name_or_path is empty: give a checkpoint directory or a hub id")
    path = Path(name_or_path)
    if path.is_dir():
        return path
    if path.exists():
        raise ValueError(
            f"{path} is a file; from_pretrained expects a directory holding {CONFIG_NAME} and {SAFETENSORS_NAME}"
        )
    name = str(name_or_path)
    if _HUB_ID.match(name) and not name.startswith("."):
        return download_from_hub(name, also)
    raise FileNotFoundError(f"no checkpoint directory at {path}")


def one_line_reason(error: BaseException, most: int = 200) -> str:
    """Why a checkpoint could not be had, for a notebook to print: the error as `Type: message` on one line, the
    local-copy advice of `download_from_hub` left out, cut to `most` characters."""
    message = " ".join(str(error).split()).split(_LOCAL_HINT)[0].strip()
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return text if len(text) <= most else text[: most - 1].rstrip() + "…"


def download_from_hub(repo_id: str, also: Sequence[str] = ()) -> Path:
    """Fetch config.json, the weights of `repo_id` and the files in `also` into the huggingface_hub cache; fail fast
    when offline."""
    local_hint = (
        f"{_LOCAL_HINT} pass the directory that holds {CONFIG_NAME} and {SAFETENSORS_NAME}, "
        f"e.g. AlbertModel.from_pretrained('path/to/{repo_id.split('/')[-1]}')."
    )
    try:
        import huggingface_hub
        from huggingface_hub.utils import EntryNotFoundError
    except ImportError as error:
        raise ImportError(
            f"{repo_id!r} is not a local directory, and downloading it needs huggingface_hub "
            f"(pip install 'albert-explained[hub]'). {local_hint}"
        ) from error

    offline = os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")
    if not offline:
        endpoint = os.environ.get("HF_ENDPOINT") or huggingface_hub.constants.ENDPOINT
        _check_reachable(endpoint, repo_id, local_hint)
    try:
        config_file = huggingface_hub.hf_hub_download(
            repo_id, CONFIG_NAME, local_files_only=offline, etag_timeout=HUB_TIMEOUT_SECONDS
        )
        try:
            huggingface_hub.hf_hub_download(
                repo_id, SAFETENSORS_NAME, local_files_only=offline, etag_timeout=HUB_TIMEOUT_SECONDS
            )
        except EntryNotFoundError:  # older repositories have only the pickle
            huggingface_hub.hf_hub_download(
                repo_id, PICKLE_NAME, local_files_only=offline, etag_timeout=HUB_TIMEOUT_SECONDS
            )
        for name in also:
            huggingface_hub.hf_hub_download(repo_id, name, local_files_only=offline, etag_timeout=HUB_TIMEOUT_SECONDS)
    except Exception as error:  # network errors, missing repository, offline cache miss
        raise OSError(
            f"could not get {repo_id!r} from the hub ({type(error).__name__}: {error}). {local_hint}"
        ) from error
    return Path(config_file).parent


def _check_reachable(endpoint: str, repo_id: str, local_hint: str) -> None:
    """Open one TCP connection to the hub with a short timeout, so that offline machines fail in seconds."""
    url = urlparse(endpoint)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname, port), timeout=HUB_TIMEOUT_SECONDS).close()
    except OSError as error:
        raise OSError(f"cannot reach {endpoint} to download {repo_id!r} (offline?): {error}. {local_hint}") from error


def read_state_dict(directory: Path, most_bytes: Optional[int] = None) -> tuple[dict[str, torch.Tensor], Optional[str]]:
    """The tensors of a checkpoint directory, and the config model.safetensors records that they were saved with
    (None if it records none, or for a pytorch_model.bin); a truncated, corrupt, oversized or unsafe file is an error
    that names it (see the module docstring). `most_bytes`: the largest file the model could need. Tensors and record
    come from one opening of the file, so a save that replaces it meanwhile cannot pair one file's record with
    another's tensors."""
    safetensors_file, pickle_file = directory / SAFETENSORS_NAME, directory / PICKLE_NAME
    for path in (safetensors_file, pickle_file):  # the first that exists is the one read
        if path.exists():
            if not path.is_file():  # a pipe would block the reader; a directory is no weights file
                raise ValueError(
                    f"{path} is not a regular file (a directory, a pipe or a device); a weights file must be"
                )
            break
    saved_config = None
    if safetensors_file.is_file():
        _check_size(safetensors_file, safetensors_file.stat().st_size, most_bytes)
        try:
            with safetensors.safe_open(safetensors_file, framework="pt") as f:
                saved_config = (f.metadata() or {}).get(SAVED_CONFIG_KEY)
                state_dict = {key: f.get_tensor(key) for key in f.keys()}
        except Exception as error:  # safetensors raises its own error type for every kind of damage
            raise ValueError(
                f"{safetensors_file} is not a readable safetensors file (truncated or corrupt?): {error}"
            ) from error
        source = safetensors_file
    elif pickle_file.is_file():
        state_dict, source = _read_pickle(pickle_file, most_bytes), pickle_file
    else:
        raise FileNotFoundError(f"no weights in {directory}: expected {SAFETENSORS_NAME} or {PICKLE_NAME}")
    check_weight_values({k: v for k, v in state_dict.items() if not k.endswith(_IGNORED_SUFFIXES)}, source)
    return state_dict, saved_config


def _check_size(path: Path, size: int, most_bytes: Optional[int]) -> None:
    if most_bytes is not None and size > most_bytes:
        raise ValueError(
            f"{path} holds {size:,} bytes of tensors, more than a model of this config can use "
            f"({most_bytes:,}): is config.json the right one?"
        )


def _read_pickle(path: Path, most_bytes: Optional[int]) -> dict[str, torch.Tensor]:
    """A torch.save file of tensors: sizes checked from the zip directory first, then mapped with weights_only."""
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{path} is not a zip archive as torch.save writes (since torch 1.6): truncated, corrupt, or "
            f"in the older format, whose sizes cannot be checked before they are allocated. Convert it "
            f"to model.safetensors where you trust it"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            records = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise ValueError(f"{path} is not a readable zip archive (truncated or corrupt?): {error}") from error
    compressed = [record.filename for record in records if record.compress_type != zipfile.ZIP_STORED]
    if compressed:
        raise ValueError(
            f"{path} holds compressed records ({', '.join(compressed[:3])}), which torch.save never "
            f"writes; it was not unpacked"
        )
    _check_size(path, sum(record.file_size for record in records), most_bytes)
    try:
        state_dict = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as error:  # UnpicklingError for forbidden objects, RuntimeError/EOFError for damage
        raise ValueError(f"{path} could not be read as plain tensors: {explain_load_error(error)}") from None
    if not isinstance(state_dict, dict) or not all(isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise ValueError(f"{path} does not hold a dict of tensors")
    return state_dict


def explain_load_error(error: Exception) -> str:
    """Why torch.load(weights_only=True) failed, in a few words: for a pickle that asks to run code, what it asked for,
    without torch's advice to load it unrestricted (which would run that code)."""
    if isinstance(error, pickle.UnpicklingError):
        found = re.search(r"unsupported (?:global: )?GLOBAL (\S+)", str(error), re.IGNORECASE)
        asked = f" (it asks for {found.group(1)})" if found else ""
        return (
            f"it holds objects other than tensors{asked}, which could run code if unpickled, so it was not "
            f"loaded. Load weights only from sources you trust, preferably as model.safetensors"
        )
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"truncated or corrupt ({first_line})"


def check_weight_values(state_dict: dict[str, torch.Tensor], source: Any) -> None:
    """Refuse weights that are not floating point or not finite, naming the first such tensor and `source`."""
    for key, tensor in state_dict.items():
        if tensor.dtype not in FLOATING_DTYPES:
            raise ValueError(
                f"{source}: {key} holds {tensor.dtype} values; weights must be floating point "
                f"(float32, float16, bfloat16 or float64)"
            )
        if not torch.isfinite(tensor).all():
            raise ValueError(f"{source}: {key} holds NaN or infinite values (did its training diverge?)")


def check_saved_together(directory: Path, config: Any, overrides: dict[str, Any], record: Optional[str]) -> None:
    """Refuse a config.json that is not the one model.safetensors was saved with (see "A checkpoint is a pair");
    `record` is the config the weights file records (read_state_dict), None when it records none."""
    weights = directory / SAFETENSORS_NAME
    if record is None:
        return  # written by another program, or before the record existed, or a pytorch_model.bin
    saved, current = parse_json(record, f"the config recorded in {weights}"), config.to_dict()
    differ = [
        f"{key}: the weights {saved[key]!r}, config.json {current[key]!r}"
        for key in sorted(saved)
        if key in current and key not in _FREE_FIELDS and key not in overrides and saved[key] != current[key]
    ]
    if differ:
        raise ValueError(
            f"{directory / CONFIG_NAME} is not the config that {weights.name} was saved with (a save was "
            f"interrupted between the two files, or two saves ran at once): "
            + "; ".join(differ)
            + ". Save the model again; to load these weights with other settings on purpose, pass them "
            "to from_pretrained (for example num_hidden_layers=24)"
        )


def load_reference_state_dict(model: torch.nn.Module, state_dict: dict[str, torch.Tensor]) -> LoadingInfo:
    """Make reference-named tensors `model`'s parameters; report missing and unexpected keys; refuse mis-shaped ones."""
    state_dict = _match_prefix(model, {k: v for k, v in state_dict.items() if not k.endswith(_IGNORED_SUFFIXES)})
    ours = model.state_dict()
    our_key = {model.to_reference_key(key): key for key in ours}  # reference key -> our key

    mismatched = [
        f"{key}: checkpoint {tuple(tensor.shape)}, model {tuple(ours[our_key[key]].shape)}"
        for key, tensor in state_dict.items()
        if key in our_key and tensor.shape != ours[our_key[key]].shape
    ]
    if mismatched:
        raise ValueError(
            "the checkpoint's shapes do not match this config (is config.json the right one?): " + "; ".join(mismatched)
        )
    _check_shared_tensors_agree(model, ours, our_key, state_dict)

    # The tensors become the parameters ("The weights are not copied" above), except for those of tied keys: those are
    # another parameter under a second name (the MLM decoder's weight and bias), so they are copied into it once the
    # model is tied again, which would otherwise undo their assignment.
    tied = set(getattr(model, "tied_weight_keys", ()))
    targets = {our_key[k]: v for k, v in state_dict.items() if k in our_key}
    targets = {key: tensor.to(device=ours[key].device, dtype=ours[key].dtype) for key, tensor in targets.items()}
    untied = own_memory({key: tensor for key, tensor in targets.items() if model.to_reference_key(key) not in tied})
    model.load_state_dict(untied, strict=False, assign=os.name != "nt")
    model.tie_weights()
    model.load_state_dict({k: v for k, v in targets.items() if k not in untied}, strict=False)
    # A tied key in the file has given its tensor to the parameter it names a second time, which is then not missing.
    parameters = dict(model.named_parameters(remove_duplicate=False))  # our key -> parameter, tied keys included
    given = {id(parameters[our_key[k]]) for k in tied & state_dict.keys() if our_key.get(k) in parameters}
    filled = {model.to_reference_key(key) for key, parameter in parameters.items() if id(parameter) in given}
    return LoadingInfo(
        missing_keys=sorted(k for k in our_key if k not in state_dict and k not in tied and k not in filled),
        unexpected_keys=sorted(k for k in state_dict if k not in our_key),
    )


def own_memory(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The tensors, with a contiguous copy of each one that is not contiguous or shares its storage with another:
    made parameters as they are, two keys of one tensor (a torch.save'd state dict of a shared layer loaded into a
    model that does not share it) would be two parameters that change together, and an expanded tensor (stride 0)
    one that an optimizer cannot write. Tensors read from model.safetensors each have a storage of their own."""
    storages = Counter(tensor.untyped_storage().data_ptr() for tensor in tensors.values())
    return {
        key: tensor
        if tensor.is_contiguous() and storages[tensor.untyped_storage().data_ptr()] == 1
        else tensor.clone(memory_format=torch.contiguous_format)
        for key, tensor in tensors.items()
    }


def _match_prefix(model: torch.nn.Module, state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Add or strip the base model's prefix ("albert.") so that base and task checkpoints load into each other."""
    prefix = model.base_model_prefix + "."
    model_has_prefix = hasattr(model, model.base_model_prefix)
    file_has_prefix = any(key.startswith(prefix) for key in state_dict)
    if model_has_prefix and not file_has_prefix:
        return {prefix + key: value for key, value in state_dict.items()}
    if not model_has_prefix and file_has_prefix:
        # Keys outside the base model (the heads) keep their names and are reported as unexpected.
        return {key[len(prefix) :] if key.startswith(prefix) else key: value for key, value in state_dict.items()}
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
                raise ValueError(
                    f"the checkpoint holds different values for {first} and {other}, which this config "
                    f"shares (sharing={model.config.sharing!r}); load it with the config it was saved "
                    f"with"
                )


def save_pretrained(model: torch.nn.Module, path: str | os.PathLike) -> None:
    """Write config.json and model.safetensors (reference keys) into `path` as one pair (see the module docstring)."""
    directory = Path(path)
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"save_pretrained needs a directory, and {directory} is a file")
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
    metadata = {"format": "pt", SAVED_CONFIG_KEY: json.dumps(model.config.to_dict(), sort_keys=True)}
    # The file is built in memory (one more copy of the weights, briefly), so that every byte goes through Python's
    # file object, whose errors say why a write failed (a full disk).
    weights = safetensors.torch.save(tensors, metadata=metadata)
    write_files(
        {
            directory / SAFETENSORS_NAME: lambda f: f.write(weights),
            directory / CONFIG_NAME: lambda f: f.write((json.dumps(config, indent=2, sort_keys=True) + "\n").encode()),
        }
    )
