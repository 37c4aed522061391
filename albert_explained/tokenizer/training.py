"""Training a SentencePiece unigram model with ALBERT's settings: `train_tokenizer`.

The result is a directory that `AlbertTokenizer.from_pretrained` (ours or transformers') reads: spiece.model with
the five special pieces at Google's ids, tokenizer_config.json and special_tokens_map.json.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Optional, Union

import sentencepiece as spm

from ..files import explain_write_error, read_text_file
from .albert_tokenizer import VOCAB_FILE, AlbertTokenizer
from .inputs import is_int
from .settings import check_switches
from .normalization import ALBERT_USER_DEFINED_SYMBOLS, preprocess_text

# The ids of ALBERT's five special pieces, <pad> <unk> [CLS] [SEP] [MASK]: fixed in Google's 30k-clean.model and in
# every tokenizer `train_tokenizer` makes (pad and unk by id, then the control symbols in this order).
PAD_ID, UNK_ID, CLS_ID, SEP_ID, MASK_ID = 0, 1, 2, 3, 4


def _training_lines(texts_or_files, do_lower_case: bool, remove_space: bool, keep_accents: bool) -> Iterable[str]:
    """The training sentences, one per line, preprocessed exactly as the tokenizer will preprocess its input."""
    if isinstance(texts_or_files, (str, os.PathLike)):
        sources: list[Any] = [Path(texts_or_files)]
    elif isinstance(texts_or_files, Iterable):
        sources = [Path(s) if isinstance(s, os.PathLike) else s for s in texts_or_files]
    else:
        raise TypeError(
            f"texts_or_files must be a file path or an iterable of texts or paths, got {type(texts_or_files).__name__}"
        )
    for i, source in enumerate(sources):
        if isinstance(source, Path):
            # Lines as iterating over the open file gives them: split at "\n" only, each with its "\n".
            lines: Iterable[str] = io.StringIO(read_text_file(source, "training file"))
        elif isinstance(source, str):
            lines = source.splitlines()
        else:
            raise TypeError(f"texts_or_files[{i}] must be a string (a text) or a path, got {type(source).__name__}")
        for line in lines:
            line = preprocess_text(line, do_lower_case, remove_space, keep_accents)
            if line.strip():
                yield line


def train_tokenizer(
    texts_or_files: Union[str, os.PathLike, Iterable[Union[str, os.PathLike]]],
    vocab_size: int,
    out_dir: Union[str, os.PathLike],
    do_lower_case: bool = True,
    remove_space: bool = True,
    keep_accents: bool = False,
    model_max_length: Optional[int] = 512,
    user_defined_symbols: Iterable[str] = ALBERT_USER_DEFINED_SYMBOLS,
    character_coverage: float = 0.99995,
    normalization_rule_name: str = "nmt_nfkc",
    verbose: bool = False,
    **sentencepiece_options: Any,
) -> AlbertTokenizer:
    """Train a SentencePiece unigram model with ALBERT's layout and write it where both tokenizers can load it.

    texts_or_files: a path (str or Path) to a UTF-8 text file, or an iterable of texts (str) and/or files
    (pathlib.Path); every line is one training sentence. A file must be a regular file of text, at most 1 GiB
    (`files.read_text_file`): a pipe, a device or a binary file is an error that names it. The lines are
    preprocessed with ALBERT's rules (and the options given here) before training, so the vocabulary is learned on
    exactly what the tokenizer will see.

    The trainer options are Google's command for ALBERT (google-research/albert README):

        --model_type=unigram --pad_id=0 --unk_id=1 --eos_id=-1 --bos_id=-1
        --control_symbols=[CLS],[SEP],[MASK] --user_defined_symbols="(,),\\",-,.,–,£,€"
        --character_coverage=0.99995

    which give `<pad>` 0, `<unk>` 1, `[CLS]` 2, `[SEP]` 3, `[MASK]` 4 and then the user-defined symbols. No
    beginning/end-of-sentence ids: [CLS] and [SEP] are added by the tokenizer, not by SentencePiece.

    normalization_rule_name: SentencePiece's own normalisation, stored in the model and applied on top of ALBERT's
    Python rules by both this package and the reference, so it never makes them disagree. "nmt_nfkc", SentencePiece's
    default and what Google's command used, is the right partner for those rules: NFKC recomposes what the Python
    NFKD step splits but keeps (Korean syllables become separate jamo under NFKD; NFKC puts them back), composes
    accents when keep_accents=True, and maps unusual spaces and control characters to plain text.

    Writes out_dir/spiece.model, tokenizer_config.json and special_tokens_map.json; returns the loaded tokenizer.
    Extra keyword arguments go to `sentencepiece.SentencePieceTrainer.train` (for example num_threads=1).
    """
    check_switches(dict(do_lower_case=do_lower_case, remove_space=remove_space, keep_accents=keep_accents))
    if not is_int(vocab_size) or isinstance(vocab_size, bool):
        raise TypeError(f"vocab_size must be an integer, got {vocab_size!r}")
    user_defined_symbols = list(user_defined_symbols)
    n_fixed = 5 + len(user_defined_symbols)  # <pad> <unk> [CLS] [SEP] [MASK] and the user-defined symbols
    if vocab_size <= n_fixed:
        raise ValueError(
            f"vocab_size ({vocab_size}) must be larger than the {n_fixed} fixed pieces "
            "(5 special tokens and the user-defined symbols)"
        )
    lines = list(_training_lines(texts_or_files, do_lower_case, remove_space, keep_accents))
    if not lines:
        raise ValueError("texts_or_files holds no text to train on (every line is empty)")

    model = io.BytesIO()
    options = dict(
        model_type="unigram",
        vocab_size=int(vocab_size),
        pad_id=PAD_ID,
        unk_id=UNK_ID,
        bos_id=-1,
        eos_id=-1,
        pad_piece="<pad>",
        unk_piece="<unk>",
        control_symbols=["[CLS]", "[SEP]", "[MASK]"],
        user_defined_symbols=user_defined_symbols,
        character_coverage=character_coverage,
        normalization_rule_name=normalization_rule_name,
        minloglevel=0 if verbose else 2,
    )
    options.update(sentencepiece_options)
    try:
        spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=model, **options)
    except RuntimeError as error:
        # The usual cause: a vocabulary larger than the corpus can fill ("Vocabulary size is too high").
        raise ValueError(
            f"SentencePiece could not train with vocab_size={vocab_size} on {len(lines)} lines: {error}"
        ) from error

    # The tokenizer is built from a scratch copy of the model (a private file, deleted at once: no reader can see
    # it half written), and its three files then replace any earlier ones together (save_pretrained), so that a
    # failure never leaves a new spiece.model beside old settings.
    with tempfile.TemporaryDirectory() as scratch:
        try:
            (Path(scratch) / VOCAB_FILE).write_bytes(model.getvalue())
        except OSError as error:  # a full disk, a quota or a file-size limit: said in words, naming both places
            raise explain_write_error(
                error, Path(scratch) / VOCAB_FILE, f"a scratch copy of the new tokenizer; nothing in {out_dir} changed"
            ) from None
        tokenizer = AlbertTokenizer(
            Path(scratch) / VOCAB_FILE,
            do_lower_case=do_lower_case,
            remove_space=remove_space,
            keep_accents=keep_accents,
            model_max_length=model_max_length,
        )
        tokenizer.save_pretrained(out_dir)
    return AlbertTokenizer.from_pretrained(out_dir)
