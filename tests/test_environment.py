"""environment.yml gives conda users what pyproject.toml gives pip users: every package of the test, hub, notebooks and
lint extras, so that the README's test command (pytest, which runs the notebooks through --nbmake) passes for both."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def package_name(requirement: str) -> str:
    """"nbmake>=1.5" -> "nbmake"; conda and pip spell names with - and _ alike, in any case."""
    return re.split(r"[<>=!~ \[#]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_installs_every_package_of_the_dev_extras():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    wanted = {package_name(r) for extra in ("test", "hub", "notebooks", "lint") for r in extras[extra]}
    listed = {package_name(line.strip()[2:]) for line in (ROOT / "environment.yml").read_text().splitlines()
              if line.strip().startswith("- ") and not line.strip().endswith(":")}
    assert wanted - listed == set(), f"environment.yml lacks {sorted(wanted - listed)}"
