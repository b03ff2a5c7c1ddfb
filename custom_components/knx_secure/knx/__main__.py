"""``python -m custom_components.knx_secure.knx``: the command line tools (see cli.py)."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
