"""Fill in the blanks: what a masked language model has learned, asked one [MASK] at a time.

Pretraining taught the model to predict hidden pieces from their context on both sides (`pretraining/data.py`).
`fill_mask` asks the same question of any text: every [MASK] position t gets a distribution over the V pieces,

    p(piece | text) = softmax( logits_t )          logits: (B=1, T, V) -> one row of V scores per [MASK]

and the top_k pieces are returned, best first, in the format of transformers' fill-mask pipeline: a list of
{"score", "token", "token_str", "sequence"} dicts, where token is the piece id, token_str the piece as text and
sequence the input with this piece in place of the [MASK]. With several [MASK]s the result is one such list per
mask, in order; each mask is predicted on its own (the others stay masked), which is how MLM training sees them.

By default the bundled model (`bundled/`), a tiny ALBERT pretrained on Shakespeare's plays on a laptop-class CPU,
answers:

    >>> [answer["token_str"] for answer in fill_mask("To be, or not to [MASK]", top_k=3)]
    ['be', 'you', 'do']
    >>> [answer["token_str"] for answer in fill_mask("To be, or not to [MASK]: that is the question.", top_k=3)]
    ['him', 'you', 'me']

It reads both sides of the blank: "not to" is mostly followed by "be" in the plays, but "to ___:" mostly by "me",
"you" or "him", and with the colon the pronouns win (notebook 08's appendix counts both). Its card says how far its
training got.

Pass `model` and `tokenizer` to ask any other AlbertForMaskedLM or AlbertForPreTraining (ours or transformers').

Two differences from the pipeline, both on purpose:

- **No lone '▁' glued to a [MASK].** The text after a [MASK] is encoded as a string of its own and gets
  SentencePiece's dummy prefix, so "not to [MASK]." becomes [..., '▁to', '[MASK]', '▁', '.'] (see
  `tokenizer/normalization.py`; transformers#16774). In the training plays "be." is ['▁be', '.'], and a lone '▁'
  before punctuation is rare (docs/results.md counts it), so a small model's answers suffer. When the character right
  after a [MASK] is not a space, a lone '▁' piece that follows the mask is dropped. With a space after the mask
  ("[MASK] that") the answers are exactly the pipeline's (the tests check both). Some glued texts keep a prefix
  that is part of a real piece: "[MASK]'s" becomes ['[MASK]', "▁'", 's'], since the vocabulary has a piece "▁'";
  that one is left alone.
- The `sequence` of a multi-mask text leaves out [CLS] and [SEP], which the pipeline keeps there.
"""

from __future__ import annotations

from typing import Any, Optional, Union

import torch

from .device import eval_mode


def _logits(output: Any) -> torch.Tensor:
    """(B, T, V) MLM scores from a masked-LM output (.logits) or a pretraining output (.prediction_logits)."""
    for name in ("logits", "prediction_logits"):
        value = getattr(output, name, None)
        if value is not None:
            return value
    raise TypeError(
        f"the model's output has neither .logits nor .prediction_logits ({type(output).__name__}); "
        "pass a masked-LM model (AlbertForMaskedLM or AlbertForPreTraining)"
    )


@torch.no_grad()
def fill_mask(
    text: str, top_k: int = 5, model: Optional[torch.nn.Module] = None, tokenizer: Any = None
) -> Union[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    """The top_k pieces for each [MASK] in `text` (see the module docstring)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise ValueError(f"top_k must be a positive integer, got {top_k!r}")
    if (model is None) != (tokenizer is None):
        raise ValueError("pass both model and tokenizer, or neither (to use the bundled model)")
    if model is None:
        from .bundled import inference_model

        model, tokenizer = inference_model()
    untrained = [key for key in getattr(model, "missing_keys", []) if key.startswith("predictions.")]
    if untrained:  # loaded from a directory without an MLM head, such as a fine-tuned task model
        raise ValueError(
            f"the model's masked-language-model head was not in its checkpoint ({', '.join(untrained)} "
            f"left at random values), so its predictions would be noise: fill-mask needs a pretrained "
            f"checkpoint, such as the bundled model or one written by `albert-explained pretrain`"
        )
    mask_token = tokenizer.mask_token
    if mask_token not in text:
        shown = repr(text) if len(text) <= 80 else f"{text[:60]!r}... ({len(text):,} characters)"
        raise ValueError(
            f"text has no {mask_token} to fill in: {shown}; write {mask_token} where a word is missing, "
            f"e.g. 'To be, or not to {mask_token}.'"
        )

    input_ids = torch.tensor([drop_space_after_masks(text, tokenizer.encode(text), tokenizer)])  # (1, T)
    limit = getattr(getattr(model, "config", None), "max_position_embeddings", None)
    if limit is not None and input_ids.shape[1] > limit:
        raise ValueError(f"text is {input_ids.shape[1]} pieces long; this model reads at most {limit}")
    device = next(model.parameters()).device
    with eval_mode(model):
        output = model(input_ids=input_ids.to(device))  # one segment, no padding: the default mask and segment ids
    logits = _logits(output)[0].float().cpu()  # (T, V)

    mask_positions = (input_ids[0] == tokenizer.mask_token_id).nonzero().flatten().tolist()
    results = []
    for position in mask_positions:
        probabilities = logits[position].softmax(dim=-1)  # (V,)
        scores, ids = probabilities.topk(min(top_k, probabilities.numel()))  # (k,), (k,)
        answers = []
        for score, piece_id in zip(scores.tolist(), ids.tolist(), strict=True):
            filled = input_ids[0].clone()  # (T,)
            filled[position] = piece_id
            if len(mask_positions) == 1:
                sequence = tokenizer.decode(filled, skip_special_tokens=True)
            else:  # the other masks stay, so special tokens are kept: all but [CLS] and [SEP] at the ends
                sequence = tokenizer.decode(filled).removeprefix(tokenizer.cls_token)
                sequence = sequence.removesuffix(tokenizer.sep_token).strip()
            answers.append(
                {
                    "score": score,
                    "token": piece_id,
                    "token_str": tokenizer.decode([piece_id]).strip(),
                    "sequence": sequence,
                }
            )
        results.append(answers)
    return results[0] if len(results) == 1 else results


def drop_space_after_masks(text: str, input_ids: list[int], tokenizer: Any) -> list[int]:
    """Remove the lone '▁' piece that follows a [MASK] when the text has no space after that mask (see above)."""
    mask_token = tokenizer.mask_token
    space_id = tokenizer.convert_tokens_to_ids("▁")
    if space_id == tokenizer.unk_token_id:  # a vocabulary without a lone '▁' piece: nothing to drop
        return list(input_ids)
    # For each [MASK] of the text, in order: is it directly followed by a non-space character?
    glued = []
    start = text.find(mask_token)
    while start != -1:
        after = text[start + len(mask_token) : start + len(mask_token) + 1]
        glued.append(after != "" and not after.isspace())
        start = text.find(mask_token, start + len(mask_token))
    kept, mask_number = [], 0
    for i, piece_id in enumerate(input_ids):
        if i > 0 and input_ids[i - 1] == tokenizer.mask_token_id:
            is_glued = mask_number < len(glued) and glued[mask_number]
            mask_number += 1
            if is_glued and piece_id == space_id:
                continue
        kept.append(piece_id)
    return kept


def format_predictions(results: Union[list[dict[str, Any]], list[list[dict[str, Any]]]]) -> str:
    """A small text table of fill_mask's answers (used by the command line)."""
    groups = results if results and isinstance(results[0], list) else [results]
    lines = []
    for number, answers in enumerate(groups, start=1):
        if len(groups) > 1:
            lines.append(f"[MASK] {number}:")
        for answer in answers:
            lines.append(f"  {answer['score']:7.2%}  {answer['token_str']:<14} {answer['sequence']}")
    return "\n".join(lines)
