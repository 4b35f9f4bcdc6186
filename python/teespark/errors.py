"""Exceptions raised by teespark.

Every exception derives from :class:`TeesparkError`. Messages name the table,
block, column or command involved and say what to do next; they never contain
key material or plaintext.
"""

from __future__ import annotations


class TeesparkError(Exception):
    """Root of all teespark errors."""


# --- TEE / enclave --------------------------------------------------------


class EnclaveError(TeesparkError):
    """A call into the trusted application failed.

    Attributes:
        code: the GlobalPlatform / TA result code (e.g. ``0xFFFF000C``).
        origin: the GP return origin (1 API, 2 COMMS, 3 TEE, 4 TRUSTED_APP).
        command: the TA command name, when the failure came from an invoke.
    """

    def __init__(self, message: str, *, code: int = 0, origin: int = 0,
                 command: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.origin = origin
        self.command = command


class EnclaveUnavailableError(EnclaveError):
    """The TEE (or the simulator) could not be reached or the TA not loaded."""


class EnclaveCrashedError(EnclaveError):
    """The TA instance died (TEE_ERROR_TARGET_DEAD); its state is lost.

    The session reopens a fresh TA instance on the next call; state that the
    TA held (installed keys) must be provided again.
    """


class EnclaveOutOfMemoryError(EnclaveError):
    """The TA ran out of heap (TA_DATA_SIZE) or the TEE out of memory."""


class EnclaveBadParametersError(EnclaveError):
    """The TA rejected the parameters of a command (TEE_ERROR_BAD_PARAMETERS)."""


class EnclaveShortBufferError(EnclaveError):
    """An output buffer was too small; ``needed`` holds the size required."""

    def __init__(self, message: str, *, needed: int, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.needed = needed


class EnclaveCancelledError(EnclaveError):
    """The command was cancelled (TEE_ERROR_CANCEL)."""


class KeySlotEmptyError(EnclaveError):
    """A command named a TA key slot that holds no key (TS_ERROR_KEY_SLOT_EMPTY)."""


# --- sealed data ----------------------------------------------------------


class BlockError(TeesparkError):
    """Base of the sealed-block errors.

    Attributes:
        block_index: the failing block's position, when known.
        code: the TA result code when the TA detected it (0 on the client).
        command: the TA command name when the TA detected it.
    """

    def __init__(self, message: str, *, block_index: int | None = None, code: int = 0,
                 command: str | None = None) -> None:
        super().__init__(message)
        self.block_index = block_index
        self.code = code
        self.command = command


class BlockFormatError(BlockError):
    """A sealed block is malformed (bad magic, version or sizes)."""


class BlockAuthenticationError(BlockError):
    """A sealed block failed AES-GCM authentication (modified or wrong key)."""


class BlockSequenceError(BlockError):
    """Blocks are missing, duplicated, reordered or from another table/version."""
