"""`python -m albert_explained`: the command-line interface (see cli.py)."""

from .cli import main

raise SystemExit(main())
