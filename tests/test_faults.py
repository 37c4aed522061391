"""Faults, tried for real: processes killed at chosen points, full disks, Ctrl-C, two runs at once, a run that
diverges, and paths that would hang or exhaust memory.

Kills and file-size limits happen in child processes, which install a hook at the chosen point (a SIGKILL, a SIGINT,
or `resource.setrlimit(RLIMIT_FSIZE)`, which needs no root: past the limit, writes fail with EFBIG as on a full
disk). Each child runs a few steps of a tiny model, so every test takes seconds. What must hold after each fault:
a one-line message from the command line, no half-written file where a whole one was, no hidden file left behind
for good, and a run directory that `--resume` continues.
"""

from __future__ import annotations

import contextlib
import json
import re
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import albert_explained.files as files
from albert_explained import AlbertConfig, AlbertForMaskedLM, AlbertModel
from albert_explained.cli import main
from albert_explained.pretraining.corpus import read_corpus
from albert_explained.pretraining.objective import PretrainingObjective
from albert_explained.tokenizer import AlbertTokenizer, train_tokenizer
from albert_explained.training.checkpoints import CHECKPOINT_NAME, atomic_torch_save, read_checkpoint
from albert_explained.training.run_directory import RunDirectoryInUse, RunLock, check_finite
from albert_explained.views.page import save_html
from albert_explained.views.plots import save_figure
from albert_explained.views.sample import AttentionSample

posix_only = pytest.mark.skipif(os.name != "posix", reason="signals, FIFOs and rlimits are POSIX")


@pytest.fixture
def corpus(small_corpus_dir) -> Path:
    """Four plays, 150 lines each (conftest.py): enough for a tokenizer and a few batches."""
    return small_corpus_dir


def run_arguments(output_dir: Path, corpus: Path, *extra: str) -> list[str]:
    """`albert-explained pretrain` for a 2-layer, H=32 model: 6 steps, a checkpoint every 2, in a second or two."""
    return [
        "pretrain",
        "--output-dir",
        str(output_dir),
        "--corpus",
        str(corpus),
        "--vocab-size",
        "200",
        "--embedding-size",
        "16",
        "--hidden-size",
        "32",
        "--num-hidden-layers",
        "2",
        "--num-attention-heads",
        "2",
        "--intermediate-size",
        "64",
        "--max-seq-length",
        "32",
        "--batch-size",
        "4",
        "--steps",
        "6",
        "--warmup-steps",
        "2",
        "--eval-every",
        "3",
        "--checkpoint-every",
        "2",
        "--eval-batch-size",
        "16",
        "--max-eval-examples",
        "16",
        "--seed",
        "7",
        "--device",
        "cpu",
        "--no-progress",
        "--learning-rate",
        "0.01",
        *extra,
    ]


def in_child(hook: str, then: str) -> subprocess.CompletedProcess:
    """Run Python in a child process: `hook` installs the fault, `then` does the work. Ctrl-C raises
    KeyboardInterrupt there even when this process was started in the background by a shell, which makes SIGINT
    ignored for its children (and Python then leaves it ignored)."""
    program = (
        "import os, signal, sys\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n"
        + textwrap.dedent(hook)
        + "\n"
        + textwrap.dedent(then)
    )
    return subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=300)


def pretrain_in_child(hook: str, arguments: list[str]) -> subprocess.CompletedProcess:
    return in_child(hook, f"from albert_explained.cli import main\nsys.exit(main({arguments!r}))")


def hidden_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp"))


# Kill the process on the n-th rename onto a file of this name (before the rename: the hidden file is complete).
KILL_ON_RENAME = """
real_replace, renames = os.replace, []
def replace(source, target):
    if os.path.basename(target) == {name!r}:
        renames.append(target)
        if len(renames) == {n}:
            os.kill(os.getpid(), signal.SIGKILL)
    real_replace(source, target)
os.replace = replace
"""


# ---------------------------------------------------------------------------------------------------------------
# Data loss
# ---------------------------------------------------------------------------------------------------------------


def small_config(**changes) -> AlbertConfig:
    return AlbertConfig.from_preset(
        "tiny", **{"vocab_size": 50, "hidden_size": 32, "embedding_size": 16, "intermediate_size": 37, **changes}
    )


@posix_only
def test_a_save_killed_between_its_two_files_is_refused_not_loaded_as_another_model(tmp_path):
    # All-shared: 4 and 2 layers have the same weight shapes, so new weights beside the old config.json would load
    # silently as a 4-layer model.
    AlbertModel(small_config(num_hidden_layers=4)).save_pretrained(tmp_path)
    killed = in_child(
        KILL_ON_RENAME.format(name="config.json", n=1),
        f"""
        from albert_explained import AlbertConfig, AlbertModel
        config = AlbertConfig.from_preset("tiny", vocab_size=50, hidden_size=32, embedding_size=16,
                                          intermediate_size=37, num_hidden_layers=2)
        AlbertModel(config).save_pretrained({str(tmp_path)!r})""",
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert json.loads((tmp_path / "config.json").read_text())["num_hidden_layers"] == 4  # the old one
    with pytest.raises(
        ValueError,
        match=r"config\.json is not the config that model\.safetensors was saved with "
        r".*num_hidden_layers: the weights 2, config\.json 4.*Save the model again",
    ):
        AlbertModel.from_pretrained(tmp_path)
    # Asked for on purpose, the other layer count loads.
    assert AlbertModel.from_pretrained(tmp_path, num_hidden_layers=2).config.num_hidden_layers == 2
    # And the next save removes the hidden config.json the killed process left, and makes a whole pair again.
    assert hidden_files(tmp_path) and all(name.startswith(".config.json.") for name in hidden_files(tmp_path))
    AlbertModel(small_config(num_hidden_layers=4)).save_pretrained(tmp_path)
    assert hidden_files(tmp_path) == []
    assert AlbertModel.from_pretrained(tmp_path).config.num_hidden_layers == 4


def test_a_save_that_lands_while_a_load_reads_cannot_mix_into_it(tmp_path, monkeypatch):
    """The weights and the config they record are read from one opening of model.safetensors: a save that replaces
    the pair in the middle of a load (here, between reading the tensors and checking the record) leaves the load
    with the first pair, whole, and not the first tensors checked against the second record."""
    import albert_explained.weights as weights

    torch.manual_seed(0)
    first = AlbertModel(small_config(num_hidden_layers=4))
    first.save_pretrained(tmp_path)
    copy_tensors = weights.load_reference_state_dict

    def a_save_lands_meanwhile(model, state_dict):
        AlbertModel(small_config(num_hidden_layers=2)).save_pretrained(tmp_path)
        return copy_tensors(model, state_dict)

    monkeypatch.setattr(weights, "load_reference_state_dict", a_save_lands_meanwhile)
    loaded = AlbertModel.from_pretrained(tmp_path)
    assert loaded.config.num_hidden_layers == 4
    for name, tensor in first.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor), name


def test_a_config_json_edited_in_what_does_not_change_the_weights_still_loads(tmp_path):
    AlbertModel(small_config()).save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config.update(
        hidden_dropout_prob=0.1,
        attn_implementation="eager",
        id2label={"0": "no", "1": "yes"},
        label2id={"no": 0, "yes": 1},
    )
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert AlbertModel.from_pretrained(tmp_path).config.attn_implementation == "eager"


@posix_only
def test_killed_saves_leave_hidden_files_that_the_next_save_removes(tmp_path):
    killed = in_child(
        KILL_ON_RENAME.format(name="model.safetensors", n=1),
        f"""
        from albert_explained import AlbertConfig, AlbertModel
        AlbertModel(AlbertConfig.from_preset("tiny")).save_pretrained({str(tmp_path)!r})""",
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    left = hidden_files(tmp_path)
    assert len(left) == 2 and not (tmp_path / "model.safetensors").exists()  # weights and config, never renamed
    weights = next(name for name in left if name.startswith(".model.safetensors."))
    assert (tmp_path / weights).stat().st_size > 100_000  # full size: what the issue saw pile up

    # A hidden file of a process that still runs (this one) is another save in progress: it stays.
    ours = tmp_path / f".model.safetensors.{files._owner()}-0123abcd.tmp"
    ours.write_bytes(b"being written")
    AlbertModel(AlbertConfig.from_preset("tiny")).save_pretrained(tmp_path)
    assert hidden_files(tmp_path) == [ours.name]
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        "config.json",
        "model.safetensors",
    ]


@posix_only
def test_every_file_the_package_writes_follows_the_umask(tmp_path):
    """A teacher's checkpoint in a shared folder must be as readable as every other file there."""
    config = small_config()
    sample = AttentionSample(["[CLS]", "a", "[SEP]"], torch.full((1, 1, 3, 3), 1 / 3), torch.tensor([2, 7, 3]))
    tokenizer_lines = [f"line {i} of some text to learn pieces from" for i in range(200)]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for umask, expected in ((0o022, 0o644), (0o027, 0o640), (0o002, 0o664)):
        directory = tmp_path / oct(umask)
        directory.mkdir()
        old = os.umask(umask)
        try:
            AlbertModel(config).save_pretrained(directory / "model")
            train_tokenizer(tokenizer_lines, 60, directory / "tokenizer", num_threads=1)
            atomic_torch_save({"step": 1}, directory / CHECKPOINT_NAME)
            save_html(sample, directory / "page.html")
            figure = plt.figure()
            save_figure(figure, directory / "figure.png")
            plt.close(figure)
            with files.new_directory(directory / "export") as building:
                files.write_text(building / "README.md", "a card")
        finally:
            os.umask(old)
        written = [p for p in directory.rglob("*") if p.is_file()]
        assert len(written) == 9
        for path in written:
            assert stat.S_IMODE(path.stat().st_mode) == expected, (path, oct(path.stat().st_mode))
        assert stat.S_IMODE((directory / "export").stat().st_mode) == 0o777 & ~umask


def test_a_full_disk_while_training_a_tokenizer_leaves_the_old_one_whole(tmp_path, disk_fills_while_writing):
    lines = [f"line {i} of some text to learn pieces from" for i in range(200)]
    old = train_tokenizer(lines, 60, tmp_path, num_threads=1)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    disk_fills_while_writing("spiece.model")
    with pytest.raises(
        OSError, match="no space left on device while writing .*spiece.model; the existing spiece.model is unchanged"
    ):
        train_tokenizer([f"{i} other words, {i * 7} other numbers" for i in range(200)], 60, tmp_path, num_threads=1)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert AlbertTokenizer.from_pretrained(tmp_path).tokenize("line 7") == old.tokenize("line 7")
    # The three files are one tokenizer: a failure on the last of them leaves the first unchanged as well.
    disk_fills_while_writing("special_tokens_map.json")
    with pytest.raises(OSError, match="no space left on device while writing .*special_tokens_map.json"):
        train_tokenizer([f"{i} other words, {i * 7} other numbers" for i in range(200)], 60, tmp_path, num_threads=1)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


@posix_only
def test_a_file_size_limit_on_the_tokenizers_scratch_copy_is_one_line_naming_it(tmp_path):
    out = tmp_path / "tokenizer"
    child = in_child(
        """
        import resource
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit a write fails with EFBIG instead of a signal
        """,
        f"""
        from albert_explained.tokenizer import train_tokenizer
        try:
            train_tokenizer([f"line {{i}} of some text to learn pieces from" for i in range(200)], 60, {str(out)!r},
                            num_threads=1)
        except OSError as error:
            print(error)
        """,
    )
    assert re.fullmatch(
        r"file too large \(.*\) while writing /.*/spiece\.model; a scratch copy of the new "
        rf"tokenizer; nothing in {re.escape(str(out))} changed\. Free some space .*\n",
        child.stdout,
    )
    assert not out.exists()


# ---------------------------------------------------------------------------------------------------------------
# Run directories: two runs at once, Ctrl-C, a full disk, a kill, a run that diverges
# ---------------------------------------------------------------------------------------------------------------


def test_two_pretrain_runs_on_one_output_dir_the_second_is_refused_and_told_who_holds_it(tmp_path, corpus, capsys):
    out = tmp_path / "run"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent("""
        import sys, time
        from albert_explained.training.run_directory import RunLock
        with RunLock(sys.argv[1], holder="albert-explained pretrain (the first run)"):
            print("locked", flush=True)
            time.sleep(600)
        """),
            str(out),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert main(run_arguments(out, corpus)) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1
        assert f"is in use by another run: process {holder.pid} on " in error
        assert "albert-explained pretrain (the first run). Wait for it to end" in error
        assert [p.name for p in out.iterdir()] == [".lock"]  # the refused run wrote nothing
    finally:
        holder.kill()  # kill -9: the lock dies with its process, though its file stays
        holder.wait()
    assert main(run_arguments(out, corpus, "--stop-after", "1", "--no-export")) == 0  # the lock is free again
    assert (out / CHECKPOINT_NAME).is_file() and not (out / ".lock").exists()


@posix_only
def test_two_pretrain_commands_started_at_one_moment_one_runs_the_other_is_refused(tmp_path, corpus):
    """Two real processes, released together once both have imported everything: exactly one trains, and the
    directory holds that run alone (one log, read back whole, and a model that loads)."""
    out, go = tmp_path / "run", tmp_path / "go"
    wait_for_go = f"""
        import time
        from albert_explained.cli import main
        while not os.path.exists({str(go)!r}):
            time.sleep(0.005)
        sys.exit(main({run_arguments(out, corpus)!r}))
        """
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", "import os, sys\n" + textwrap.dedent(wait_for_go)], stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    time.sleep(5)  # both have imported torch and the package by now, and poll for the go file
    go.touch()
    results = [(racer.wait(timeout=300), racer.stderr.read()) for racer in racers]
    assert sorted(code for code, _ in results) == [0, 2], results
    refused = next(error for code, error in results if code == 2)
    assert refused.count("\n") == 1 and f"{out} is in use by another run: process " in refused
    logged = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [record["step"] for record in logged if "loss" in record] == [1, 2, 3, 4, 5, 6]  # one run's steps
    assert AlbertForMaskedLM.from_pretrained(out / "model").config.hidden_size == 32


def test_a_run_lock_is_exclusive_within_one_process_too(tmp_path):
    with RunLock(tmp_path / "run", holder="first"):
        with pytest.raises(RunDirectoryInUse, match=f"process {os.getpid()} on .*: first"):
            with RunLock(tmp_path / "run", holder="second"):
                pass
    assert not (tmp_path / "run").exists()  # made for the lock, left empty, removed again
    with RunLock(tmp_path / "run"):
        pass


@posix_only
def test_a_run_that_loses_the_race_by_a_moment_still_learns_who_holds_the_lock(tmp_path):
    """The holder writes its record just after it takes the lock; a second run that looks in between waits for the
    record instead of reporting an empty one. Here another process takes the lock on an empty file and writes its
    record 0.3 s later."""
    run = tmp_path / "run"
    run.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import fcntl, os, sys, time
        handle = os.open({str(run / ".lock")!r}, os.O_RDWR | os.O_CREAT)
        fcntl.flock(handle, fcntl.LOCK_EX)
        print("locked", flush=True)
        time.sleep(0.3)
        os.write(handle, b"process 1234 on elsewhere, since now: the first run\\n")
        sys.stdin.read()
        """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "locked\n"
        with pytest.raises(
            RunDirectoryInUse, match="in use by another run: process 1234 on elsewhere, since now: the first run. Wait"
        ):
            with RunLock(run, holder="second"):
                pass
    finally:
        holder.communicate("")


@posix_only
def test_a_stale_record_of_a_killed_run_is_not_taken_for_the_holder(tmp_path):
    """A killed run leaves its record in .lock; the next holder locks the file and only then rewrites it. A run that
    looks in between waits for the new record instead of naming the dead process."""
    run = tmp_path / "run"
    run.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (run / ".lock").write_text(f"process {dead.stdout.strip()} on {socket.gethostname()}, since then: killed\n")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import fcntl, os, sys, time
        handle = os.open({str(run / ".lock")!r}, os.O_RDWR)
        fcntl.flock(handle, fcntl.LOCK_EX)
        print("locked", flush=True)
        time.sleep(0.3)
        os.ftruncate(handle, 0)
        os.write(handle, b"process 1234 on elsewhere, since now: the second run\\n")
        sys.stdin.read()
        """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "locked\n"
        with pytest.raises(
            RunDirectoryInUse, match="in use by another run: process 1234 on elsewhere, since now: the second run. Wait"
        ):
            with RunLock(run, holder="third"):
                pass
    finally:
        holder.communicate("")


@posix_only
def test_ctrl_c_during_a_checkpoint_gives_one_line_and_the_run_resumes(tmp_path, corpus):
    out = tmp_path / "run"
    # Ctrl-C (a real SIGINT) arrives while the second checkpoint (step 2) is being written.
    interrupted = pretrain_in_child(
        """
        import torch
        real_save, saves = torch.save, []
        def save(obj, f, *args, **kwargs):
            real_save(obj, f, *args, **kwargs)
            saves.append(f)
            if len(saves) == 2:
                os.kill(os.getpid(), signal.SIGINT)
        torch.save = save
        """,
        run_arguments(out, corpus),
    )
    assert interrupted.returncode == 130
    assert interrupted.stderr == (
        f"albert-explained pretrain: interrupted; the checkpoint of step 0 in {out} is intact: continue with --resume\n"
    )
    assert hidden_files(out) == [] and read_checkpoint(out / CHECKPOINT_NAME)["state"]["step"] == 0
    assert main(run_arguments(out, corpus, "--resume")) == 0
    assert (out / "model" / "config.json").is_file()


def test_ctrl_c_before_the_first_step_leaves_no_run_behind_and_the_same_command_starts_again(tmp_path, corpus):
    out = tmp_path / "run"
    # Ctrl-C (a real SIGINT) just after the checkpoint of step 0 is written, before the first step is done.
    interrupted = pretrain_in_child(
        """
        import torch
        real_save = torch.save
        def save(obj, f, *args, **kwargs):
            real_save(obj, f, *args, **kwargs)
            os.kill(os.getpid(), signal.SIGINT)
        torch.save = save
        """,
        run_arguments(out, corpus),
    )
    assert interrupted.returncode == 130
    assert interrupted.stderr == (
        f"albert-explained pretrain: interrupted before the first training step; what the "
        f"run had written in {out} is removed, so the same command starts it again\n"
    )
    assert not out.exists()  # made by the run, and empty again: removed with its lock
    assert main(run_arguments(out, corpus)) == 0  # no --resume asked for
    assert (out / "model" / "config.json").is_file()


def test_an_error_on_the_first_step_leaves_no_run_behind_and_the_corrected_command_runs(tmp_path, corpus, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")  # not the run's: kept
    assert main(run_arguments(out, corpus, "--batch-size", "100000")) == 2  # fails after the checkpoint of step 0
    assert "fewer than one batch per process" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert main(run_arguments(out, corpus)) == 0
    assert (out / "model" / "config.json").is_file() and (out / "notes.txt").read_text() == "mine"


def fail_in_training_step(monkeypatch, step: int) -> None:
    """Make pretraining's objective raise RuntimeError("stopped in step N") in training step `step` (evaluation
    passes, in eval mode, are not counted); monkeypatch.undo() puts the real one back."""
    real_forward, training_steps = PretrainingObjective.forward, []

    def forward(self, **batch):
        if self.model.training:
            training_steps.append(1)
            if len(training_steps) == step:
                raise RuntimeError(f"stopped in step {step}")
        return real_forward(self, **batch)

    monkeypatch.setattr(PretrainingObjective, "forward", forward)


def test_an_error_after_the_first_step_keeps_the_run_resumable(tmp_path, corpus, monkeypatch):
    fail_in_training_step(monkeypatch, 2)
    out = tmp_path / "run"
    with pytest.raises(RuntimeError, match="stopped in step 2"):
        main(run_arguments(out, corpus))
    assert read_checkpoint(out / CHECKPOINT_NAME)["state"]["step"] == 0 and (out / "tokenizer").is_dir()
    monkeypatch.undo()
    assert main(run_arguments(out, corpus, "--resume")) == 0


def test_a_resumed_run_logs_each_step_once(tmp_path, corpus, monkeypatch):
    fail_in_training_step(monkeypatch, 4)  # steps 1 to 3 are logged, the checkpoint is of step 2
    out = tmp_path / "run"
    with pytest.raises(RuntimeError, match="stopped in step 4"):
        main(run_arguments(out, corpus))
    logged = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [record["step"] for record in logged if "loss" in record] == [1, 2, 3]
    monkeypatch.undo()
    assert main(run_arguments(out, corpus, "--resume")) == 0
    logged = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [record["step"] for record in logged if "loss" in record] == [1, 2, 3, 4, 5, 6]  # step 3 once


@posix_only
def test_a_file_size_limit_during_a_checkpoint_gives_one_line_and_the_run_resumes(tmp_path, corpus):
    out = tmp_path / "run"
    # After the first checkpoint (step 0, before the optimizer has state), no file may grow past 1.5 times its size:
    # the next checkpoint, three times larger with AdamW's two moments, hits the limit as it would a full disk.
    full = pretrain_in_child(
        """
        import resource
        import albert_explained.training.checkpoints as checkpoints
        real_save = checkpoints.atomic_torch_save
        def save(obj, path):
            real_save(obj, path)
            limit = os.path.getsize(path) * 3 // 2
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
        checkpoints.atomic_torch_save = save
        """,
        run_arguments(out, corpus),
    )
    assert full.returncode == 2, full.stderr
    assert full.stderr.count("\n") == 1
    assert full.stderr.startswith(
        f"albert-explained pretrain: error: file too large (over the file system's limit "
        f"or this process's file size limit, ulimit -f) while writing "
        f"{out / CHECKPOINT_NAME}; the existing checkpoint.pt is unchanged. Free some space"
    )
    assert full.stderr.endswith(f"the checkpoint of step 0 in {out} is intact: continue with --resume\n")
    assert hidden_files(out) == []
    assert main(run_arguments(out, corpus, "--resume")) == 0
    assert (out / "model" / "model.safetensors").is_file()


@posix_only
def test_a_run_killed_while_writing_a_checkpoint_resumes_and_the_next_checkpoint_cleans_up(tmp_path, corpus):
    out = tmp_path / "run"
    killed = pretrain_in_child(KILL_ON_RENAME.format(name=CHECKPOINT_NAME, n=3), run_arguments(out, corpus))
    assert killed.returncode == -signal.SIGKILL
    assert len(hidden_files(out)) == 1 and read_checkpoint(out / CHECKPOINT_NAME)["state"]["step"] == 2
    assert (out / ".lock").exists()  # left by the killed run; it locks nothing
    assert main(run_arguments(out, corpus, "--resume")) == 0
    assert hidden_files(out) == [] and (out / "model" / "model.safetensors").is_file()


@posix_only
def test_a_run_killed_while_exporting_leaves_no_model_directory_and_resuming_exports_and_cleans_up(tmp_path, corpus):
    out = tmp_path / "run"
    # The export's first model.safetensors is renamed inside the hidden directory being built: kill -9 right then.
    killed = pretrain_in_child(KILL_ON_RENAME.format(name="model.safetensors", n=1), run_arguments(out, corpus))
    assert killed.returncode == -signal.SIGKILL
    assert not (out / "model").exists()  # no half-exported model where from_pretrained would find it
    assert [name for name in hidden_files(out) if name.startswith(".model.")] != []
    assert read_checkpoint(out / CHECKPOINT_NAME)["state"]["step"] == 6
    assert main(run_arguments(out, corpus, "--resume")) == 0
    assert hidden_files(out) == []  # the killed export's directory is gone
    assert AlbertForMaskedLM.from_pretrained(out / "model").config.hidden_size == 32


def test_a_full_disk_while_exporting_gives_one_line_and_resuming_exports(
    tmp_path, corpus, capsys, monkeypatch, disk_fills_while_writing
):
    out = tmp_path / "run"
    disk_fills_while_writing("model.safetensors")
    assert main(run_arguments(out, corpus)) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "no space left on device while writing" in error
    assert error.endswith(f"the checkpoint of step 6 in {out} is intact: continue with --resume\n")
    assert not (out / "model").exists() and hidden_files(out) == []  # no half-exported model directory
    monkeypatch.undo()  # room on the disk again
    assert main(run_arguments(out, corpus, "--resume")) == 0
    assert AlbertForMaskedLM.from_pretrained(out / "model").config.hidden_size == 32


def test_a_run_whose_loss_becomes_nan_stops_with_one_line_and_exports_nothing(tmp_path, corpus, capsys, monkeypatch):
    real_forward, training_steps = PretrainingObjective.forward, []

    def forward(self, **batch):
        out = real_forward(self, **batch)
        if self.model.training:
            training_steps.append(1)
            if len(training_steps) == 3:  # step 3 diverges
                out["loss"] = out["loss"] * float("nan")
        return out

    monkeypatch.setattr(PretrainingObjective, "forward", forward)
    out = tmp_path / "run"
    assert main(run_arguments(out, corpus)) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith("albert-explained pretrain: error: training diverged at step 3 (") and "loss = nan" in error
    assert "the run stops without exporting a model" in error
    assert not (out / "model").exists()
    checkpoint = read_checkpoint(out / CHECKPOINT_NAME)
    assert checkpoint["state"]["step"] == 2
    assert all(torch.isfinite(tensor).all() for tensor in checkpoint["model"].values())
    logged = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [record["step"] for record in logged if "loss" in record] == [1, 2]


def test_check_finite_names_every_value_that_is_not_finite():
    check_finite({"loss": 1.0, "grad_norm": 3.0, "step": 4}, 4)
    with pytest.raises(FloatingPointError, match=r"at step 9 \(loss = inf, grad_norm = nan\)"):
        check_finite({"loss": float("inf"), "mlm_loss": 2.0, "grad_norm": float("nan")}, 9)


# ---------------------------------------------------------------------------------------------------------------
# Paths that would hang or exhaust memory
# ---------------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def must_finish_within(seconds: int):
    """Fail (instead of hanging the test run) if the block blocks: SIGALRM interrupts a blocking open or read."""

    def hung(*_):
        raise TimeoutError(f"still blocked after {seconds} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@posix_only
def test_a_run_log_that_is_a_pipe_is_refused_instead_of_blocking_the_run(tmp_path):
    log = tmp_path / "log.jsonl"
    os.mkfifo(log)  # opened for writing, a pipe with no reader blocks for ever
    with pytest.raises(OSError, match=r"log.jsonl is not a plain file \(a pipe, a device or a directory\); remove it"):
        files.append_text(log, "{}\n")


def test_ctrl_c_while_the_command_line_is_being_built_is_one_line(monkeypatch, capsys):
    import albert_explained.cli as cli

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert main(["params"]) == 130
    assert capsys.readouterr().err == "albert-explained: interrupted\n"


@posix_only
def test_a_corpus_that_is_a_fifo_or_a_device_is_refused_at_once(tmp_path, capsys):
    fifo = tmp_path / "corpus.txt"
    os.mkfifo(fifo)
    with must_finish_within(20):
        with pytest.raises(
            ValueError,
            match=r"corpus file .*corpus\.txt is a FIFO \(named pipe\), not a regular "
            r"file",
        ):
            read_corpus(fifo)
        with pytest.raises(ValueError, match=r"corpus file /dev/zero is a device, not a regular file"):
            read_corpus("/dev/zero")
        with pytest.raises(ValueError, match=r"training file .*corpus\.txt is a FIFO"):
            train_tokenizer(fifo, 100, tmp_path / "tokenizer")
        assert main(["pretrain", "--corpus", "/dev/zero", "--output-dir", str(tmp_path / "run")]) == 2
    assert "corpus file /dev/zero is a device, not a regular file" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
    # In a corpus folder: named, not skipped (the run would train on less than the folder seems to hold).
    folder = tmp_path / "folder"
    (folder / "act-1").mkdir(parents=True)
    (folder / "act-1" / "scene-1.txt").write_text("a line\n")
    os.mkfifo(folder / "act-1" / "scene-2.txt")
    (folder / "scene-3.md").symlink_to("/dev/null")
    (folder / ".#scene-1.txt").symlink_to(tmp_path / "nothing-here")  # an editor's lock file: skipped
    with (
        must_finish_within(20),
        pytest.raises(
            ValueError,
            match=re.escape(
                f"corpus folder {folder} holds act-1/scene-2.txt, scene-3.md, which are not regular files (a pipe, a "
                f"device or a socket) and cannot be read as text; move them out of the folder"
            ),
        ),
    ):
        read_corpus(folder)
    (folder / "act-1" / "scene-2.txt").unlink()
    (folder / "scene-3.md").unlink()
    assert [document.name for document in read_corpus(folder)] == ["act-1/scene-1.txt"]


def test_a_corpus_larger_than_the_bound_is_refused_before_it_is_read(tmp_path):
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as f:
        f.truncate(files.MAX_TEXT_BYTES + 1)  # sparse: no disk space used, and nothing to read in time
    with pytest.raises(ValueError, match=r"holds more than 1,073,741,824 bytes, the most this package reads"):
        read_corpus(huge)
    (tmp_path / "folder").mkdir()
    for name in ("a.txt", "b.txt"):
        with open(tmp_path / "folder" / name, "wb") as f:
            f.truncate(files.MAX_TEXT_BYTES // 2 + 1)
    with pytest.raises(ValueError, match=r"corpus folder .* holds 1,073,741,826 bytes of text, more than"):
        read_corpus(tmp_path / "folder")


def test_a_binary_file_given_to_train_tokenizer_is_named(tmp_path):
    binary = tmp_path / "model.bin"
    torch.save({"w": torch.randn(100)}, binary)
    with pytest.raises(ValueError, match=r"training file .*model\.bin is not text: it holds a NUL byte at byte \d+"):
        train_tokenizer(binary, 100, tmp_path / "tokenizer")
    latin1 = tmp_path / "latin-1.txt"
    latin1.write_bytes("café\n".encode("latin-1"))
    with pytest.raises(
        ValueError,
        match=r"training file .*latin-1\.txt is not UTF-8 text \(invalid continuation "
        r"byte at byte 3\)",
    ):
        train_tokenizer(latin1, 100, tmp_path / "tokenizer")


def deflated_copy(source: Path, target: Path, extra_bytes: int = 0) -> None:
    """The zip archive `source` rewritten with every record deflated, plus a record of zeros that deflates to almost
    nothing: a file of kilobytes that unpacks to `extra_bytes` more."""
    import zipfile

    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for record in archive.infolist():
            out.writestr(record.filename, archive.read(record.filename))
        if extra_bytes:
            prefix = archive.infolist()[0].filename.split("/")[0]
            with out.open(f"{prefix}/data/999", "w", force_zip64=True) as f:
                for _ in range(extra_bytes >> 20):
                    f.write(bytes(1 << 20))


def test_a_small_deflated_pytorch_model_bin_is_refused_before_it_is_unpacked(tmp_path):
    model = AlbertForMaskedLM(small_config())
    plain = tmp_path / "plain.bin"
    torch.save(model.state_dict(), plain)
    bomb = tmp_path / "bomb"
    bomb.mkdir()
    small_config().to_json_file(bomb / "config.json")
    deflated_copy(plain, bomb / "pytorch_model.bin", extra_bytes=256 << 20)
    assert (bomb / "pytorch_model.bin").stat().st_size < 2 << 20  # a quarter of a gigabyte in under 2 MB
    with pytest.raises(
        ValueError,
        match=r"pytorch_model\.bin holds compressed records .*which torch\.save never "
        r"writes; it was not unpacked",
    ):
        AlbertForMaskedLM.from_pretrained(bomb)


def test_a_pytorch_model_bin_larger_than_the_config_allows_is_refused_before_it_is_read(tmp_path):
    big = AlbertForMaskedLM(small_config(vocab_size=50_000))
    torch.save(big.state_dict(), tmp_path / "pytorch_model.bin")
    small_config(vocab_size=50, num_hidden_layers=1).to_json_file(tmp_path / "config.json")
    with pytest.raises(
        ValueError,
        match=r"pytorch_model\.bin holds [\d,]+ bytes of tensors, more than a model of "
        r"this config can use \([\d,]+\): is config\.json the right one\?",
    ):
        AlbertForMaskedLM.from_pretrained(tmp_path)


def test_a_pytorch_model_bin_in_the_old_format_is_refused_with_the_reason(tmp_path):
    small_config().to_json_file(tmp_path / "config.json")
    torch.save(
        AlbertModel(small_config()).state_dict(), tmp_path / "pytorch_model.bin", _use_new_zipfile_serialization=False
    )
    with pytest.raises(
        ValueError,
        match=r"is not a zip archive as torch\.save writes \(since torch 1\.6\).*sizes "
        r"cannot be checked before they are allocated",
    ):
        AlbertModel.from_pretrained(tmp_path)


# ---------------------------------------------------------------------------------------------------------------
# One line instead of a traceback
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "device, message",
    [
        ("meta", "device must be 'cpu' or a CUDA GPU ('cuda', 'cuda:1', ...), got 'meta'"),
        ("cuda:99", "PyTorch sees"),
    ],
)
def test_a_device_that_cannot_train_is_one_line(tmp_path, corpus, capsys, device, message):
    assert main(run_arguments(tmp_path / "run", corpus, "--device", device)) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and message in error
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("entry", ["optimizer", "state", "model", "torch_rng"])
def test_a_checkpoint_missing_an_entry_is_one_line_naming_it(tmp_path, corpus, capsys, entry):
    out = tmp_path / "run"
    assert main(run_arguments(out, corpus, "--stop-after", "2", "--no-export")) == 0
    contents = torch.load(out / CHECKPOINT_NAME, weights_only=True)
    del contents[entry]
    torch.save(contents, out / CHECKPOINT_NAME)
    capsys.readouterr()
    assert main(run_arguments(out, corpus, "--resume")) == 2
    error = capsys.readouterr().err
    assert error == (
        f"albert-explained pretrain: error: {out / CHECKPOINT_NAME} is not a complete checkpoint: it has no {entry}\n"
    )


@posix_only
def test_a_checkpoint_that_is_a_pipe_or_a_directory_is_named_as_such(tmp_path, corpus, capsys):
    out = tmp_path / "run"
    assert main(run_arguments(out, corpus, "--stop-after", "2", "--no-export")) == 0
    (out / CHECKPOINT_NAME).unlink()
    os.mkfifo(out / CHECKPOINT_NAME)
    capsys.readouterr()
    with must_finish_within(60):
        assert main(run_arguments(out, corpus, "--resume")) == 2
    assert capsys.readouterr().err == (
        f"albert-explained pretrain: error: cannot resume: {out / CHECKPOINT_NAME} is "
        f"not a regular file (a pipe, a device or a directory); a checkpoint is one\n"
    )


def test_a_corpus_whose_text_changed_since_the_checkpoint_is_not_resumed(tmp_path, corpus, capsys):
    changed = tmp_path / "corpus"
    shutil.copytree(corpus, changed)
    out = tmp_path / "run"
    assert main(run_arguments(out, changed, "--stop-after", "2", "--no-export")) == 0
    play = sorted(changed.glob("*.txt"))[0]
    original = play.read_text(encoding="utf-8")
    play.write_text(original.replace("\n", "\nA line that was not there.\n", 1), encoding="utf-8")  # same path
    capsys.readouterr()
    assert main(run_arguments(out, changed, "--resume")) == 2
    assert capsys.readouterr().err == (
        f"albert-explained pretrain: error: the training data has changed since "
        f"{out / CHECKPOINT_NAME} was written (the corpus, or the tokenizer that "
        f"encodes it): resuming would go on with other data. Restore the data the run "
        f"started with, or start a new run in another --output-dir\n"
    )
    play.write_text(original, encoding="utf-8")
    assert main(run_arguments(out, changed, "--resume")) == 0


def test_a_resume_that_spells_the_same_corpus_another_way_is_accepted(tmp_path, corpus, monkeypatch):
    monkeypatch.chdir(corpus.parent)
    out = tmp_path / "run"
    assert main(run_arguments(out, Path(corpus.name), "--stop-after", "2", "--no-export")) == 0  # a relative path
    assert main(run_arguments(out, Path(".") / corpus.name / ".", "--stop-after", "4", "--no-export", "--resume")) == 0
    assert main(run_arguments(out, corpus.resolve(), "--resume")) == 0  # and the absolute one
    assert (out / "model" / "config.json").is_file()


def test_a_run_whose_tokenizer_was_replaced_is_told_so_on_resume(tmp_path, corpus, capsys):
    from albert_explained.bundled import BUNDLED_MODEL_DIR

    out = tmp_path / "run"
    assert main(run_arguments(out, corpus, "--stop-after", "2", "--no-export")) == 0
    (out / "tokenizer" / "spiece.model").write_bytes((BUNDLED_MODEL_DIR / "spiece.model").read_bytes())
    capsys.readouterr()
    assert main(run_arguments(out, corpus, "--resume")) == 2
    error = capsys.readouterr().err
    assert "does not match the model built now (was the run's tokenizer or config replaced since?)" in error
    assert "vocab_size: checkpoint 200, model 4000" in error


def test_a_checkpoint_with_damaged_entries_is_one_line(tmp_path, corpus, capsys):
    out = tmp_path / "run"
    assert main(run_arguments(out, corpus, "--stop-after", "2", "--no-export")) == 0
    contents = torch.load(out / CHECKPOINT_NAME, weights_only=True)
    contents["state"]["no_such_field"] = 1
    contents["model"]["albert.embeddings.word_embeddings.weight"] = torch.zeros(3, 3, dtype=torch.int64)
    torch.save(contents, out / CHECKPOINT_NAME)
    capsys.readouterr()
    assert main(run_arguments(out, corpus, "--resume")) == 2
    assert "word_embeddings.weight holds torch.int64 values; weights must be floating point" in capsys.readouterr().err
    del contents["model"]["albert.embeddings.word_embeddings.weight"]
    torch.save(contents, out / CHECKPOINT_NAME)
    assert main(run_arguments(out, corpus, "--resume")) == 2
    assert "is damaged and cannot be resumed from" in capsys.readouterr().err


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("step", "2", "state.step must be an integer >= 0, got '2'"),
        ("step", -1, "state.step must be an integer >= 0, got -1"),
        ("batch_in_epoch", 1.5, "state.batch_in_epoch must be an integer >= 0, got 1.5"),
        ("elapsed_seconds", float("nan"), "state.elapsed_seconds must be a finite number of seconds, got nan"),
        ("history", "[]", "state.history must be a list of records (dicts), got str"),
        ("history", [1, 2], "state.history must be a list of records (dicts), got list"),
        ("processes", 0, "state.processes must be an integer >= 1, got 0"),
        ("data_fingerprint", 7, "state.data_fingerprint must be a string, got 7"),
    ],
)
def test_a_checkpoint_whose_state_no_run_could_write_is_one_line_naming_the_field(
    tmp_path, corpus, capsys, field, value, message
):
    out = tmp_path / "run"
    assert main(run_arguments(out, corpus, "--stop-after", "2", "--no-export")) == 0
    contents = torch.load(out / CHECKPOINT_NAME, weights_only=True)
    contents["state"][field] = value
    torch.save(contents, out / CHECKPOINT_NAME)
    capsys.readouterr()
    assert main(run_arguments(out, corpus, "--resume")) == 2
    error = capsys.readouterr().err
    assert error == (
        f"albert-explained pretrain: error: {out / CHECKPOINT_NAME} is damaged and cannot be resumed from: {message}\n"
    )


def _damage(contents: dict, kind: str) -> None:
    if kind in ("training_config", "model_config", "model", "scheduler"):
        contents[kind] = [1, 2] if kind != "scheduler" else "x"
    elif kind == "moment_shape":
        contents["optimizer"]["state"][0]["exp_avg"] = torch.zeros(1)
    elif kind == "learning_rate":
        contents["optimizer"]["param_groups"][0]["lr"] = "fast"
    elif kind == "history_step":
        contents["state"]["history"] = [{"loss": 1.0}]
    elif kind == "history_keys":
        contents["state"]["history"] = [{"step": 1, "loss": 1.0}]
    elif kind == "step_past_the_end":
        contents["state"]["step"] = 99


@pytest.mark.parametrize(
    "kind, message",
    [
        ("training_config", "its training_config must be a dict, got list"),
        ("model_config", "its model_config must be a dict, got list"),
        ("model", "its model must be a dict, got list"),
        ("scheduler", "its scheduler must be a dict, got str"),
        ("moment_shape", r"the optimizer's exp_avg has shape \(1,\) for a parameter of shape"),
        ("learning_rate", "the optimizer's lr must be a finite number, got 'fast'"),
        ("history_step", r"state.history holds a record whose step is not an integer in \[0, 2\]"),
        ("history_keys", "the record of step 1 in state.history has no mlm_loss, sop_loss"),
        ("step_past_the_end", r"its state.step \(99\) is past the run's 6 steps"),
    ],
)
def test_a_checkpoint_damaged_in_any_entry_is_one_line_before_any_step(tmp_path, corpus, capsys, kind, message):
    out = tmp_path / "run"
    assert main(run_arguments(out, corpus, "--stop-after", "2", "--no-export")) == 0
    contents = torch.load(out / CHECKPOINT_NAME, weights_only=True)
    _damage(contents, kind)
    torch.save(contents, out / CHECKPOINT_NAME)
    log = (out / "log.jsonl").read_text()
    capsys.readouterr()
    assert main(run_arguments(out, corpus, "--resume")) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "is damaged and cannot be resumed from" in error, error
    assert re.search(message, error), error
    assert (out / "log.jsonl").read_text() == log and not (out / "model").exists()  # nothing trained or exported


def test_a_checkpoint_past_the_end_of_its_epoch_is_refused_rather_than_skipping_the_epoch(tmp_path, corpus, capsys):
    """A run stops at most at the end of an epoch, so batch_in_epoch beyond it is damage; read as it is, the loop
    would start the next epoch and the resumed run would differ from the uninterrupted one without a word."""
    out = tmp_path / "run"
    assert main(run_arguments(out, corpus, "--stop-after", "2", "--no-export")) == 0
    contents = torch.load(out / CHECKPOINT_NAME, weights_only=True)
    contents["state"]["batch_in_epoch"] = 10_000
    torch.save(contents, out / CHECKPOINT_NAME)
    capsys.readouterr()
    assert main(run_arguments(out, corpus, "--resume")) == 2
    error = capsys.readouterr().err
    assert error.startswith(
        f"albert-explained pretrain: error: {out / CHECKPOINT_NAME} is damaged and cannot be "
        f"resumed from: state.batch_in_epoch is 10000, but epoch 0 has "
    )
    assert error.endswith(" batches per process\n")


def test_a_checkpoint_of_two_processes_is_not_resumed_by_one(tmp_path, corpus, capsys):
    """Each process takes its share of an epoch's batches, so a run of two processes resumed by one would take other
    batches than the uninterrupted run: refused, saying how many to start. (A checkpoint written before processes
    were recorded holds one, as every such run did.)"""
    out = tmp_path / "run"
    assert main(run_arguments(out, corpus, "--stop-after", "2", "--no-export")) == 0
    contents = torch.load(out / CHECKPOINT_NAME, weights_only=True)
    assert contents["state"]["processes"] == 1
    contents["state"]["processes"] = 2
    torch.save(contents, out / CHECKPOINT_NAME)
    capsys.readouterr()
    assert main(run_arguments(out, corpus, "--resume")) == 2
    assert capsys.readouterr().err == (
        f"albert-explained pretrain: error: the checkpoint {out / CHECKPOINT_NAME} was "
        f"written by a run of 2 process(es); resume it with as many (torchrun "
        f"--nproc-per-node 2), not 1\n"
    )
    del contents["state"]["processes"]
    torch.save(contents, out / CHECKPOINT_NAME)
    assert main(run_arguments(out, corpus, "--resume")) == 0


# ---------------------------------------------------------------------------------------------------------------
# Weights that would be wrong without a word
# ---------------------------------------------------------------------------------------------------------------


@posix_only
def test_a_config_too_large_for_memory_is_refused_before_anything_is_allocated(tmp_path):
    """vocab_size 7e9 asks for a 3.6 TB embedding: refused by name, in one line, with no allocation (the allocator's
    own error, or the kernel's OOM killer, would come first otherwise). Shared parameters are counted once."""
    small = AlbertForMaskedLM(small_config())
    small.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "vocab_size": 7_000_000_000}))
    # Each word costs an embedding row (E = 16; the MLM decoder shares it) and one output bias.
    elements = sum(t.numel() for t in [*small.parameters(), *small.buffers()]) + (7_000_000_000 - 50) * (16 + 1)
    with pytest.raises(
        ValueError,
        match=rf"config\.json describes a model of {elements:,} parameters "
        rf"\({elements * 4 / 1e9:,.1f} GB\), more than this machine's memory",
    ):
        AlbertForMaskedLM.from_pretrained(tmp_path)
    resident = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import resource
        from albert_explained import AlbertForMaskedLM
        try:
            AlbertForMaskedLM.from_pretrained({str(tmp_path)!r})
        except ValueError:
            print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        """),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert int(resident.stdout) < 2_000_000, resident.stderr  # kilobytes: under 2 GB, nothing like 3.6 TB


@posix_only
@pytest.mark.parametrize("name", ["model.safetensors", "pytorch_model.bin"])
def test_a_weights_file_that_is_a_pipe_or_a_directory_is_named_not_reported_missing(tmp_path, name):
    AlbertModel(small_config()).save_pretrained(tmp_path)
    (tmp_path / "model.safetensors").unlink()
    os.mkfifo(tmp_path / name)
    with (
        must_finish_within(20),
        pytest.raises(
            ValueError,
            match=re.escape(
                f"{tmp_path / name} is not a regular file (a directory, a pipe or a device); a weights file must be"
            ),
        ),
    ):
        AlbertModel.from_pretrained(tmp_path)
    (tmp_path / name).unlink()
    (tmp_path / name).mkdir()
    with pytest.raises(ValueError, match=re.escape(f"{tmp_path / name} is not a regular file")):
        AlbertModel.from_pretrained(tmp_path)
    if name == "pytorch_model.bin":  # beside a model.safetensors, which is the file read, it is no obstacle
        AlbertModel(small_config()).save_pretrained(tmp_path)
        assert AlbertModel.from_pretrained(tmp_path).config.hidden_size == 32


@pytest.mark.parametrize(
    "value, message",
    [
        (torch.ones(50, 16, dtype=torch.int32), "holds torch.int32 values; weights must be floating point"),
        (torch.ones(50, 16, dtype=torch.complex64), "holds torch.complex64 values"),
        (torch.ones(50, 16, dtype=torch.bool), "holds torch.bool values"),
        (torch.full((50, 16), float("nan")), "holds NaN or infinite values"),
        (torch.full((50, 16), float("-inf")), "holds NaN or infinite values"),
    ],
)
def test_weights_that_are_not_finite_floating_point_numbers_are_refused_by_name(tmp_path, value, message):
    from safetensors.torch import save_file

    AlbertModel(small_config()).save_pretrained(tmp_path)
    tensors = load_file(tmp_path / "model.safetensors")
    tensors["embeddings.word_embeddings.weight"] = value
    save_file(tensors, tmp_path / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(ValueError, match=rf"model\.safetensors: embeddings\.word_embeddings\.weight {message}"):
        AlbertModel.from_pretrained(tmp_path)


def test_a_pickle_that_asks_to_run_code_is_refused_without_torchs_advice_to_run_it(tmp_path, corpus):
    class RunsCode:
        def __reduce__(self):
            return (os.system, ("echo this should never run",))

    small_config().to_json_file(tmp_path / "config.json")
    torch.save({"embeddings.word_embeddings.weight": RunsCode()}, tmp_path / "pytorch_model.bin")
    with pytest.raises(ValueError) as info:
        AlbertModel.from_pretrained(tmp_path)
    message = str(info.value)
    assert "holds objects other than tensors (it asks for posix.system)" in message
    assert "weights_only" not in message and "Re-running" not in message and "trust the source" not in message

    out = tmp_path / "run"
    assert main(run_arguments(out, corpus, "--stop-after", "2", "--no-export")) == 0
    contents = torch.load(out / CHECKPOINT_NAME, weights_only=True)
    contents["state"]["history"].append(RunsCode())
    torch.save(contents, out / CHECKPOINT_NAME)
    with pytest.raises(ValueError, match="not a readable checkpoint: it holds objects other than tensors") as info:
        read_checkpoint(out / CHECKPOINT_NAME)
    assert "weights_only" not in str(info.value)


def test_warnings_are_not_raised_for_a_checkpoint_of_our_own(tmp_path):
    AlbertModel(small_config()).save_pretrained(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        AlbertModel.from_pretrained(tmp_path)


def test_the_package_never_unpickles_without_weights_only():
    """Every file the package reads may come from someone else: torch.load is always restricted to tensors and plain
    containers, and nothing calls pickle's loaders directly."""
    package = Path(files.__file__).parent
    for source in package.rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        assert not re.search(r"\bpickle\.(load|loads|Unpickler)\b", text), source
        for call in re.finditer(r"torch\.load\(([^)]*)\)", text):
            assert "weights_only=True" in call.group(1), (source, call.group())
