import sys

from eipsim.cli import main

sys.exit(main())
