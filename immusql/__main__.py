"""`python -m immusql`: the same as the `immusql` command."""

import sys

from .cli import main

sys.exit(main())
