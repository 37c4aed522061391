"""The benchmark report: our ALBERT against transformers 4.56.2, side by side in one process, as one table and a plot.

    make bench                                       # the full report (hours on a 2-core CPU, minutes on a GPU)
    python benchmarks/report.py --quick              # albert-base at 8 x 128 and fewer rounds: minutes
    python benchmarks/report.py --only forward,tokenizer --shapes 1x16,8x128 --output /tmp/report

Sections (`--only` picks some):

- forward: AlbertModel's forward pass, ours (eager attention, SDPA, torch.compile) against transformers (eager,
  SDPA), for albert-base-v2 and albert-large-v2 at B x T = 1 x 16, 8 x 128 and 2 x 512 (and albert-xxlarge-v2 on
  a GPU). The weights are random, written once by our `save_pretrained` and read by both libraries'
  `from_pretrained`, which both keep the file's tensors mapped rather than copied (weights.py); the inputs are the
  same random ids, with the first half of each batch (B // 2 rows, none at B = 1) padded over its last quarter.
- train: one training step, the same for both libraries: forward, backward of a stand-in loss (the mean square of
  `last_hidden_state`), AdamW's update and `zero_grad`.
- tokenizer: encoding Shakespeare's lines (`albert_explained.pretraining.corpus`) with the bundled model's
  spiece.model, ours against transformers' slow AlbertTokenizer and fast AlbertTokenizerFast (converted from the same
  spiece.model), and the lines where the fast tokenizer's ids differ from the slow one's.
- memory: the peak memory of a training step, ALBERT against BERT at equal H (`BertConfig.like`), beside what the
  parameters, their gradients and AdamW's two moments take (16 bytes per fp32 parameter).

**How it times.** Every row of a group (one model, one shape) is built and its first call is checked against
transformers SDPA's output (or loss); that call compiles the compiled row. Two more calls of each row warm up, the
second of them timed to size the rounds. Then the rows are timed in rounds: each round times every row once,
starting with a different row each round, so that a burst of load from elsewhere lands on all rows alike. A row
that takes less than MIN_MEASUREMENT_S is called several times per measurement. Each group gets as many rounds as
fit in 60 seconds (10 with `--quick`), at least MIN_ROUNDS (3 with `--quick`) and at most MAX_ROUNDS, or exactly
`--rounds`. The table gives the median time with the interquartile range, and ratios taken round by round (a row's
time over the column's row's time in the same round), as their median and interquartile range: below 1 means the
row is faster. The load average is written beside every table; on a busy machine trust ratios, not times. Where
other work keeps the cores busy, torch's threads wait for each other at every operation (a tiny model's training
step went from 0.04 s on one thread to 3 s on two, on two cores at load average 6), so `--threads 1` gives steadier
figures there; the header says how many threads ran.

**FLOP/s against the machine's limit.** `torch.utils.flop_counter.FlopCounterMode` counts the matrix products of
ours with eager attention (it does not see inside the CPU's fused SDPA kernel, so the eager path, whose products are
ordinary batched matmuls, is the one counted; every row computes the same products). The same pass records every
product's operand shapes, and an extra row, "torch.matmul", runs exactly those products, one `torch.matmul` each,
on contiguous random operands, timed in the same rounds. Its rate is what the machine's matmul reaches at this
model's shapes; "% of matmul" is each row's achieved rate over it.

**Memory on a CPU** (Linux). tracemalloc sees Python's allocator only, not torch's; torch has no CPU counterpart of
`torch.cuda.max_memory_allocated`; the profiler's profile_memory lists every allocation, from which the peak would
have to be rebuilt, and slows the step it watches. So each model is measured in a fresh Python process, where
nothing else has allocated: the high-water mark of its resident set size (VmHWM in /proc/self/status, reset after
the imports) during two training steps, minus its resident size before the model was built. (`ru_maxrss` would not
do: Linux carries it over from the parent process, whose size it then reports.) glibc keeps freed small blocks for
reuse, so the child runs with MALLOC_MMAP_THRESHOLD_=65536: every tensor above 64 KiB gets its own mapping,
returned to the system when the tensor is freed, and the resident size follows the live tensors. On a GPU the
child reads `torch.cuda.max_memory_allocated()`. The analytical column needs no measurement: parameters, gradients
and AdamW's two moments, 4 x 4 bytes per parameter; what the measurement adds to it is activations and workspace,
which ALBERT and BERT share (the same layer runs L times either way).

**On a GPU** everything runs under bf16 autocast (weights and optimizer state stay fp32), SDPA picks its fused
kernels, the matmul row multiplies in bf16, and every timing is bracketed by `torch.cuda.synchronize()`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import json
import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import torch
from torch.utils._python_dispatch import TorchDispatchMode  # the base of FlopCounterMode too
from torch.utils.flop_counter import FlopCounterMode
from tqdm import tqdm

SECTIONS = ("forward", "train", "tokenizer", "memory")
SHAPES = ((1, 16), (8, 128), (2, 512))  # (B, T)
PRESETS = ("albert-base-v2", "albert-large-v2")
GPU_FORWARD_PRESETS = ("albert-xxlarge-v2",)  # forward only, and only on a GPU: too slow for a CPU
MIN_ROUNDS, MAX_ROUNDS = 5, 50
MIN_MEASUREMENT_S = 0.05  # shorter calls are repeated within one measurement
# Largest relative difference (Frobenius norm) allowed between a row's output and transformers SDPA's.
TOLERANCE = {torch.float32: 1e-4, torch.bfloat16: 5e-2}
ROOT = Path(__file__).resolve().parent
TOKENIZER_DIR = ROOT.parent / "albert_explained" / "bundled" / "albert-tiny-shakespeare"

OURS_EAGER, OURS_SDPA, OURS_COMPILED = "ours, eager", "ours, SDPA", "ours, compiled"
REF_EAGER, REF_SDPA = "transformers, eager", "transformers, SDPA"
MATMUL = "torch.matmul"
SLOW, FAST = "transformers, slow", "transformers, fast"


@dataclass
class Plan:
    """What one run measures."""

    sections: tuple[str, ...]
    device: torch.device
    shapes: tuple[tuple[int, int], ...]
    forward_presets: tuple[str, ...]
    train_presets: tuple[str, ...]
    memory_presets: tuple[str, ...]
    memory_shape: tuple[int, int]
    tokenizer_lines: int
    seconds: float  # per group of rows
    min_rounds: int
    rounds: Optional[int]  # exact rounds per group; None: as many as fit in `seconds`
    compile: bool
    threads: int  # torch's CPU threads

    @property
    def dtype(self) -> torch.dtype:
        """The dtype of the matrix products: bf16 autocast on a GPU, fp32 on a CPU."""
        return torch.bfloat16 if self.device.type == "cuda" else torch.float32


@dataclass
class Group:
    """One group of rows timed together in interleaved rounds."""

    section: str
    label: str  # e.g. "albert-base-v2", "lists"
    shape: str  # e.g. "8 x 128"
    times: dict[str, list[float]]  # row -> seconds per call, one per round
    flops: Optional[int] = None  # matrix-product FLOPs of one call, counted by FlopCounterMode
    gemm_flops: Optional[int] = None  # FLOPs of the products the matmul row runs
    texts: Optional[int] = None  # texts per call (tokenizer)
    notes: list[str] = field(default_factory=list)

    @property
    def rounds(self) -> int:
        return len(next(iter(self.times.values())))

    def rate(self, row: str) -> float:
        """Achieved FLOP/s of a row at its median time (the matmul row's own products for the matmul row)."""
        return (self.gemm_flops if row == MATMUL else self.flops) / quartiles(self.times[row])[1]

    def percent_of_matmul(self, row: str) -> float:
        return 100 * self.rate(row) / self.rate(MATMUL)


# --- timing ---------------------------------------------------------------------------------------------------------


def synchronize(device: torch.device) -> None:
    """Wait for the GPU to finish what was queued; a CPU computes synchronously."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def seconds_per_call(call: Callable[[], object], repeats: int, device: torch.device) -> float:
    synchronize(device)
    start = time.perf_counter()
    for _ in range(repeats):
        call()
    synchronize(device)
    return (time.perf_counter() - start) / repeats


def interleaved(calls: dict[str, Callable[[], object]], plan: Plan, desc: str) -> dict[str, list[float]]:
    """Time every call once per round, rotating which goes first; return the seconds of each call in each round.

    Warm-up: one untimed call of each, then one timed call that sizes the rounds (both discarded)."""
    for call in calls.values():
        call()
    once = {name: seconds_per_call(call, 1, plan.device) for name, call in calls.items()}
    repeats = {name: max(1, math.ceil(MIN_MEASUREMENT_S / max(t, 1e-9))) for name, t in once.items()}
    round_seconds = sum(once[name] * repeats[name] for name in calls)
    rounds = plan.rounds or min(MAX_ROUNDS, max(plan.min_rounds, math.ceil(plan.seconds / round_seconds)))
    names = list(calls)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in tqdm(range(rounds), desc=desc, leave=False):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            times[name].append(seconds_per_call(calls[name], repeats[name], plan.device))
    return times


def quartiles(values: list[float]) -> tuple[float, float, float]:
    """(first quartile, median, third quartile)."""
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, median, q3


def ratios(times: dict[str, list[float]], row: str, column: str) -> tuple[float, float, float]:
    """Quartiles of row / column, round by round."""
    return quartiles([a / b for a, b in zip(times[row], times[column], strict=True)])


# --- counting FLOPs and matrix products ----------------------------------------------------------------------------


class MatrixProducts(TorchDispatchMode):
    """Records the operand shapes of every matrix product that runs inside it, backward passes included."""

    OPERANDS = {
        torch.ops.aten.mm.default: (0, 1),
        torch.ops.aten.bmm.default: (0, 1),
        torch.ops.aten.addmm.default: (1, 2),
    }  # addmm(bias, a, b)

    def __init__(self):
        super().__init__()
        self.shapes: Counter[tuple[tuple[int, ...], tuple[int, ...]]] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in self.OPERANDS:
            i, j = self.OPERANDS[func]
            self.shapes[tuple(args[i].shape), tuple(args[j].shape)] += 1
        else:
            # Under inference_mode, composite ops such as aten.linear arrive whole: look inside them (as
            # FlopCounterMode does) to reach their matrix product.
            with self:  # a mode is off inside its own __torch_dispatch__; back on for the pieces
                decomposed = func.decompose(*args, **kwargs)
            if decomposed is not NotImplemented:
                return decomposed
        return func(*args, **kwargs)


def product_flops(shapes: Counter) -> int:
    """2 M K N FLOPs (M K N multiply-adds) for each (..., M, K) @ (..., K, N), times the batch dimensions."""
    return sum(count * 2 * math.prod(a) * b[-1] for (a, b), count in shapes.items())


def count_products(call: Callable[[], object]) -> tuple[int, Counter]:
    """(FLOPs counted by FlopCounterMode, the shapes of the matrix products) of one call."""
    products = MatrixProducts()
    with FlopCounterMode(display=False) as counter, products:
        call()
    return counter.get_total_flops(), products.shapes


def matmul_call(shapes: Counter, dtype: torch.dtype, device: torch.device) -> Callable[[], None]:
    """A call that runs the given matrix products, one torch.matmul each, on contiguous random operands."""
    operands = [
        (torch.randn(a, dtype=dtype, device=device), torch.randn(b, dtype=dtype, device=device), count)
        for (a, b), count in shapes.items()
    ]

    def call() -> None:
        with torch.inference_mode():
            for a, b, count in operands:
                for _ in range(count):
                    torch.matmul(a, b)

    return call


# --- the model sections ---------------------------------------------------------------------------------------------


def autocast(plan: Plan):
    """bf16 autocast on a GPU; nothing on a CPU."""
    if plan.device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def make_inputs(vocab_size: int, batch: int, seq: int, device: torch.device) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    input_ids = torch.randint(5, vocab_size, (batch, seq), generator=generator)  # (B, T), past the special pieces
    attention_mask = torch.ones_like(input_ids)  # (B, T)
    attention_mask[: batch // 2, seq * 3 // 4 :] = 0  # the first half of the batch ends in padding, as real ones do
    return {"input_ids": input_ids.to(device), "attention_mask": attention_mask.to(device)}


def load_models(checkpoint: Path, plan: Plan, with_compiled: bool) -> dict[str, torch.nn.Module]:
    """Every row's model, all from the same checkpoint."""
    import transformers

    from albert_explained import AlbertModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = {
            name: AlbertModel.from_pretrained(checkpoint, attn_implementation=attention).to(plan.device)
            for name, attention in ((OURS_EAGER, "eager"), (OURS_SDPA, "sdpa"), (OURS_COMPILED, "sdpa"))
            if with_compiled or name != OURS_COMPILED
        }
        reference = {
            name: transformers.AlbertModel.from_pretrained(checkpoint, attn_implementation=attention)
            for name, attention in ((REF_EAGER, "eager"), (REF_SDPA, "sdpa"))
        }
    if with_compiled:
        # Static shapes: each group compiles for its own B x T, as a fixed-shape deployment would.
        ours[OURS_COMPILED] = torch.compile(ours[OURS_COMPILED], dynamic=False)
    return {**ours, **{name: model.to(plan.device) for name, model in reference.items()}}


def forward_call(model: torch.nn.Module, inputs: dict, plan: Plan) -> Callable[[], torch.Tensor]:
    def call() -> torch.Tensor:
        with torch.inference_mode(), autocast(plan):
            return model(**inputs).last_hidden_state  # (B, T, H)

    return call


def training_call(model: torch.nn.Module, inputs: dict, plan: Plan) -> Callable[[], torch.Tensor]:
    """Forward, backward, AdamW's update, zero_grad; returns the loss."""
    model.train()  # the v2 presets have no dropout, so the step computes what eval mode would
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)

    def call() -> torch.Tensor:
        with autocast(plan):
            hidden = model(**inputs).last_hidden_state  # (B, T, H)
        loss = hidden.float().square().mean()  # a stand-in loss that every weight of the encoder reaches
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss.detach()

    return call


def relative_difference(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.float(), b.float()
    return ((a - b).norm() / b.norm().clamp_min(1e-30)).item()


def graph_breaks(checkpoint: Path, inputs: dict, plan: Plan) -> str:
    """How torch.compile sees our forward: the graph breaks that make fullgraph=True fail."""
    from albert_explained import AlbertModel

    model = AlbertModel.from_pretrained(checkpoint).to(plan.device)
    with torch.inference_mode(), autocast(plan):
        explanation = torch._dynamo.explain(model)(**inputs)
    torch.compiler.reset()
    reasons = sorted(
        {
            f"{Path(b.user_stack[-1].filename).name}:{b.user_stack[-1].lineno} {str(b.reason).splitlines()[0][:80]}"
            for b in explanation.break_reasons
            if b.user_stack
        }
    )
    return (
        f"torch._dynamo.explain(AlbertModel): {explanation.graph_break_count} graph break(s)"
        + (f" ({'; '.join(reasons)})" if reasons else "")
        + "; the compiled rows use fullgraph=False"
    )


def model_section(mode: str, plan: Plan, checkpoints: dict[str, Path]) -> list[Group]:
    """The forward or train groups: every preset at every shape."""
    from albert_explained import AlbertConfig

    presets = plan.forward_presets if mode == "forward" else plan.train_presets
    groups = []
    for preset in presets:
        config = AlbertConfig.from_preset(preset)
        checkpoint = checkpoints[preset]
        for batch, seq in plan.shapes:
            inputs = make_inputs(config.vocab_size, batch, seq, plan.device)
            notes = []
            if plan.compile and mode == "forward" and not groups:  # once per report
                notes.append(graph_breaks(checkpoint, inputs, plan))
            torch.compiler.reset()  # each group compiles afresh, so no cache limit is reached
            models = load_models(checkpoint, plan, with_compiled=plan.compile)
            make_call = forward_call if mode == "forward" else training_call
            calls = {name: make_call(model, inputs, plan) for name, model in models.items()}

            # The first call of each row (which compiles the compiled one), from the same weights, checks that it
            # computes what transformers SDPA computes.
            expected = calls[REF_SDPA]()
            differences = {}
            for name, call in calls.items():
                if name == REF_SDPA:
                    continue
                differences[name] = relative_difference(call(), expected)
                if differences[name] > TOLERANCE[plan.dtype]:
                    raise AssertionError(
                        f"{preset} {batch} x {seq} {mode}: {name} differs from {REF_SDPA} by "
                        f"{differences[name]:.1e} (relative), more than "
                        f"{TOLERANCE[plan.dtype]:.0e}"
                    )
            notes.append(
                f"{preset}, {batch} x {seq}: relative difference from transformers SDPA's "
                f"{'output' if mode == 'forward' else 'loss'}: "
                + ", ".join(f"{name} {d:.0e}" for name, d in differences.items())
            )

            flops, shapes = count_products(calls[OURS_EAGER])
            calls[MATMUL] = matmul_call(shapes, plan.dtype, plan.device)
            times = interleaved(calls, plan, desc=f"{mode} {preset} {batch}x{seq}")
            groups.append(
                Group(
                    mode, preset, f"{batch} x {seq}", times, flops=flops, gemm_flops=product_flops(shapes), notes=notes
                )
            )
            del models, calls
            gc.collect()
    return groups


def write_checkpoints(presets: set[str], directory: Path) -> dict[str, Path]:
    """Random weights for each preset, written once by our save_pretrained."""
    from albert_explained import AlbertConfig, AlbertModel

    checkpoints = {}
    for preset in sorted(presets):
        torch.manual_seed(0)
        checkpoints[preset] = directory / preset
        AlbertModel(AlbertConfig.from_preset(preset)).save_pretrained(checkpoints[preset])
    return checkpoints


# --- the tokenizer section ------------------------------------------------------------------------------------------


def shakespeare_lines(n: int) -> list[str]:
    """n spoken lines spread evenly over all 38 plays."""
    from albert_explained.pretraining.corpus import load_plays

    lines = [line for play in load_plays() for line in play.sentences]
    step = max(1, len(lines) // n)
    return lines[::step][:n]


def tokenizer_section(plan: Plan) -> list[Group]:
    import transformers

    from albert_explained.tokenizer import AlbertTokenizer

    transformers.logging.set_verbosity_error()
    texts = shakespeare_lines(plan.tokenizer_lines)
    tokenizers = {
        "ours": AlbertTokenizer.from_pretrained(TOKENIZER_DIR),
        "ours, 1 thread": AlbertTokenizer.from_pretrained(TOKENIZER_DIR, sp_model_kwargs={"num_threads": 1}),
        SLOW: transformers.AlbertTokenizer.from_pretrained(str(TOKENIZER_DIR)),
        FAST: transformers.AlbertTokenizerFast.from_pretrained(str(TOKENIZER_DIR), from_slow=True),
    }
    settings = {"lists": {}, "padded tensors": dict(padding=True, truncation=True, max_length=64, return_tensors="pt")}
    groups = []
    for setting, kwargs in settings.items():
        slow = tokenizers[SLOW](texts, **kwargs)
        ours = tokenizers["ours"](texts, **kwargs)
        for key in slow:  # ours is built to give the slow tokenizer's outputs exactly
            same = (ours[key] == slow[key]).all() if kwargs else ours[key] == slow[key]
            if not same:
                raise AssertionError(f"tokenizer, {setting}: our {key} differ from the slow tokenizer's")
        calls = {name: (lambda t=tokenizer, k=kwargs: t(texts, **k)) for name, tokenizer in tokenizers.items()}
        notes = [] if kwargs else [fast_differences(texts, tokenizers[SLOW], tokenizers[FAST])]
        times = interleaved(calls, plan, desc=f"tokenizer, {setting}")
        groups.append(Group("tokenizer", setting, "", times, notes=notes, texts=len(texts)))
    return groups


def fast_differences(texts: list[str], slow, fast, examples: int = 3) -> str:
    """Where the fast tokenizer's ids differ from the slow one's, with a few examples."""
    slow_ids, fast_ids = slow(texts)["input_ids"], fast(texts)["input_ids"]
    differing = [i for i, (a, b) in enumerate(zip(slow_ids, fast_ids, strict=True)) if a != b]
    if not differing:
        return f"The fast tokenizer's ids equal the slow one's on all {len(texts):,} lines."
    lines = [
        f"The fast tokenizer's ids differ from the slow one's on {len(differing):,} of {len(texts):,} lines, "
        f"for example:"
    ]
    for i in differing[:examples]:
        lines.append(
            f"  - `{texts[i]}`: slow `{' '.join(slow.convert_ids_to_tokens(slow_ids[i]))}`, "
            f"fast `{' '.join(fast.convert_ids_to_tokens(fast_ids[i]))}`"
        )
    return "\n".join(lines)


# --- the memory section ---------------------------------------------------------------------------------------------


def memory_section(plan: Plan) -> list[dict]:
    """Peak training memory of ALBERT and of BERT at the same H, each in a fresh process."""
    rows = []
    batch, seq = plan.memory_shape
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")  # see the module docstring
    for preset in tqdm(plan.memory_presets, desc="memory", leave=False):
        for family in ("albert", "bert"):
            spec = dict(
                family=family, preset=preset, batch=batch, seq=seq, device=str(plan.device), threads=plan.threads
            )
            child = subprocess.run(
                [sys.executable, __file__, "--memory-child", json.dumps(spec)], env=env, capture_output=True, text=True
            )
            if child.returncode != 0:
                raise RuntimeError(f"the memory measurement of {family} {preset} failed:\n{child.stderr[-2000:]}")
            rows.append({**spec, **json.loads(child.stdout.strip().splitlines()[-1])})
    return rows


def memory_child(spec: dict) -> dict:
    """Run in a fresh process: build one model, take two training steps, report its peak memory."""
    from albert_explained import AlbertConfig, AlbertModel
    from albert_explained.bert import BertConfig, BertModel

    device = torch.device(spec["device"])
    torch.set_num_threads(spec["threads"])
    plan_dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    albert = AlbertConfig.from_preset(spec["preset"])
    inputs = make_inputs(albert.vocab_size, spec["batch"], spec["seq"], device)
    if device.type == "cpu":
        reset_peak_resident_bytes()
        baseline = resident_bytes("VmRSS")
    else:
        baseline = torch.cuda.memory_allocated(device)
    model = (AlbertModel(albert) if spec["family"] == "albert" else BertModel(BertConfig.like(albert))).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    for _ in range(2):  # the second step holds AdamW's moments from the start
        with torch.autocast(device.type, dtype=plan_dtype, enabled=device.type == "cuda"):
            hidden = model(**inputs).last_hidden_state  # (B, T, H)
        hidden.float().square().mean().backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    peak = resident_bytes("VmHWM") if device.type == "cpu" else torch.cuda.max_memory_allocated(device)
    return {"parameters": sum(p.numel() for p in model.parameters()), "peak_bytes": peak - baseline}


def resident_bytes(field: str) -> int:
    """VmRSS (resident set size now) or VmHWM (its high-water mark) of this process, from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024  # given in kB
    raise RuntimeError(f"/proc/self/status has no {field}")


def reset_peak_resident_bytes() -> None:
    """Start VmHWM afresh from the current resident size (Linux 4.0 and later), so that the import's peak is not
    counted."""
    Path("/proc/self/clear_refs").write_text("5")


# --- the report -----------------------------------------------------------------------------------------------------


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)}, bf16 autocast"
    name = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")
        ]
        name = names[0] if names else name
    return f"{name}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads, float32"


def cell(q: tuple[float, float, float], scale: float = 1.0, digits: int = 2) -> str:
    """median (first quartile - third quartile)"""
    q1, median, q3 = (x * scale for x in q)
    return f"{median:.{digits}f} ({q1:.{digits}f}-{q3:.{digits}f})"


def model_table(groups: list[Group]) -> list[str]:
    lines = [
        "| model | B x T | rounds | row | ms per call | GFLOP/s | % of matmul | / transformers eager "
        "| / transformers SDPA |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for g in groups:
        for name, times in g.times.items():
            median = quartiles(times)[1]
            references = () if name == MATMUL else (REF_EAGER, REF_SDPA)
            versus = [cell(ratios(g.times, name, ref)) for ref in references] or ["—", "—"]
            milliseconds = cell(quartiles(times), 1000, 3 if median < 0.1 else 1)
            lines.append(
                f"| {g.label} | {g.shape} | {g.rounds} | {name} | {milliseconds} | {g.rate(name) / 1e9:.1f} "
                f"| {g.percent_of_matmul(name):.0f}% | {' | '.join(versus)} |"
            )
    notes = [n for g in groups for n in g.notes]
    mismatched = [g for g in groups if g.flops != g.gemm_flops]
    if mismatched:
        notes.append(
            "FlopCounterMode's count differs from the recorded products' FLOPs for "
            + ", ".join(f"{g.label} {g.shape} ({g.flops:,} against {g.gemm_flops:,})" for g in mismatched)
        )
    return lines + [""] + notes


def tokenizer_table(groups: list[Group]) -> list[str]:
    lines = [
        "| setting | texts | rounds | tokenizer | ms per call | texts/s | / transformers slow | / transformers fast |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for g in groups:
        for name, times in g.times.items():
            q = quartiles(times)
            versus = [cell(ratios(g.times, name, ref), digits=3) for ref in (SLOW, FAST)]
            lines.append(
                f"| {g.label} | {g.texts:,} | {g.rounds} | {name} | {cell(q, 1000, 1)} "
                f"| {g.texts / q[1]:,.0f} | {' | '.join(versus)} |"
            )
    return lines + [""] + [n for g in groups for n in g.notes]


def memory_table(rows: list[dict], device: torch.device) -> list[str]:
    from albert_explained import AlbertConfig

    mib = 2**20
    lines = [
        "| model | H | B x T | parameters | parameters + gradients + AdamW (16 B each) | measured peak |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        name = row["preset"] if row["family"] == "albert" else f"BERT like {row['preset']}"
        lines.append(
            f"| {name} | {AlbertConfig.from_preset(row['preset']).hidden_size} | {row['batch']} x "
            f"{row['seq']} | {row['parameters']:,} | {16 * row['parameters'] / mib:,.0f} MiB "
            f"| {row['peak_bytes'] / mib:,.0f} MiB |"
        )
    method = (
        "torch.cuda.max_memory_allocated()"
        if device.type == "cuda"
        else "the peak resident set size of a fresh process (VmHWM) minus its size before the model was built"
    )
    lines += ["", f"Measured: {method}, over two training steps (forward, backward, AdamW)."]
    for albert, bert in zip(rows[::2], rows[1::2], strict=True):
        ratio = bert["peak_bytes"] / albert["peak_bytes"]
        more = (bert["peak_bytes"] - albert["peak_bytes"]) / mib
        lines.append(
            f"At {albert['preset']}'s sizes, BERT's peak is {ratio:.2f}x ALBERT's, {more:,.0f} MiB "
            f"more, where its "
            f"parameters, gradients and AdamW moments take "
            f"{16 * (bert['parameters'] - albert['parameters']) / mib:,.0f} MiB more: the activations are "
            f"the same, and not all gradients are alive at the peak (they are made during the backward pass "
            f"as activations are freed, and zero_grad drops them after each step)."
        )
    return lines


def plot(model_groups: list[Group], path: Path) -> None:
    """Ours / transformers SDPA for forward and training step, and % of matmul's rate."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sections = [s for s in ("forward", "train") if any(g.section == s for g in model_groups)]
    if not sections:
        return
    fig, axes = plt.subplots(len(sections), 2, figsize=(13, 3.6 * len(sections)), squeeze=False)
    for axes_row, section in zip(axes, sections, strict=True):
        groups = [g for g in model_groups if g.section == section]
        labels = [f"{g.label.removeprefix('albert-')}\n{g.shape}" for g in groups]
        rows = [r for r in (OURS_EAGER, OURS_SDPA, OURS_COMPILED, REF_EAGER, REF_SDPA) if r in groups[0].times]
        width = 0.8 / len(rows)
        for k, row in enumerate(rows):
            x = [i + (k - (len(rows) - 1) / 2) * width for i in range(len(groups))]
            q = [ratios(g.times, row, REF_SDPA) for g in groups]
            axes_row[0].bar(
                x,
                [m for _, m, _ in q],
                width,
                label=row,
                yerr=[[m - lo for lo, m, _ in q], [hi - m for _, m, hi in q]],
                capsize=2,
            )
            axes_row[1].bar(x, [g.percent_of_matmul(row) for g in groups], width, label=row)
        for ax in axes_row:
            ax.set_xticks(range(len(groups)), labels, fontsize=8)
        axes_row[0].axhline(1.0, color="black", linewidth=0.8)
        axes_row[0].set_ylabel(f"{section}: time / transformers SDPA")
        axes_row[1].axhline(100, color="black", linewidth=0.8)
        axes_row[1].set_ylabel(f"{section}: % of torch.matmul's rate")
    # One legend under the panels, where it hides no bar.
    fig.legend(*axes[0][0].get_legend_handles_labels(), loc="lower center", ncol=5, fontsize=9)
    fig.suptitle("albert-explained against transformers (median and interquartile range of per-round ratios)")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(plan: Plan, command: str, sections: dict, output: Path) -> Path:
    import transformers

    output.mkdir(parents=True, exist_ok=True)
    name = plan.device.type
    header = [
        "# Benchmark report: albert-explained against transformers",
        "",
        f"`{command}` on {datetime.datetime.now():%Y-%m-%d %H:%M}: {machine(plan.device)}; torch {torch.__version__}, "
        f"transformers {transformers.__version__}.",
        "",
        "Each cell is the median over interleaved rounds with the interquartile range in brackets. Ratios are a row's "
        "time over the column's, taken round by round: below 1, the row is faster. GFLOP/s counts matrix products "
        'only (FlopCounterMode); "% of matmul" compares with torch.matmul running the same products in the same '
        "rounds. The load average (1, 5, 15 minutes) is given before and after each table; on a loaded machine "
        "trust the ratios, not the times.",
    ]
    titles = {
        "forward": "Forward pass (AlbertModel, inference mode)",
        "train": "Training step (forward, backward, AdamW update, zero_grad)",
        "tokenizer": "Tokenizer (Shakespeare's lines, the bundled model's spiece.model)",
        "memory": "Peak training memory: ALBERT against BERT at equal H",
    }
    body = []
    for section, (result, before, after) in sections.items():
        table = (
            memory_table(result, plan.device)
            if section == "memory"
            else tokenizer_table(result)
            if section == "tokenizer"
            else model_table(result)
        )
        body += ["", f"## {titles[section]}", "", f"Load average: {before} before, {after} after.", "", *table]
    markdown = output / f"{name}.md"
    markdown.write_text("\n".join(header + body).rstrip() + "\n", encoding="utf-8")
    model_groups = [g for s in ("forward", "train") if s in sections for g in sections[s][0]]
    plot(model_groups, output / f"{name}.png")
    raw = {s: (r if s == "memory" else [g.__dict__ for g in r]) for s, (r, _, _) in sections.items()}
    (output / f"{name}.json").write_text(json.dumps({"command": command, "sections": raw}, indent=1), encoding="utf-8")
    return markdown


# --- command line ---------------------------------------------------------------------------------------------------


def parse_shapes(text: str) -> tuple[tuple[int, int], ...]:
    try:
        shapes = tuple(tuple(int(n) for n in item.lower().split("x")) for item in text.split(","))
    except ValueError:
        shapes = ((),)
    if not all(len(s) == 2 and min(s) > 0 for s in shapes):
        raise argparse.ArgumentTypeError(
            f"--shapes must be BxT pairs of positive integers, e.g. 1x16,8x128; got {text!r}"
        )
    return shapes


def parse_sections(text: str) -> tuple[str, ...]:
    sections = tuple(s.strip() for s in text.split(","))
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"--only takes a comma-separated list of {', '.join(SECTIONS)}; got {', '.join(unknown)}"
        )
    return sections


def make_plan(args: argparse.Namespace) -> Plan:
    from albert_explained import AlbertConfig

    device = torch.device(args.device)
    gpu = device.type == "cuda"
    presets = tuple(args.presets.split(",")) if args.presets else (PRESETS[:1] if args.quick else PRESETS)
    unknown = [p for p in presets if p not in AlbertConfig.presets()]
    if unknown:
        raise SystemExit(f"--presets: unknown {', '.join(unknown)}; choose from {', '.join(AlbertConfig.presets())}")
    extra = GPU_FORWARD_PRESETS if gpu and not args.presets else ()
    shapes = args.shapes or (((8, 128),) if args.quick else SHAPES)
    return Plan(
        sections=args.only,
        device=device,
        shapes=shapes,
        forward_presets=presets + extra,
        train_presets=presets,
        memory_presets=presets,
        memory_shape=shapes[-1],
        tokenizer_lines=1000 if args.quick else 5000,
        seconds=10 if args.quick else 60,
        min_rounds=3 if args.quick else MIN_ROUNDS,
        rounds=args.rounds,
        compile=args.compile,
        threads=args.threads,
    )


def build_parser() -> argparse.ArgumentParser:
    from albert_explained.device import get_device

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="albert-base-v2 at 8 x 128 (and albert-xxlarge-v2's forward on a GPU), at least 3 "
        "rounds or 10 s per group, 1,000 tokenizer lines",
    )
    parser.add_argument(
        "--only",
        type=parse_sections,
        default=SECTIONS,
        help=f"comma-separated sections to run (default: {','.join(SECTIONS)})",
    )
    parser.add_argument(
        "--presets", help=f"comma-separated AlbertConfig presets, e.g. tiny (default: {','.join(PRESETS)})"
    )
    parser.add_argument(
        "--shapes",
        type=parse_shapes,
        help="comma-separated BxT (default: 1x16,8x128,2x512); the memory section takes the last",
    )
    parser.add_argument(
        "--rounds", type=int, help="exactly this many rounds per group (default: as many as fit in 60 s, at least 5)"
    )
    parser.add_argument(
        "--no-compile",
        dest="compile",
        action="store_false",
        help="leave out the torch.compile rows (compiling takes minutes on a small CPU)",
    )
    parser.add_argument("--device", default=str(get_device()), help="cpu or cuda (default: %(default)s)")
    parser.add_argument(
        "--threads",
        type=int,
        default=torch.get_num_threads(),
        help="torch's CPU threads (default: %(default)s, this machine's)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="folder for <device>.md, .png and .json (default: "
        "benchmarks/results, or benchmarks/results/quick with --quick)",
    )
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)  # internal: one memory measurement
    return parser


def main(argv: Optional[list[str]] = None) -> Path:
    args = build_parser().parse_args(argv)
    if args.memory_child:
        print(json.dumps(memory_child(json.loads(args.memory_child))))
        return Path()
    for name in ("rounds", "threads"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            raise SystemExit(f"--{name} must be at least 1, got {getattr(args, name)}")
    plan = make_plan(args)
    torch.set_num_threads(plan.threads)
    output = args.output or (ROOT / "results" / "quick" if args.quick else ROOT / "results")
    command = shlex.join(["python", "benchmarks/report.py", *(sys.argv[1:] if argv is None else argv)])
    print(f"{command}\n{machine(plan.device)}; load average {load_average()}", file=sys.stderr)

    results = {}
    with tempfile.TemporaryDirectory() as directory:
        presets = {
            p
            for s, ps in (("forward", plan.forward_presets), ("train", plan.train_presets))
            if s in plan.sections
            for p in ps
        }
        checkpoints = write_checkpoints(presets, Path(directory))
        for section in plan.sections:
            before = load_average()
            if section in ("forward", "train"):
                result = model_section(section, plan, checkpoints)
            elif section == "tokenizer":
                result = tokenizer_section(plan)
            else:
                result = memory_section(plan)
            results[section] = (result, before, load_average())
    markdown = write_report(plan, command, results, output)
    print(markdown.read_text(encoding="utf-8"))
    return markdown


if __name__ == "__main__":
    main()
