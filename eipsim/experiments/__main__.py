"""``python -m eipsim.experiments sweep ...``: the experiment commands without the main CLI."""

from eipsim.experiments.cli import main

raise SystemExit(main())
