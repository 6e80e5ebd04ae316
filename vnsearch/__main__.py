"""``python -m vnsearch`` is the ``vnsearch`` command."""

import sys

from vnsearch.cli import main

sys.exit(main())
