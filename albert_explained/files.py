"""Reading and writing files so that a kill, a full disk or Ctrl-C never leaves half a file where a whole one was.

Every file the package writes goes through `write_file`, or `write_files` for several that belong together (training
checkpoints, config.json with model.safetensors, the tokenizer, the model card, metrics.json, figures, the attention
page). It writes in three steps:

1. The new content goes to a hidden file beside the target, `.NAME.HOST-PID-RANDOM.tmp`, created with the
   permissions any new file gets (0o666 minus the umask, so a checkpoint saved in a shared folder is as readable as
   the other files there).
2. The hidden file is flushed to the disk (fsync), then renamed over the target with `os.replace`, which is atomic on
   POSIX and on Windows (NTFS): a reader sees the old file or the new one, never part of one. On POSIX the directory
   is flushed too, so that the rename itself survives a power cut.
3. If anything goes wrong before the rename (an error, a full disk, Ctrl-C), the hidden file is removed and the
   target is as it was. A process killed outright (`kill -9`, a power cut) cannot clean up, so the next write of the
   same file removes the hidden files whose writer is gone: on this machine, a process that no longer runs (the PID
   in the name); from another machine sharing the folder, one untouched for a day.

A full disk, a quota or a file-size limit is an OSError that says so in words, names the file and says that the old
file is unchanged, also when the bytes were written by a library (torch.save, safetensors, matplotlib) that reports
it in its own way.

`new_directory` builds a directory that must appear whole or not at all (an exported model, a run's tokenizer) under
a hidden name and renames it into place once complete. `append_text` adds lines to a log (a kill can cut the last
line short, never an earlier one).

Reading: `read_text_file` refuses what is not a regular file (a FIFO blocks forever, /dev/zero never ends) and reads at
most `limit` bytes, so a wrong path is an error instead of a hang or an exhausted memory.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import json
import os
import re
import secrets
import shutil
import socket
import stat
import time
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator, Union

PathLike = Union[str, os.PathLike]

# The most this package reads from one text file (a corpus, a tokenizer's training text): every line and its pieces
# are then held in memory as Python objects, about ten times the text's size.
MAX_TEXT_BYTES = 1 << 30  # 1 GiB
# The most it reads from a JSON file (config.json, the tokenizer's settings), which are a few kilobytes.
MAX_JSON_BYTES = 1 << 24  # 16 MiB
# A hidden file from another machine is taken as abandoned once it has not changed for this long.
_ABANDONED_AFTER_SECONDS = 24 * 3600
# The reasons a write fails for lack of room, and what the message says.
_NO_ROOM = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large (over the file system's limit or this process's file size limit, ulimit -f)",
}


def _owner() -> str:
    """HOST-PID: which process on which machine writes a hidden file (letters and digits only in the host)."""
    return f"{re.sub(r'[^A-Za-z0-9]', '_', socket.gethostname())}-{os.getpid()}"


def _hidden_name(target: Path) -> Path:
    return target.with_name(f".{target.name}.{_owner()}-{secrets.token_hex(4)}.tmp")


def _is_abandoned(hidden: Path, name: str) -> bool:
    """Whether a hidden file written for `name` belongs to a writer that is gone (see the module docstring)."""
    match = re.fullmatch(rf"\.{re.escape(name)}\.(\w+)-(\d+)-[0-9a-f]+\.tmp", hidden.name)
    if match is None:
        return False
    host, pid = match.group(1), int(match.group(2))
    if host == _owner().rsplit("-", 1)[0] and os.name == "posix":
        try:
            os.kill(pid, 0)  # signal 0 delivers nothing: it only asks whether the process exists
        except ProcessLookupError:
            return True
        except PermissionError:  # it exists, under another user
            return False
        return False
    # Another machine's process (or Windows, where os.kill would end the process): go by age.
    try:
        return time.time() - hidden.lstat().st_mtime > _ABANDONED_AFTER_SECONDS
    except FileNotFoundError:
        return False


def _remove_abandoned(target: Path) -> None:
    """Remove the hidden files and directories that killed writes of `target` left behind."""
    if not target.parent.is_dir():
        return
    for hidden in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        if _is_abandoned(hidden, target.name):
            if hidden.is_dir() and not hidden.is_symlink():
                shutil.rmtree(hidden, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    hidden.unlink()


def _errno_of(error: BaseException) -> int | None:
    """The operating system's error number behind `error`: its own, one it was raised from (torch.save), or one its
    message quotes (safetensors writes "(os error 28)")."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno is not None:
            return seen.errno
        found = re.search(r"\(os error (\d+)\)", str(seen))
        if found:
            return int(found.group(1))
        seen = seen.__cause__ or seen.__context__
    return None


def is_out_of_space(error: BaseException) -> bool:
    """Whether `error` (or one it was raised from) is a full disk, a quota or a file-size limit."""
    return _errno_of(error) in _NO_ROOM


def explain_write_error(error: BaseException, path: Path, kept: str) -> BaseException:
    """The error to raise when writing `path` failed: for a full disk, an OSError that says so and what to do;
    `kept` says what became of the old file. Other errors are returned as they are."""
    number = _errno_of(error)
    if number not in _NO_ROOM:
        return error
    explained = OSError(
        f"{_NO_ROOM[number]} while writing {path}; {kept}. Free some space (or write to another disk) and try again"
    )
    explained.errno = number  # set apart, so that the message does not start with "[Errno 28]"
    return explained


def write_file(path: PathLike, write: Callable[[BinaryIO], Any]) -> Path:
    """Write `path` atomically: `write(f)` writes the content into `f`, a new binary file (see the module docstring).

    Examples: `write_file(p, lambda f: torch.save(obj, f))`, `write_file(p, lambda f: fig.savefig(f, format="png"))`.
    """
    write_files({Path(path): write})
    return Path(path)


def write_files(writers: dict[Path, Callable[[BinaryIO], Any]]) -> None:
    """Write several files that belong together: every one is written and flushed under its hidden name first, and
    only then are they renamed over their targets, one after the other. An error while writing leaves every target as
    it was; only a kill between the renames (microseconds) can leave some new and some old."""
    hidden: dict[Path, Path] = {}
    target = None
    try:
        for target, write in writers.items():
            _remove_abandoned(target)
            hidden[target] = _hidden_name(target)
            with _create(hidden[target]) as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
        for target, temporary in hidden.items():
            os.replace(temporary, target)
    except BaseException as error:  # Ctrl-C too: the hidden files must go
        for temporary in hidden.values():
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
        kept = f"the existing {target.name} is unchanged" if target.exists() else f"no {target.name} was written"
        explained = explain_write_error(error, target, kept)
        if explained is not error:
            raise explained from error
        if isinstance(error, OSError) and error.strerror and str(error.filename) in {str(h) for h in hidden.values()}:
            # Name the file asked for, not the hidden one the error came from (a folder that cannot hold files,
            # a target that is a directory).
            raise type(error)(error.errno, f"cannot write {target}: {error.strerror}") from None
        raise
    for directory in {target.parent for target in writers}:
        _sync_directory(directory)


def _create(path: Path) -> BinaryIO:
    """A new file open for writing, with the permissions of any new file: os.open's mode is filtered by the umask.
    O_EXCL: the file must not exist, so a link planted under its name is never written through."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    return os.fdopen(handle, "wb")


def write_bytes(path: PathLike, data: bytes) -> Path:
    """Write `data` to `path` atomically."""
    return write_file(path, lambda f: f.write(data))


def write_text(path: PathLike, text: str) -> Path:
    """Write `text` to `path` atomically, in UTF-8."""
    return write_bytes(path, text.encode("utf-8"))


def append_text(path: PathLike, text: str) -> None:
    """Append `text` (whole lines) to a log file, made if missing with the umask's permissions."""
    path = Path(path)
    if path.exists() and not path.is_file():  # a pipe would block the run until someone reads it
        raise OSError(f"{path} is not a plain file (a pipe, a device or a directory); remove it and run again")
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(text)
    except OSError as error:
        explained = explain_write_error(error, path, "the lines written before are kept")
        if explained is error:
            raise
        raise explained from error


@contextlib.contextmanager
def new_directory(path: PathLike) -> Iterator[Path]:
    """A directory that appears whole or not at all: fill the yielded (hidden) directory; when the block ends
    without an error it is renamed to `path`, which must not exist yet. On an error it is removed."""
    target = Path(path)
    if target.exists():
        raise FileExistsError(f"{target} already exists")
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(target)
    hidden = _hidden_name(target)
    hidden.mkdir()  # with the umask's permissions, like any new directory
    try:
        yield hidden
        for file in hidden.rglob("*"):  # the files' renames are durable only if their directory is flushed too
            if file.is_dir():
                _sync_directory(file)
        _sync_directory(hidden)
        os.rename(hidden, target)
    except BaseException:
        shutil.rmtree(hidden, ignore_errors=True)
        raise
    _sync_directory(target.parent)


def _sync_directory(directory: Path) -> None:
    """Flush a directory's entries (its renames) to the disk; POSIX only (Windows cannot open a directory)."""
    if os.name != "posix":
        return
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    except OSError:
        pass  # some file systems (network ones) cannot sync a directory; the rename still happened
    finally:
        os.close(handle)


def read_text_file(path: PathLike, what: str, limit: int = MAX_TEXT_BYTES) -> str:
    """The text of a regular UTF-8 file, as `Path.read_text` gives it (line ends as "\\n"); errors name `what` and
    the file: missing, not a regular file, larger than `limit` bytes, binary, or not UTF-8."""
    path = Path(path)
    try:
        status = path.stat()
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} not found: {path}") from None
    if not stat.S_ISREG(status.st_mode):
        kind = (
            "a directory"
            if stat.S_ISDIR(status.st_mode)
            else "a FIFO (named pipe)"
            if stat.S_ISFIFO(status.st_mode)
            else "a device"
            if stat.S_ISCHR(status.st_mode) or stat.S_ISBLK(status.st_mode)
            else "a socket"
        )
        raise ValueError(f"{what} {path} is {kind}, not a regular file")
    too_large = (
        f"{what} {path} holds more than {limit:,} bytes, the most this package reads from one file; use a part of it"
    )
    if status.st_size > limit:
        raise ValueError(too_large)
    with open(path, "rb") as f:
        data = f.read(limit + 1)  # a file can grow, or say size 0 (/proc), while holding more
    if len(data) > limit:
        raise ValueError(too_large)
    nul = data.find(b"\0")
    if nul >= 0:
        raise ValueError(
            f"{what} {path} is not text: it holds a NUL byte at byte {nul:,} (a binary file, or text "
            f"in UTF-16?); give a UTF-8 text file"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{what} {path} is not UTF-8 text ({error.reason} at byte {error.start:,})") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_json(text: str, source: str) -> Any:
    """json.loads, with every way the text can fail to be JSON for us given as one ValueError that names `source`:
    a syntax error, nesting too deep for Python's parser (RecursionError) or an integer of thousands of digits."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError
        reason = "nested too deeply" if isinstance(error, RecursionError) else str(error).split(";")[0]
        raise ValueError(f"{source} is not valid JSON: {reason}") from None


def make_parent_folder(path: PathLike) -> None:
    """Create the folder `path` goes in, and the folders above it, as `mkdir -p` would; an error that names `path`
    when one of them is a file."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocking = next(parent for parent in reversed(path.parents) if parent.exists() and not parent.is_dir())
        raise NotADirectoryError(f"cannot write {path}: {blocking} is a file, not a folder") from None
