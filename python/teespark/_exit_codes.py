"""Exit codes of the ``teespark`` command line (one place, as pip's status_codes.py).

Scripts may rely on these; do not renumber them.
"""

SUCCESS = 0
ERROR = 1                # an expected failure not covered below (e.g. output exists)
USAGE_ERROR = 2          # bad command line (argparse's convention)
KEY_ERROR = 3            # master key / keyring / data key missing, unsafe or wrong
INPUT_ERROR = 4          # unreadable input, schema violation (value too long, bad type)
INTEGRITY_ERROR = 5      # a table or keyring failed authentication (tampered or truncated)
UNAVAILABLE = 6          # an optional component is not installed (e.g. the key broker)
UNEXPECTED_ERROR = 70    # a bug in teespark (EX_SOFTWARE); rerun with --debug
INTERRUPTED = 130        # Ctrl-C (128 + SIGINT)

__all__ = ["SUCCESS", "ERROR", "USAGE_ERROR", "KEY_ERROR", "INPUT_ERROR",
           "INTEGRITY_ERROR", "UNAVAILABLE", "UNEXPECTED_ERROR", "INTERRUPTED"]
