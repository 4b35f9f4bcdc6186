"""``python -m teespark ...`` runs the command line (teespark.cli)."""

import sys

from teespark.cli import main

if __name__ == "__main__":
    sys.exit(main())
