"""teespark: confidential, oblivious analytics for Spark on GlobalPlatform TEEs.

Owner-side entry points (they run on the data owner's machine):

- :func:`encrypt_table` turns a pandas, pyarrow or Spark DataFrame into an
  encrypted table under a fresh data key from the owner's keyring;
- :func:`read_encrypted` authenticates and decrypts one back into pandas;
- :func:`verify_encrypted` checks every block of a table;
- :class:`MasterKey` and :class:`Keyring` manage the owner's keys
  (docs/KEYS.md).

The same operations are on the command line: ``teespark --help``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from teespark.errors import TeesparkError

if TYPE_CHECKING:  # pragma: no cover
    from teespark.api import encrypt_table, read_encrypted, verify_encrypted
    from teespark.crypto.keyring import Keyring
    from teespark.crypto.master_key import MasterKey

__version__ = "0.1.0"

__all__ = ["Keyring", "MasterKey", "TeesparkError", "__version__", "encrypt_table",
           "read_encrypted", "verify_encrypted"]

# Imported on first use (PEP 562), so that `import teespark` stays cheap for
# code that never touches pyarrow (the TEE binding, Spark workers).
_LAZY = {
    "encrypt_table": "teespark.api",
    "read_encrypted": "teespark.api",
    "verify_encrypted": "teespark.api",
    "Keyring": "teespark.crypto.keyring",
    "MasterKey": "teespark.crypto.master_key",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'teespark' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
