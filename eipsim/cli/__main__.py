import sys

from eipsim.cli.commands import main

sys.exit(main())
