"""``python -m mecopt``: the ``mecopt`` command line."""

import sys

from mecopt.cli import main

sys.exit(main())
