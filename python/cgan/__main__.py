"""``python -m cgan``: the command line (see cgan.cli)."""
import sys

from .cli import main

sys.exit(main())
