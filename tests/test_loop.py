"""The training loop on its own (training/loop.py), on the smallest model there is: a line, y = weight * x + bias,
fitted to points of y = 3x - 2. What pretraining and fine-tuning rely on: the loss falls, each step is the six lines
the module docstring gives, evaluation and checkpoints come every N steps, and a run stopped (or crashed) and
resumed has the losses of an uninterrupted one, bit for bit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from torch import nn

from albert_explained import AlbertConfig
from albert_explained.task_heads import AlbertForSequenceClassification
from albert_explained.training.checkpoints import CHECKPOINT_NAME, save_checkpoint
from albert_explained.training.distributed import Distributed
from albert_explained.training.loop import (
    LOG_NAME,
    ModelLoss,
    TrainingConfig,
    TrainingLoop,
    check_output_dir,
    lock_output_dir,
    start_session,
)
from albert_explained.training.run_directory import RunDirectoryInUse
from albert_explained.training.optim import make_optimizer, make_scheduler, warmup_linear_decay

BATCH, BATCHES_PER_EPOCH = 4, 10


@dataclass
class LineConfig:
    """A checkpoint records the model's config, as it does an ALBERT's."""

    def to_dict(self) -> dict:
        return {"model": "line"}


class Line(nn.Module):
    def __init__(self):
        super().__init__()
        self.config = LineConfig()
        self.weight = nn.Parameter(torch.zeros(()))
        self.bias = nn.Parameter(torch.zeros(()))


class NoisyRegression(nn.Module):
    """Mean squared error of the line, with noise drawn from torch's global generator added to the targets (as
    dropout draws its masks): a resumed run repeats the losses only if it restores that generator."""

    def __init__(self, line: Line):
        super().__init__()
        self.line = line
        self.autocast_seen: list[bool] = []

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        self.autocast_seen.append(torch.is_autocast_enabled("cpu"))
        error = self.line.weight * x + self.line.bias - (y + 0.01 * torch.randn(y.shape))  # (B,)
        return {"loss": (error**2).mean(), "abs_error": error.abs().mean().detach()}


def batches_for_epoch(epoch: int) -> list[list[tuple[float, float]]]:
    """Ten batches of four points, a pure function of the epoch."""
    x = torch.randn(BATCH * BATCHES_PER_EPOCH, generator=torch.Generator().manual_seed(epoch))
    points = list(zip(x.tolist(), (3 * x - 2).tolist(), strict=True))
    return [points[i : i + BATCH] for i in range(0, len(points), BATCH)]


def collate(chunk: list[tuple[float, float]]) -> dict[str, torch.Tensor]:
    return {"x": torch.tensor([p[0] for p in chunk]), "y": torch.tensor([p[1] for p in chunk])}  # (B,), (B,)


def line_config(**overrides) -> TrainingConfig:
    settings = dict(
        learning_rate=0.3,
        steps=25,
        warmup_steps=2,
        batch_size=BATCH,
        eval_every=5,
        checkpoint_every=5,
        seed=3,
        device="cpu",
        progress=False,
    )
    return TrainingConfig(**{**settings, **overrides})


@dataclass
class LineRun:
    loop: TrainingLoop
    line: Line
    objective: NoisyRegression
    final_metrics: dict
    evaluated_at: list[int]


def fit_line(output_dir: Path, write_checkpoint=save_checkpoint, **overrides) -> LineRun:
    config = line_config(**overrides)
    output_dir.mkdir(exist_ok=True)
    torch.manual_seed(config.seed)
    line = Line()
    objective = NoisyRegression(line)
    loop = TrainingLoop(line, objective, config, start_session(config), output_dir, write_checkpoint)
    evaluated_at = []

    def evaluate() -> dict[str, float]:
        evaluated_at.append(loop.state.step)
        with torch.no_grad():
            return {"weight": line.weight.item(), "bias": line.bias.item()}

    final = loop.run(batches_for_epoch, collate, evaluate, log_keys=("loss", "abs_error"))
    return LineRun(loop, line, objective, final, evaluated_at)


def steps(history: list[dict]) -> list[dict]:
    return [record for record in history if "loss" in record]


def test_the_loss_falls_and_every_step_is_a_record_in_the_log(tmp_path):
    run = fit_line(tmp_path)
    losses = [r["loss"] for r in steps(run.loop.state.history)]
    assert len(losses) == 25
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 / 10
    logged = [json.loads(line) for line in (tmp_path / LOG_NAME).read_text().splitlines()]
    assert logged == run.loop.state.history
    record = steps(logged)[12]
    assert list(record) == ["step", "epoch", "lr", "grad_norm", "loss", "abs_error"]
    assert (record["step"], record["epoch"]) == (13, 1)  # ten batches per epoch: step 13 is epoch 1's third
    assert record["lr"] == pytest.approx(0.3 * warmup_linear_decay(12, 2, 25))


def test_each_step_is_forward_backward_clip_optimizer_and_schedule(tmp_path):
    # The same run written out by hand: AdamW with the package's parameter groups, the schedule, clipping.
    config = line_config(max_grad_norm=0.5)
    run = fit_line(tmp_path, max_grad_norm=0.5)
    torch.manual_seed(config.seed)
    line = Line()
    objective = NoisyRegression(line)
    optimizer = make_optimizer(line, "adamw", config.learning_rate, config.weight_decay)
    scheduler = make_scheduler(optimizer, config.warmup_steps, config.steps)
    losses, norms = [], []
    for epoch in range(3):
        for chunk in batches_for_epoch(epoch)[: config.steps - 10 * epoch]:
            loss = objective(**collate(chunk))["loss"]
            loss.backward()
            norms.append(nn.utils.clip_grad_norm_(line.parameters(), 0.5).item())
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            losses.append(loss.item())
    assert [r["loss"] for r in steps(run.loop.state.history)] == losses
    assert [r["grad_norm"] for r in steps(run.loop.state.history)] == norms
    assert max(norms) > 0.5  # clipping did act
    assert torch.equal(run.line.weight, line.weight) and torch.equal(run.line.bias, line.bias)


def test_evaluation_every_eval_every_steps_and_once_at_the_end(tmp_path):
    run = fit_line(tmp_path, steps=23)
    assert run.evaluated_at == [5, 10, 15, 20, 23]
    evaluations = [r for r in run.loop.state.history if "eval" in r]
    assert [r["step"] for r in evaluations] == [5, 10, 15, 20, 23]
    assert (
        run.final_metrics == evaluations[-1]["eval"] == {"weight": run.line.weight.item(), "bias": run.line.bias.item()}
    )


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_a_run_stopped_and_resumed_has_the_losses_of_an_uninterrupted_one_bit_for_bit(tmp_path, precision):
    whole = fit_line(tmp_path / "whole", precision=precision)
    first = fit_line(tmp_path / "split", precision=precision, stop_after=13)  # in the middle of epoch 1
    assert first.loop.state.step == 13 and first.final_metrics == {} and first.evaluated_at == [5, 10]
    second = fit_line(tmp_path / "split", precision=precision, resume=True)
    assert second.evaluated_at == [15, 20, 25]
    assert steps(second.loop.state.history) == steps(whole.loop.state.history)  # losses, lr, norms, epochs
    assert second.final_metrics == whole.final_metrics
    assert torch.equal(second.line.weight, whole.line.weight) and torch.equal(second.line.bias, whole.line.bias)
    assert (tmp_path / "split" / LOG_NAME).read_text() == (tmp_path / "whole" / LOG_NAME).read_text()
    assert set(whole.objective.autocast_seen) == {precision == "bf16"}


def test_checkpoints_before_the_first_step_every_n_steps_and_at_the_stop_through_the_writer_given(tmp_path):
    written = []

    def writer(path, model, optimizer, scheduler, state, config):
        written.append(state.step)
        save_checkpoint(path, model, optimizer, scheduler, state, config)

    fit_line(tmp_path, write_checkpoint=writer, checkpoint_every=4, stop_after=13)
    assert written == [0, 4, 8, 12, 13]  # step 0: a run stopped before its first checkpoint can be resumed too
    assert torch.load(tmp_path / CHECKPOINT_NAME, weights_only=True)["state"]["step"] == 13


def test_a_disk_full_at_a_checkpoint_leaves_the_previous_one_and_resuming_from_it_repeats_the_run(
    tmp_path, monkeypatch, disk_fills_while_writing
):
    whole = fit_line(tmp_path / "whole")

    def disk_full_at_step_10(path, *args):
        if args[3].step == 10:  # state
            disk_fills_while_writing(CHECKPOINT_NAME)  # conftest.py: half of the file is written, then ENOSPC
        save_checkpoint(path, *args)

    with pytest.raises(
        OSError, match="no space left on device while writing .*; the existing checkpoint.pt is unchanged"
    ):
        fit_line(tmp_path / "crashed", write_checkpoint=disk_full_at_step_10)
    monkeypatch.undo()
    assert sorted(p.name for p in (tmp_path / "crashed").iterdir()) == [CHECKPOINT_NAME, LOG_NAME]  # no half file
    resumed = fit_line(tmp_path / "crashed", resume=True)
    assert steps(resumed.loop.state.history)[:5] == steps(whole.loop.state.history)[:5]  # from step 5's checkpoint
    assert steps(resumed.loop.state.history) == steps(whole.loop.state.history)
    assert torch.equal(resumed.line.weight, whole.line.weight)


def test_a_loss_that_becomes_nan_stops_the_run_before_it_is_logged_and_the_last_checkpoint_is_the_last_good_one(
    tmp_path, monkeypatch
):
    real_forward, calls = NoisyRegression.forward, []

    def forward(self, x, y):
        calls.append(1)
        return real_forward(self, x, y * float("nan") if len(calls) == 8 else y)  # step 8's targets are NaN

    monkeypatch.setattr(NoisyRegression, "forward", forward)
    with pytest.raises(
        FloatingPointError,
        match=r"training diverged at step 8 \(.*loss = nan.*\); the run stops "
        r"without exporting a model",
    ):
        fit_line(tmp_path)
    logged = [json.loads(line) for line in (tmp_path / LOG_NAME).read_text().splitlines()]
    assert [record["step"] for record in logged if "loss" in record] == [1, 2, 3, 4, 5, 6, 7]
    checkpoint = torch.load(tmp_path / CHECKPOINT_NAME, weights_only=True)
    assert checkpoint["state"]["step"] == 5 and all(torch.isfinite(v).all() for v in checkpoint["model"].values())


def test_a_last_update_that_makes_a_weight_nan_stops_the_run_before_its_checkpoint(tmp_path, monkeypatch):
    # The last step's loss is computed before its update, so only the weights show that the update diverged.
    real_step = torch.optim.AdamW.step

    def step(self, *args, **kwargs):
        result = real_step(self, *args, **kwargs)
        if self.state and max(int(s["step"]) for s in self.state.values()) == 25:  # the run's last update
            with torch.no_grad():
                self.param_groups[0]["params"][0].fill_(float("nan"))
        return result

    monkeypatch.setattr(torch.optim.AdamW, "step", step)
    with pytest.raises(
        FloatingPointError,
        match=r"training diverged at step 25 \(the update made 1 weight tensors NaN "
        r"or infinite, weight first\); the run stops without exporting",
    ):
        fit_line(tmp_path, optimizer="adamw")
    checkpoint = torch.load(tmp_path / CHECKPOINT_NAME, weights_only=True)
    assert checkpoint["state"]["step"] < 25 and all(torch.isfinite(v).all() for v in checkpoint["model"].values())


def test_a_learning_rate_far_above_any_that_trains_is_refused_by_name():
    with pytest.raises(ValueError, match=r"learning_rate must be at most 10 .*got 1e\+38"):
        line_config(learning_rate=1e38).check()


def test_a_planted_lock_link_is_refused_and_the_file_it_points_to_is_untouched(tmp_path):
    precious = tmp_path / "precious.txt"
    precious.write_text("a student's notes\n")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / ".lock").symlink_to(precious)
    with pytest.raises(RunDirectoryInUse, match=r"\.lock is not a plain file \(a link, a pipe or a directory\)"):
        with lock_output_dir(tmp_path / "run", holder="a run"):
            pass
    assert precious.read_text() == "a student's notes\n"


def test_a_second_run_on_a_locked_output_dir_is_refused_naming_the_holder(tmp_path):
    with lock_output_dir(tmp_path / "run", holder="the first run"):
        with pytest.raises(RunDirectoryInUse, match=r"run is in use by another run: process \d+ on .*: the first run"):
            with lock_output_dir(tmp_path / "run", holder="the second run"):
                pass
    with lock_output_dir(tmp_path / "run", holder="a later run"):  # released when the first ended
        pass
    (tmp_path / "a-file").write_text("")
    with pytest.raises(ValueError, match="output_dir .*a-file is a file"):
        lock_output_dir(tmp_path / "a-file", holder="")


def test_resuming_with_other_settings_is_refused_before_anything_changes(tmp_path):
    fit_line(tmp_path, stop_after=5)
    saved = (tmp_path / CHECKPOINT_NAME).read_bytes()
    with pytest.raises(
        ValueError,
        match=r"Differences: learning_rate: checkpoint 0.3, now 0.2; steps: checkpoint "
        r"25, now 30",
    ):
        fit_line(tmp_path, resume=True, learning_rate=0.2, steps=30)
    assert (tmp_path / CHECKPOINT_NAME).read_bytes() == saved
    fit_line(tmp_path, resume=True, eval_every=7, checkpoint_every=100)  # cadence may change


def test_a_new_run_refuses_a_directory_that_holds_part_of_a_run(tmp_path):
    check_output_dir(tmp_path / "new", resume=False, run_files=(CHECKPOINT_NAME, LOG_NAME))
    (tmp_path / LOG_NAME).write_text("")
    with pytest.raises(FileExistsError, match="already holds .*: log.jsonl; pass --resume"):
        check_output_dir(tmp_path, resume=False, run_files=(CHECKPOINT_NAME, LOG_NAME))
    with pytest.raises(FileNotFoundError, match="cannot resume: no checkpoint"):
        check_output_dir(tmp_path, resume=True, run_files=(CHECKPOINT_NAME, LOG_NAME))
    with pytest.raises(ValueError, match="is a file"):
        check_output_dir(tmp_path / LOG_NAME, resume=False, run_files=())


def test_an_epoch_with_fewer_batches_than_processes_is_an_error_that_says_so(tmp_path):
    config = line_config()
    loop = TrainingLoop(Line(), NoisyRegression(Line()), config, start_session(config), tmp_path)
    with pytest.raises(ValueError, match="fewer than one batch per process"):
        loop.run(lambda epoch: [], collate, dict)


def test_each_process_takes_its_own_batches_and_all_take_the_same_number():
    batches = list(range(11))  # 11 batches for 3 processes: 9 are taken, 3 each
    per_rank = [Distributed(rank=r, world_size=3).shard(batches) for r in range(3)]
    assert per_rank == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]
    assert Distributed().shard(batches) == batches


def test_default_warm_up_is_a_tenth_of_the_steps_and_at_most_400():
    warmups = [line_config(steps=s, warmup_steps=None).warmup_steps for s in (20, 300, 3999, 4000, 17000)]
    assert warmups == [2, 30, 399, 400, 400]
    assert line_config(steps=20, warmup_steps=0).warmup_steps == 0  # given: kept as given
    with pytest.raises(ValueError, match=r"warmup_steps must be between 0 and steps \(20\), got 400"):
        line_config(steps=20, warmup_steps=400).check()


def test_a_task_head_fine_tunes_in_the_same_loop_with_its_own_loss(tmp_path):
    # Fine-tuning is the loop with ModelLoss: the head's own loss from `labels`. A toy task: is the first piece even?
    config = line_config(learning_rate=3e-3, steps=30, warmup_steps=3, batch_size=8, eval_every=100)
    torch.manual_seed(0)
    model = AlbertForSequenceClassification(AlbertConfig.from_preset("tiny", vocab_size=20, num_labels=2))

    def examples_for_epoch(epoch: int) -> list[list[list[int]]]:
        ids = torch.randint(3, 20, (32, 6), generator=torch.Generator().manual_seed(epoch)).tolist()
        return [ids[i : i + 8] for i in range(0, 32, 8)]

    def collate_ids(chunk: list[list[int]]) -> dict[str, torch.Tensor]:
        input_ids = torch.tensor(chunk)  # (B, T)
        return {"input_ids": input_ids, "labels": input_ids[:, 0] % 2}  # (B, T), (B,)

    loop = TrainingLoop(model, ModelLoss(model), config, start_session(config), tmp_path)
    loop.run(examples_for_epoch, collate_ids, evaluate=dict)
    losses = [r["loss"] for r in steps(loop.state.history)]
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 0.2
    batch = collate_ids(examples_for_epoch(0)[0])
    model.eval()  # no dropout: two calls compute the same
    assert torch.equal(ModelLoss(model)(**batch)["loss"], model(**batch).loss)
