"""``python -m teespark.kbs ...`` = ``teespark kbs ...``."""

import sys

from teespark.kbs.server import main

sys.exit(main())
