"""What keeps a run directory usable: one run at a time in it, and no model exported from a run that diverged.

A run directory holds a run's checkpoint, log, tokenizer and exported model. Two runs started on one directory would
interleave their logs and overwrite each other's checkpoints, so a run holds `RunLock` for as long as it works there;
a second one is refused at once and told who holds it. A run whose loss becomes NaN or infinite has diverged: every
step after that is wasted and the model it would export computes NaNs, so `check_finite` stops it before the next
log line, checkpoint or export.

Files are written atomically (`files.py`): a kill, a full disk or Ctrl-C during a checkpoint leaves the previous
checkpoint whole, so the directory stays resumable, and the next write removes what a killed one left behind.
"""

from __future__ import annotations

import math
import os
import re
import socket
import time
from pathlib import Path
from typing import Mapping, Optional, Union

import torch

LOCK_NAME = ".lock"


class RunDirectoryInUse(OSError):
    """Another process holds the run directory's lock."""


class RunLock:
    """An exclusive lock on a run directory, held inside a `with` block: `with RunLock(out, holder="..."): ...`.

    The lock is the operating system's, on the open file DIRECTORY/.lock (flock on Linux and macOS, msvcrt.locking on
    Windows), so it ends with the process however the process ends: a lock file left behind by a killed run locks
    nothing. The file says who holds the lock (process, machine, start time and `holder`, the command), which is what
    a second run is told. The directory is made if missing, and removed again on release if the run left nothing in
    it (a run refused before it wrote anything). On network file systems the lock holds between machines where the
    file system supports it (NFSv4 on Linux emulates flock with byte-range locks; SMB and older NFS may not).

    enabled=False makes it do nothing: under torchrun, rank 0 holds the lock for all processes of the run.
    """

    def __init__(self, directory: Union[str, os.PathLike], holder: str = "", enabled: bool = True):
        self.directory, self.holder, self.enabled = Path(directory), holder, enabled
        self.path = self.directory / LOCK_NAME
        self._handle: Optional[int] = None
        self._made_directory = False

    def __enter__(self) -> "RunLock":
        if not self.enabled:
            return self
        if self.directory.exists() and not self.directory.is_dir():
            raise NotADirectoryError(f"{self.directory} is a file; a run directory must be a directory")
        self._made_directory = not self.directory.exists()
        self.directory.mkdir(parents=True, exist_ok=True)
        while True:
            if self.path.is_symlink() or (self.path.exists() and not self.path.is_file()):
                # Never written through: a link planted here would make us overwrite the file it points to.
                raise RunDirectoryInUse(
                    f"{self.path} is not a plain file (a link, a pipe or a directory); remove it "
                    f"if no run is using {self.directory}"
                )
            handle = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)
            if not _try_lock(handle):
                held_by = _read_record(handle)
                os.close(handle)
                self._remove_directory_if_made()
                raise RunDirectoryInUse(
                    f"{self.directory} is in use by another run: {held_by}. Wait for it to end, "
                    f"or choose another output directory"
                )
            # A run that released the lock in the meantime unlinked the file we opened: lock the new one instead.
            if os.name != "posix" or _same_file(handle, self.path):
                break
            os.close(handle)
        started = time.strftime("%Y-%m-%d %H:%M:%S")
        record = f"process {os.getpid()} on {socket.gethostname()}, since {started}: {self.holder or 'no command'}\n"
        os.ftruncate(handle, 0)
        os.write(handle, record.encode("utf-8"))
        self._handle = handle
        return self

    def __exit__(self, *exc_info) -> None:
        if self._handle is None:
            return
        if os.name == "posix":  # unlinked while locked, so nobody can lock this file again (see __enter__)
            self.path.unlink(missing_ok=True)
        os.close(self._handle)  # releases the lock
        self._handle = None
        self._remove_directory_if_made()

    def _remove_directory_if_made(self) -> None:
        if self._made_directory:
            try:
                self.directory.rmdir()  # only if empty: a run that wrote something keeps it
            except OSError:
                pass


def _read_record(handle: int, patience: float = 1.0) -> str:
    """Who holds the lock, as its holder wrote it. The holder writes its record just after it takes the lock, so a
    run that lost a race by microseconds may find the file still empty, or still holding the record of a killed run
    (a process of this machine that no longer exists): it waits up to `patience` seconds for the real one."""
    deadline = time.monotonic() + patience
    while True:
        os.lseek(handle, 0, os.SEEK_SET)
        record = os.read(handle, 4096).decode("utf-8", "replace").strip()
        if (record and not _names_a_dead_process(record)) or time.monotonic() > deadline:
            return record if record and not _names_a_dead_process(record) else "(not yet recorded)"
        time.sleep(0.01)


def _names_a_dead_process(record: str) -> bool:
    """Whether a lock record names a process of this machine that has ended (POSIX only: elsewhere, False)."""
    written_by = re.match(r"process (\d+) on (\S+),", record)
    if os.name != "posix" or not written_by or written_by.group(2) != socket.gethostname():
        return False
    try:
        os.kill(int(written_by.group(1)), 0)  # signal 0: nothing is sent, only whether the process exists
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False  # exists, under another user (or a number no process can have)
    return False


def _try_lock(handle: int) -> bool:
    """Take an exclusive lock on an open file without waiting; False if another process holds it."""
    if os.name == "posix":
        import fcntl

        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
    import msvcrt

    # Windows locks are mandatory: lock a byte far past the record, so that others can still read who holds it.
    os.lseek(handle, 1 << 20, os.SEEK_SET)
    try:
        msvcrt.locking(handle, msvcrt.LK_NBLCK, 1)
    except OSError:
        return False
    finally:
        os.lseek(handle, 0, os.SEEK_SET)
    return True


def _same_file(handle: int, path: Path) -> bool:
    try:
        here = path.stat()
    except FileNotFoundError:
        return False
    opened = os.fstat(handle)
    return (opened.st_dev, opened.st_ino) == (here.st_dev, here.st_ino)


def check_finite(values: Mapping[str, float], step: int) -> None:
    """Stop a run whose loss (or gradient norm) is NaN or infinite at `step`: FloatingPointError saying so and what to
    change. Call it before the step is logged or checkpointed, so that neither the log nor a checkpoint nor an export
    holds a diverged model."""
    bad = {name: value for name, value in values.items() if isinstance(value, float) and not math.isfinite(value)}
    if bad:
        found = ", ".join(f"{name} = {value}" for name, value in bad.items())
        raise FloatingPointError(
            f"training diverged at step {step} ({found}); the run stops without exporting a "
            f"model, and its checkpoints hold the weights from before. Start a new run with a "
            f"lower learning rate or max_grad_norm"
        )


def check_finite_weights(model: torch.nn.Module, step: int) -> None:
    """Stop a run whose last update made a weight NaN or infinite (its loss, computed before the update, was still
    finite): FloatingPointError, as `check_finite`. Called before each checkpoint, so no checkpoint or export holds
    such weights."""
    bad = [name for name, weight in model.named_parameters() if not torch.isfinite(weight).all()]
    if bad:
        raise FloatingPointError(
            f"training diverged at step {step} (the update made {len(bad)} weight tensors NaN or "
            f"infinite, {bad[0]} first); the run stops without exporting a model, and its "
            f"checkpoints hold the weights from before. Start a new run with a lower learning "
            f"rate or max_grad_norm"
        )
