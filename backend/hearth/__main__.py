"""`python -m hearth`: argv -> the CLI; nothing else."""

from hearth.cli import main

raise SystemExit(main())
