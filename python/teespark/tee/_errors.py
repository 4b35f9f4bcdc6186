"""Turn GP result codes into teespark exceptions."""

from __future__ import annotations

from teespark.errors import (
    EnclaveBadParametersError,
    EnclaveCancelledError,
    EnclaveCrashedError,
    EnclaveError,
    EnclaveOutOfMemoryError,
    EnclaveShortBufferError,
    EnclaveUnavailableError,
)
from teespark.tee import constants as c

_HINTS: dict[int, str] = {
    c.TEEC_ERROR_TARGET_DEAD:
        "the TA instance died and its state (keys) is lost; the session opens "
        "a fresh instance on the next call",
    c.TEEC_ERROR_OUT_OF_MEMORY:
        "the TA heap (TA_DATA_SIZE) is too small for this call; pass fewer or "
        "smaller blocks",
    c.TEEC_ERROR_CANCEL: "the call was cancelled",
    c.TEEC_ERROR_EXTERNAL_CANCEL: "the call was cancelled",
}


def error_from_result(code: int, origin: int, message: str, *,
                      command: str | None = None,
                      needed: int | None = None) -> EnclaveError:
    """Build the exception for a failed TA call.

    Args:
        code: GP / TA result code.
        origin: GP return origin (``TEEC_ORIGIN_*``).
        message: the C layer's one-line description (no buffer contents).
        command: command name for the error's ``command`` attribute.
        needed: for ``TEEC_ERROR_SHORT_BUFFER``, the size the TA asked for.

    Returns:
        An :class:`~teespark.errors.EnclaveError` subclass instance.
    """
    hint = _HINTS.get(code)
    # Unnamed commands are already named "cmd <n>" by the C message.
    text = f"{command}: {message}" if command and not command.startswith("cmd ") else message
    if hint:
        text = f"{text}: {hint}"
    kwargs = {"code": code, "origin": origin, "command": command}
    if code == c.TEEC_ERROR_TARGET_DEAD:
        return EnclaveCrashedError(text, **kwargs)
    if code == c.TEEC_ERROR_OUT_OF_MEMORY:
        return EnclaveOutOfMemoryError(text, **kwargs)
    if code == c.TEEC_ERROR_BAD_PARAMETERS:
        return EnclaveBadParametersError(text, **kwargs)
    if code == c.TEEC_ERROR_SHORT_BUFFER:
        return EnclaveShortBufferError(text, needed=needed or 0, **kwargs)
    if code in (c.TEEC_ERROR_CANCEL, c.TEEC_ERROR_EXTERNAL_CANCEL):
        return EnclaveCancelledError(text, **kwargs)
    # ITEM_NOT_FOUND from the TEE or API means "no such TA"; from the TA
    # itself it is the TA's own answer (e.g. a missing storage object).
    if (origin == c.TEEC_ORIGIN_COMMS or code == c.TEEC_ERROR_COMMUNICATION
            or (code == c.TEEC_ERROR_ITEM_NOT_FOUND
                and origin != c.TEEC_ORIGIN_TRUSTED_APP)):
        return EnclaveUnavailableError(text, **kwargs)
    return EnclaveError(text, **kwargs)
