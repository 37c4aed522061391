"""Fixtures shared by several test files."""

from __future__ import annotations

import errno
import os

import pytest

import albert_explained.files


class _FillsUp:
    """A file whose disk fills up halfway through: it writes half of what it is given, then fails as the operating
    system does (OSError ENOSPC)."""

    def __init__(self, f):
        self._f = f

    def write(self, data) -> int:
        self._f.write(bytes(data)[: len(data) // 2])
        self._f.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._f.close()


@pytest.fixture
def disk_fills_while_writing(monkeypatch):
    """disk_fills_while_writing("config.json"): from now on, writing a file of that name runs out of space."""
    real_create = albert_explained.files._create

    def arrange(name: str) -> None:
        def create(path):
            f = real_create(path)
            return _FillsUp(f) if path.name.startswith(f".{name}.") else f
        monkeypatch.setattr(albert_explained.files, "_create", create)

    return arrange
