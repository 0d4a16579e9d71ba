"""Update the catalogues from the source: ``python -m cer_backend.locale [--check]``."""

from __future__ import annotations

import sys

from .catalogues import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
