"""A tokenizer's settings as the reference keeps them: tokenizer_config.json and special_tokens_map.json beside
spiece.model.

tokenizer_config.json holds the switches of ALBERT's text rules (do_lower_case, remove_space, keep_accents), the
special tokens, model_max_length and a few keys that only transformers uses; special_tokens_map.json repeats the
special tokens, and wins where the two differ, as in the reference. `read_settings` turns the two files of a directory
into AlbertTokenizer's keyword arguments; `settings_files` writes a tokenizer's settings back in the same layout, so
that transformers' AlbertTokenizer reads our directories and we read its.
"""

from __future__ import annotations

import difflib
import warnings
from pathlib import Path
from typing import Any

from ..files import MAX_JSON_BYTES, parse_json, read_text_file

TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
SPECIAL_TOKENS_MAP_FILE = "special_tokens_map.json"

# The keyword arguments of AlbertTokenizer that the files can set.
SETTINGS = (
    "do_lower_case",
    "remove_space",
    "keep_accents",
    "bos_token",
    "eos_token",
    "unk_token",
    "sep_token",
    "pad_token",
    "cls_token",
    "mask_token",
    "model_max_length",
    "clean_up_tokenization_spaces",
    "sp_model_kwargs",
)
# Keys that transformers writes or reads in tokenizer_config.json and that this tokenizer has no use for.
REFERENCE_ONLY_KEYS = (
    "added_tokens_decoder",
    "extra_special_tokens",
    "tokenizer_class",
    "name_or_path",
    "processor_class",
    "model_input_names",
    "padding_side",
    "truncation_side",
    "additional_special_tokens",
    "add_prefix_space",
    "add_bos_token",
    "add_eos_token",
    "legacy",
    "split_special_tokens",
    "tokenizer_file",
    "auto_map",
    "special_tokens_map_file",
    *(
        f"{token}_id"
        for token in ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
    ),
)
SPECIAL_TOKENS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
# The on/off settings among them.
SWITCHES = ("do_lower_case", "remove_space", "keep_accents", "clean_up_tokenization_spaces")


def check_switches(values: dict[str, Any], where: str = "") -> None:
    """Every switch in `values` is true or false: "no" or 0, taken as they stand, would count as on or off by
    Python's truth rules rather than by what they say. `where` starts the message (a file's name)."""
    for name in SWITCHES:
        if name in values and not isinstance(values[name], bool):
            raise TypeError(f"{where}{name} must be true or false, got {values[name]!r}")


def read_settings(directory: Path) -> dict[str, Any]:
    """The settings that the two files in `directory` hold, as AlbertTokenizer's keyword arguments; a missing file
    sets nothing. A file that is not a regular file or not a JSON object is an error naming it; a key close to one of
    SETTINGS (a typo) is warned about with the setting it resembles."""
    settings: dict[str, Any] = {}
    for name in (TOKENIZER_CONFIG_FILE, SPECIAL_TOKENS_MAP_FILE):  # the second wins for special tokens
        path = directory / name
        if not path.exists():
            continue
        if not path.is_file():  # skipped, the tokenizer would load with other settings than saved
            raise ValueError(f"{path} is not a regular file (a pipe, a device or a directory)")
        data = parse_json(read_text_file(path, "tokenizer file", MAX_JSON_BYTES), str(path))
        if not isinstance(data, dict):
            raise ValueError(f"{path} must hold a JSON object, got {type(data).__name__}")
        check_switches(data, where=f"{path}: ")
        for key in data:  # a typo of one of our settings would otherwise be ignored without a word
            near = difflib.get_close_matches(key, SETTINGS, n=1, cutoff=0.8)
            if key not in SETTINGS and key not in REFERENCE_ONLY_KEYS and near:
                warnings.warn(
                    f"{path}: {key!r} is not a setting the tokenizer reads, so it is ignored; did you mean "
                    f"{near[0]!r}?",
                    stacklevel=3,
                )
        for key in SETTINGS:
            if key in data:
                value = data[key]
                # The reference writes [MASK] as {"content": "[MASK]", "lstrip": true, ...}.
                settings[key] = value["content"] if isinstance(value, dict) and "content" in value else value
    return settings


def settings_files(tokenizer: Any) -> dict[str, dict[str, Any]]:
    """The content of the two files for `tokenizer` (an AlbertTokenizer), by file name, as the reference writes
    them."""

    def token_entry(token: str) -> dict[str, Any]:
        # How the reference describes a special token; only [MASK] strips the spaces on its left.
        return {
            "content": token,
            "lstrip": token == tokenizer.mask_token,
            "normalized": False,
            "rstrip": False,
            "single_word": False,
            "special": True,
        }

    special = {name: getattr(tokenizer, name) for name in SPECIAL_TOKENS}
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in tokenizer.all_special_tokens}
    config: dict[str, Any] = {
        "added_tokens_decoder": {str(i): token_entry(t) for t, i in sorted(ids.items(), key=lambda item: item[1])},
        **special,
        "clean_up_tokenization_spaces": tokenizer.clean_up_tokenization_spaces,
        "do_lower_case": tokenizer.do_lower_case,
        "extra_special_tokens": {},
        "keep_accents": tokenizer.keep_accents,
        "remove_space": tokenizer.remove_space,
        "sp_model_kwargs": tokenizer.sp_model_kwargs,
        "tokenizer_class": "AlbertTokenizer",
    }
    if tokenizer.model_max_length is not None:  # leaving it out is how the reference says "no limit"
        config["model_max_length"] = tokenizer.model_max_length
    special_map: dict[str, Any] = dict(special)
    special_map["mask_token"] = {k: v for k, v in token_entry(tokenizer.mask_token).items() if k != "special"}
    return {TOKENIZER_CONFIG_FILE: config, SPECIAL_TOKENS_MAP_FILE: special_map}
