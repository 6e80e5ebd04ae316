"""The ``vnsearch`` command line: a thin layer over the library.

``main`` is the console entry point (``vnsearch = "vnsearch.cli:main"``); ``seeds_dir``
finds the bundled demo documents.
"""

from vnsearch.cli.app import main
from vnsearch.cli.default_index import seeds_dir
from vnsearch.cli.errors import UserError

__all__ = ["UserError", "main", "seeds_dir"]
