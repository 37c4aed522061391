"""The ALBERT tokenizer: from text to the integer ids the embedding table is indexed with.

Everything the model knows about a sentence arrives as a list of ids, one per *piece* of text. ALBERT cuts text into
pieces with SentencePiece (Kudo and Richardson, 2018), with a vocabulary of V = 30000 pieces as in XLNet (paper,
section 4.1); Google trained it as a unigram language model (the spm_train command in google-research/albert).

The algorithm, SentencePiece and ALBERT's rules around it, is explained in normalization.py; this file is the
transformers-style API around it: `AlbertTokenizer`, called like the reference's. How ids become model inputs (pairs,
truncation, padding, tensors) is in inputs.py, and where each piece came from (offsets) in offsets.py.

Special tokens and the layout of an input
-----------------------------------------
Five pieces have fixed ids, those of Google's `30k-clean.model`: `<pad>` 0, `<unk>` 1, `[CLS]` 2, `[SEP]` 3,
`[MASK]` 4. They are *control symbols*: SentencePiece never produces them from text, so we find them in the text
ourselves and pass the text between them to SentencePiece. `[MASK]` swallows the spaces before it ("a [MASK]" and
"a[MASK]" give the same ids), as in the reference. One text becomes `[CLS] A [SEP]` and a pair `[CLS] A [SEP] B [SEP]`;
token_type_ids are 0 up to and including the first [SEP] and 1 after it, and the attention mask is 1 on real tokens
and 0 on padding.

Where this file matches the reference
-------------------------------------
`AlbertTokenizer` gives the ids, tokens, masks and decoded strings of transformers' slow (sentencepiece)
`AlbertTokenizer` (4.56.2), keyword for keyword; `tests/test_tokenizer.py` checks it string by string. It is faster
on batches because it hands all the texts to SentencePiece in one call (batch.py), while `tokenize` keeps the
step-by-step path that normalization.py explains. Two deliberate differences: where the reference logs an error
and returns a sequence longer than max_length (a truncation that cannot remove enough tokens), we raise ValueError;
and `truncation="only_second"` without a second text is an error here, not a silent no-op.

`return_offsets_mapping=True` also gives each piece's characters in its text, as AlbertTokenizerFast does.

Not implemented here: overflowing tokens and stride, left padding or truncation, pre-split words
(`is_split_into_words`) and adding new tokens to the vocabulary.

Shapes: a batch of B texts -> input_ids, token_type_ids, attention_mask of shape (B, T) once padded.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Optional, Union

import sentencepiece as spm

from ..files import write_files
from .batch import encode_texts
from .inputs import (
    BatchEncoding,
    check_text,
    gather_inputs,
    is_int,
    pad,
    resolve_strategies,
    to_list,
    to_tensor,
    truncate,
)
from .normalization import is_number_comma, preprocess_text, split_number_comma, split_on_special_tokens
from .offsets import encode_with_offsets, offsets_with_special_tokens
from .settings import SPECIAL_TOKENS_MAP_FILE, TOKENIZER_CONFIG_FILE, check_switches, read_settings, settings_files

VOCAB_FILE = "spiece.model"
# The largest .model file we load. Real ones are small (ALBERT's 30,000 pieces: 0.8 MB; vocabularies of 250,000
# pieces: about 5 MB); SentencePiece would read a file of any size whole before finding it is not a model.
MAX_SENTENCEPIECE_BYTES = 1 << 28  # 256 MiB

# The reference writes int(1e30) for "no maximum length" (transformers' VERY_LARGE_INTEGER); above this means that.
_NO_LIMIT_ABOVE = 1e20

TextInput = Union[str, tuple[str, str], list[str]]


class AlbertTokenizer:
    """SentencePiece with ALBERT's rules; the same keyword arguments and outputs as transformers' slow tokenizer.

    vocab_file is a SentencePiece `.model` file whose vocabulary holds the special tokens (ALBERT's `spiece.model`,
    or one made by `train_tokenizer`). model_max_length is what `truncation=True` or `padding="max_length"` use
    when no max_length is given; None means no limit (the reference's default as well).
    """

    model_input_names = ("input_ids", "token_type_ids", "attention_mask")

    def __init__(
        self,
        vocab_file: Union[str, os.PathLike],
        do_lower_case: bool = True,
        remove_space: bool = True,
        keep_accents: bool = False,
        bos_token: str = "[CLS]",
        eos_token: str = "[SEP]",
        unk_token: str = "<unk>",
        sep_token: str = "[SEP]",
        pad_token: str = "<pad>",
        cls_token: str = "[CLS]",
        mask_token: str = "[MASK]",
        model_max_length: Optional[int] = None,
        clean_up_tokenization_spaces: bool = False,
        sp_model_kwargs: Optional[dict[str, Any]] = None,
    ):
        self.vocab_file = str(vocab_file)
        check_switches(
            dict(
                do_lower_case=do_lower_case,
                remove_space=remove_space,
                keep_accents=keep_accents,
                clean_up_tokenization_spaces=clean_up_tokenization_spaces,
            )
        )
        self.do_lower_case = do_lower_case
        self.remove_space = remove_space
        self.keep_accents = keep_accents
        if model_max_length is not None:
            if not is_int(model_max_length) or model_max_length < 1:
                raise ValueError(f"model_max_length must be a positive integer or None, got {model_max_length!r}")
            if model_max_length > _NO_LIMIT_ABOVE:
                model_max_length = None  # the reference's way of writing "no limit"
        self.model_max_length = model_max_length
        self.clean_up_tokenization_spaces = clean_up_tokenization_spaces
        self.sp_model_kwargs = dict(sp_model_kwargs or {})
        self.sp_model = self._load_sentencepiece(Path(vocab_file), self.sp_model_kwargs)

        self.bos_token, self.eos_token, self.unk_token = bos_token, eos_token, unk_token
        self.sep_token, self.pad_token, self.cls_token, self.mask_token = sep_token, pad_token, cls_token, mask_token
        for name in ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"):
            token = getattr(self, name)
            if not isinstance(token, str) or not token:
                raise TypeError(f"{name} must be a non-empty string, got {token!r}")
            # A control symbol missing from the vocabulary would silently become <unk>; refuse that early.
            if self.sp_model.id_to_piece(self.sp_model.piece_to_id(token)) != token:
                raise ValueError(
                    f"{self.vocab_file} has no piece {token!r} ({name}); ALBERT's special tokens must "
                    "be in the SentencePiece vocabulary (train_tokenizer puts them at ids 0..4)"
                )
        # The reference's order: bos, eos, unk, sep, pad, cls, mask, without repeats.
        self.all_special_tokens = list(
            dict.fromkeys([bos_token, eos_token, unk_token, sep_token, pad_token, cls_token, mask_token])
        )
        self._special_token_ids = {token: self.sp_model.piece_to_id(token) for token in self.all_special_tokens}
        self.all_special_ids = list(self._special_token_ids.values())
        # Special tokens are found in the raw text with one regular expression; the longest first, as a trie would.
        alternatives = sorted(self.all_special_tokens, key=len, reverse=True)
        self._special_tokens_pattern = re.compile("(" + "|".join(re.escape(t) for t in alternatives) + ")")
        # The pieces the number-comma rule acts on, found once so that the batch path can test ids, not strings.
        self._number_comma_ids = frozenset(
            i for i in range(len(self.sp_model)) if is_number_comma(self.sp_model.id_to_piece(i))
        )

    @staticmethod
    def _load_sentencepiece(path: Path, sp_model_kwargs: dict[str, Any]) -> spm.SentencePieceProcessor:
        """Load a .model file; errors name the file (missing, empty or not a SentencePiece model)."""
        if not path.is_file():
            raise FileNotFoundError(f"SentencePiece model file not found: {path}")
        size = path.stat().st_size
        if size == 0:
            raise ValueError(f"SentencePiece model file {path} is empty")
        if size > MAX_SENTENCEPIECE_BYTES:  # SentencePiece reads the whole file into memory, then parses it
            raise ValueError(
                f"{path} holds {size:,} bytes, more than a SentencePiece model has (at most "
                f"{MAX_SENTENCEPIECE_BYTES:,} are read): is it the right file?"
            )
        processor = spm.SentencePieceProcessor(**sp_model_kwargs)
        try:
            processor.Load(str(path))
        except (RuntimeError, OSError) as error:
            raise ValueError(f"{path} is not a valid SentencePiece model: {error}") from error
        return processor

    def __getstate__(self) -> dict[str, Any]:
        # Pickling (DataLoader workers started with "spawn") carries the model's bytes, not the C++ object.
        state = self.__dict__.copy()
        state["sp_model"] = self.sp_model.serialized_model_proto()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        model_proto = state.pop("sp_model")
        self.__dict__.update(state)
        self.sp_model = spm.SentencePieceProcessor(**self.sp_model_kwargs)
        self.sp_model.LoadFromSerializedProto(model_proto)

    # ------------------------------------------------------------------------------------------------------------
    # Loading and saving in the reference's layout: spiece.model, tokenizer_config.json, special_tokens_map.json
    # ------------------------------------------------------------------------------------------------------------

    @classmethod
    def from_pretrained(cls, path: Union[str, os.PathLike], **overrides: Any) -> "AlbertTokenizer":
        """Load from a directory in the reference's layout, or from a `.model` file; keyword arguments override.

        Only local files are read. For a checkpoint on the Hugging Face Hub, download it first (for example
        `huggingface_hub.snapshot_download("albert/albert-base-v2")`) and pass the folder.
        """
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(
                f"path must be a tokenizer directory or a .model file (a str or a path), got {type(path).__name__}"
            )
        path = Path(path)
        if path.is_file():
            return cls(path, **overrides)
        vocab_file = path / VOCAB_FILE if path.is_dir() else path
        if vocab_file.exists() and not vocab_file.is_file():  # a pipe would block, a directory cannot be read
            raise ValueError(
                f"{vocab_file} is not a regular file (a pipe, a device or a directory); a tokenizer's "
                f"{VOCAB_FILE} is one"
            )
        if not path.is_dir():
            raise FileNotFoundError(
                f"no tokenizer at {path}: give a directory holding {VOCAB_FILE} or the path of a "
                "SentencePiece .model file (hub ids must be downloaded first)"
            )
        if not vocab_file.is_file():
            raise FileNotFoundError(f"{path} has no {VOCAB_FILE}, the SentencePiece model of an ALBERT tokenizer")
        kwargs = read_settings(path)
        kwargs.update(overrides)
        try:
            return cls(vocab_file, **kwargs)
        except (TypeError, ValueError) as error:  # a setting of the wrong kind (in its files, or `overrides`)
            raise type(error)(f"tokenizer {path}: {error}") from None

    def save_pretrained(self, out_dir: Union[str, os.PathLike]) -> tuple[str, ...]:
        """Write spiece.model and the two JSON files the reference reads; returns the paths written."""
        out_dir = Path(out_dir)
        if out_dir.exists() and not out_dir.is_dir():
            raise ValueError(f"out_dir {out_dir} exists and is not a directory")
        out_dir.mkdir(parents=True, exist_ok=True)
        vocab_file = out_dir / VOCAB_FILE
        settings = settings_files(self)
        config_file, special_file = out_dir / TOKENIZER_CONFIG_FILE, out_dir / SPECIAL_TOKENS_MAP_FILE

        def as_json(name: str) -> bytes:
            return (json.dumps(settings[name], indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()

        model = self.sp_model.serialized_model_proto()
        # The three files are written together (files.write_files): a failure leaves an existing tokenizer as it was.
        write_files(
            {
                vocab_file: lambda f: f.write(model),
                config_file: lambda f: f.write(as_json(TOKENIZER_CONFIG_FILE)),
                special_file: lambda f: f.write(as_json(SPECIAL_TOKENS_MAP_FILE)),
            }
        )
        return str(config_file), str(special_file), str(vocab_file)

    # ------------------------------------------------------------------------------------------------------------
    # The vocabulary
    # ------------------------------------------------------------------------------------------------------------

    @property
    def vocab_size(self) -> int:
        """V, the number of pieces (30000 for the released models)."""
        return len(self.sp_model)

    def __len__(self) -> int:
        return self.vocab_size  # the special tokens are pieces of the vocabulary, so nothing is added on top

    def get_vocab(self) -> dict[str, int]:
        return {self.sp_model.id_to_piece(i): i for i in range(self.vocab_size)}

    @property
    def pad_token_id(self) -> int:
        return self._special_token_ids[self.pad_token]

    @property
    def unk_token_id(self) -> int:
        return self._special_token_ids[self.unk_token]

    @property
    def cls_token_id(self) -> int:
        return self._special_token_ids[self.cls_token]

    @property
    def sep_token_id(self) -> int:
        return self._special_token_ids[self.sep_token]

    @property
    def mask_token_id(self) -> int:
        return self._special_token_ids[self.mask_token]

    @property
    def bos_token_id(self) -> int:
        return self._special_token_ids[self.bos_token]

    @property
    def eos_token_id(self) -> int:
        return self._special_token_ids[self.eos_token]

    def convert_tokens_to_ids(self, tokens: Union[str, list[str]]) -> Union[int, list[int]]:
        """Piece(s) to id(s); a piece that is not in the vocabulary gives the id of <unk>."""
        if isinstance(tokens, str):
            return self._token_to_id(tokens)
        if not isinstance(tokens, (list, tuple)):
            raise TypeError(f"tokens must be a string or a list of strings, got {type(tokens).__name__}")
        return [self._token_to_id(token) for token in tokens]

    def _token_to_id(self, token: str) -> int:
        if not isinstance(token, str):
            raise TypeError(f"a token must be a string, got {token!r} ({type(token).__name__})")
        special_id = self._special_token_ids.get(token)
        return special_id if special_id is not None else self.sp_model.piece_to_id(token)

    def convert_ids_to_tokens(self, ids: Union[int, list[int]], skip_special_tokens: bool = False):
        """Id(s) to piece(s); skip_special_tokens leaves out <pad>, <unk>, [CLS], [SEP] and [MASK]."""
        if is_int(ids):
            return self._id_to_token(ids)
        ids = to_list(ids, "ids")
        return [self._id_to_token(i) for i in ids if not (skip_special_tokens and i in self.all_special_ids)]

    def _id_to_token(self, index: int) -> str:
        if not is_int(index):
            raise TypeError(f"a token id must be an integer, got {index!r} ({type(index).__name__})")
        if not 0 <= index < self.vocab_size:
            raise ValueError(f"token id {index} is outside the vocabulary (0 .. {self.vocab_size - 1})")
        return self.sp_model.id_to_piece(int(index))

    # ------------------------------------------------------------------------------------------------------------
    # Text -> pieces, the explained path
    # ------------------------------------------------------------------------------------------------------------

    def tokenize(self, text: str) -> list[str]:
        """Text -> pieces, one step at a time (the path the module docstring describes).

        >>> tok.tokenize("The café [MASK] 9,9")  # doctest: +SKIP
        ['▁the', '▁cafe', '[MASK]', '▁9', ',', '9']
        """
        check_text(text, "text")
        pieces: list[str] = []
        for part, is_special in self._split_on_special_tokens(text):
            if is_special:
                pieces.append(part)  # a special token is one piece, whatever SentencePiece would make of it
            else:
                clean = preprocess_text(part, self.do_lower_case, self.remove_space, self.keep_accents)
                pieces.extend(self._sentencepiece_pieces(clean))
        return pieces

    def _split_on_special_tokens(self, text: str) -> list[tuple[str, bool]]:
        """The text cut around this tokenizer's special tokens, by its own settings (see normalization.py)."""
        return split_on_special_tokens(text, self._special_tokens_pattern, self.do_lower_case, self.mask_token)

    def _sentencepiece_pieces(self, clean_text: str) -> list[str]:
        """SentencePiece's pieces for already preprocessed text, with the number-comma rule applied."""
        pieces = []
        for piece in self.sp_model.encode(clean_text, out_type=str):
            if is_number_comma(piece):
                pieces.extend(split_number_comma(piece, self.sp_model))
            else:
                pieces.append(piece)
        return pieces

    # ------------------------------------------------------------------------------------------------------------
    # Special tokens, truncation and padding
    # ------------------------------------------------------------------------------------------------------------

    def build_inputs_with_special_tokens(self, ids_a: list[int], ids_b: Optional[list[int]] = None) -> list[int]:
        """[CLS] A [SEP], or [CLS] A [SEP] B [SEP] for a pair (the layout BERT and ALBERT were pretrained with)."""
        if ids_b is None:
            return [self.cls_token_id] + ids_a + [self.sep_token_id]
        return [self.cls_token_id] + ids_a + [self.sep_token_id] + ids_b + [self.sep_token_id]

    def create_token_type_ids_from_sequences(self, ids_a: list[int], ids_b: Optional[list[int]] = None) -> list[int]:
        """Segment ids: 0 for [CLS] A [SEP], 1 for B [SEP]. They select a row of the token-type embedding."""
        first = [0] * (len(ids_a) + 2)
        return first if ids_b is None else first + [1] * (len(ids_b) + 1)

    def get_special_tokens_mask(self, ids_a: list[int], ids_b: Optional[list[int]] = None) -> list[int]:
        """1 where build_inputs_with_special_tokens put a special token, 0 on the text's own tokens."""
        mask = [1] + [0] * len(ids_a) + [1]
        return mask if ids_b is None else mask + [0] * len(ids_b) + [1]

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        return 3 if pair else 2

    # ------------------------------------------------------------------------------------------------------------
    # The main entry point
    # ------------------------------------------------------------------------------------------------------------

    def __call__(
        self,
        text: Union[TextInput, list[TextInput]],
        text_pair: Optional[Union[str, list[str]]] = None,
        add_special_tokens: bool = True,
        padding: Union[bool, str] = False,
        truncation: Union[bool, str, None] = None,
        max_length: Optional[int] = None,
        pad_to_multiple_of: Optional[int] = None,
        return_tensors: Optional[str] = None,
        return_token_type_ids: Optional[bool] = None,
        return_attention_mask: Optional[bool] = None,
        return_special_tokens_mask: bool = False,
        return_offsets_mapping: bool = False,
    ) -> BatchEncoding:
        """Encode a text, a pair, or a batch of texts or pairs, into model inputs.

        text: a string; or a list of strings and/or (text, text_pair) tuples, which is a batch.
        text_pair: the second text(s), a string for a string, a list for a list.
        padding: False / "do_not_pad"; True / "longest" (to the longest in the batch); "max_length".
        truncation: True / "longest_first"; "only_first"; "only_second"; False / "do_not_truncate".
        return_tensors: None for Python lists, "pt" for torch tensors of shape (B, T) (B = 1 for a single text).

        return_offsets_mapping: also return, for every piece, the (start, end) characters of its text that it was made
            from ((0, 0) for [CLS], [SEP] and padding); a tensor of shape (B, T, 2) with return_tensors="pt". The
            slow reference has no offsets; these follow AlbertTokenizerFast's (offsets.py).

        Returns a BatchEncoding with input_ids, token_type_ids, (special_tokens_mask,) attention_mask
        (, offset_mapping).
        """
        firsts, seconds, is_batch = gather_inputs(text, text_pair)
        if return_tensors not in (None, "pt"):
            raise ValueError(
                f"return_tensors must be None (Python lists) or 'pt' (torch tensors), got {return_tensors!r}"
            )
        padding, truncation, max_length = resolve_strategies(
            padding, truncation, max_length, pad_to_multiple_of, self.model_max_length
        )
        if truncation == "only_second":
            lonely = [i for i, second in enumerate(seconds) if second is None]
            if lonely:
                raise ValueError(
                    f"truncation='only_second' needs a second text (text_pair) for every example; "
                    f"example {lonely[0]} has none"
                )
        return_token_type_ids = (
            "token_type_ids" in self.model_input_names if return_token_type_ids is None else return_token_type_ids
        )
        return_attention_mask = (
            "attention_mask" in self.model_input_names if return_attention_mask is None else return_attention_mask
        )

        # 1. Every text of the batch, first and second texts together, through SentencePiece in one call.
        pair_positions = [i for i, second in enumerate(seconds) if second is not None]
        texts = firsts + [seconds[i] for i in pair_positions]
        if return_offsets_mapping:  # text by text, with each piece's characters
            all_ids, all_offsets = map(list, zip(*[encode_with_offsets(self, t) for t in texts], strict=True))
        else:
            all_ids, all_offsets = encode_texts(self, texts), []
        ids_b_of: dict[int, list[int]] = dict(zip(pair_positions, all_ids[len(firsts) :], strict=True))

        # 2. Truncate each example so that it fits in max_length, special tokens included.
        examples = []
        for i, ids_a in enumerate(all_ids[: len(firsts)]):
            ids_b = ids_b_of.get(i)
            if truncation != "do_not_truncate":
                ids_a, ids_b = truncate(ids_a, ids_b, max_length, truncation, add_special_tokens, i)
            examples.append((ids_a, ids_b))

        # 3. Add [CLS] / [SEP] and build the masks that were asked for.
        if add_special_tokens:
            columns = {"input_ids": [self.build_inputs_with_special_tokens(a, b) for a, b in examples]}
            if return_token_type_ids:
                columns["token_type_ids"] = [self.create_token_type_ids_from_sequences(a, b) for a, b in examples]
            if return_special_tokens_mask:
                columns["special_tokens_mask"] = [self.get_special_tokens_mask(a, b) for a, b in examples]
        else:
            columns = {"input_ids": [a + (b if b is not None else []) for a, b in examples]}
            # Without [SEP] there is no boundary to mark: every token is in segment 0 and none is special.
            if return_token_type_ids:
                columns["token_type_ids"] = [[0] * len(ids) for ids in columns["input_ids"]]
            if return_special_tokens_mask:
                columns["special_tokens_mask"] = [[0] * len(ids) for ids in columns["input_ids"]]
        if return_attention_mask:
            columns["attention_mask"] = [[1] * len(ids) for ids in columns["input_ids"]]
        if return_offsets_mapping:
            # Truncation kept a prefix of each text's pieces, so the same number of offsets is kept.
            offsets_b_of = dict(zip(pair_positions, all_offsets[len(firsts) :], strict=True))
            columns["offset_mapping"] = [
                offsets_with_special_tokens(
                    all_offsets[i][: len(a)], offsets_b_of[i][: len(b)] if b is not None else None, add_special_tokens
                )
                for i, (a, b) in enumerate(examples)
            ]

        # 4. Pad on the right: <pad> ids, segment 0, special-token mask 1, attention mask 0.
        if padding != "do_not_pad":
            pad(columns, padding, max_length, pad_to_multiple_of, self.pad_token_id)

        if return_tensors == "pt":
            return BatchEncoding({key: to_tensor(rows, key) for key, rows in columns.items()})
        return BatchEncoding({key: rows if is_batch else rows[0] for key, rows in columns.items()})

    def encode(
        self,
        text: str,
        text_pair: Optional[str] = None,
        add_special_tokens: bool = True,
        padding: Union[bool, str] = False,
        truncation: Union[bool, str, None] = None,
        max_length: Optional[int] = None,
        return_tensors: Optional[str] = None,
    ):
        """The input_ids of one text or pair (a list, or a (1, T) tensor with return_tensors="pt")."""
        if not isinstance(text, str):
            raise TypeError(
                f"encode takes one text (a string), got {type(text).__name__}; call the tokenizer itself for a batch"
            )
        return self(
            text,
            text_pair,
            add_special_tokens=add_special_tokens,
            padding=padding,
            truncation=truncation,
            max_length=max_length,
            return_tensors=return_tensors,
        )["input_ids"]

    # ------------------------------------------------------------------------------------------------------------
    # Ids -> text
    # ------------------------------------------------------------------------------------------------------------

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        """Pieces -> text. Ordinary pieces go through SentencePiece's decoder ('▁' -> space); special tokens are
        written as they are, with a space before one that follows ordinary text (the reference's spacing)."""
        special = set(self.all_special_tokens)
        text, pending, after_special = "", [], False
        for token in tokens:
            if token in special:
                text += ("" if after_special else " ") + self.sp_model.decode(pending) + token
                pending, after_special = [], True
            else:
                pending.append(token)
                after_special = False
        return (text + self.sp_model.decode(pending)).strip()

    def decode(
        self, token_ids, skip_special_tokens: bool = False, clean_up_tokenization_spaces: Optional[bool] = None
    ) -> str:
        """Ids -> text. Lower case and dropped accents do not come back: decoding shows what the model saw."""
        if is_int(token_ids):
            token_ids = [token_ids]
        token_ids = to_list(token_ids, "token_ids")
        if token_ids and isinstance(token_ids[0], list):
            raise TypeError("decode takes one sequence of ids; use batch_decode for a batch")
        text = self.convert_tokens_to_string(self.convert_ids_to_tokens(token_ids, skip_special_tokens))
        if self.clean_up_tokenization_spaces if clean_up_tokenization_spaces is None else clean_up_tokenization_spaces:
            text = clean_up_tokenization(text)
        return text

    def batch_decode(
        self, sequences, skip_special_tokens: bool = False, clean_up_tokenization_spaces: Optional[bool] = None
    ) -> list[str]:
        sequences = to_list(sequences, "sequences")
        return [self.decode(ids, skip_special_tokens, clean_up_tokenization_spaces) for ids in sequences]

    def __repr__(self) -> str:
        return (
            f"AlbertTokenizer(vocab_file={self.vocab_file!r}, vocab_size={self.vocab_size}, "
            f"do_lower_case={self.do_lower_case}, remove_space={self.remove_space}, "
            f"keep_accents={self.keep_accents}, model_max_length={self.model_max_length})"
        )


def clean_up_tokenization(text: str) -> str:
    """Remove the spaces that decoding leaves before English punctuation and contractions ("do n't" -> "don't")."""
    for before, after in (
        (" .", "."),
        (" ?", "?"),
        (" !", "!"),
        (" ,", ","),
        (" ' ", "'"),
        (" n't", "n't"),
        (" 'm", "'m"),
        (" 's", "'s"),
        (" 've", "'ve"),
        (" 're", "'re"),
    ):
        text = text.replace(before, after)
    return text
