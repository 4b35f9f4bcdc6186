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


# --- owner-side keys: master key and keyring (teespark.crypto.keyring) ------
# Messages name the file and the key *ids* involved. Key ids are public check
# values; key material never appears in a message.


class MasterKeyError(TeesparkError):
    """Base of the master-key errors (missing, unsafe, malformed, exists)."""


class MasterKeyNotFoundError(MasterKeyError):
    """No master key: the file does not exist and TEESPARK_MASTER_KEY is unset."""


class MasterKeyPermissionError(MasterKeyError):
    """The master key file can be read by its group or by others (mode not 0600)."""


class MasterKeyFormatError(MasterKeyError):
    """The master key file or TEESPARK_MASTER_KEY does not hold a 32-byte key."""


class MasterKeyExistsError(MasterKeyError):
    """Refusing to overwrite an existing master key file."""


class KeyringError(TeesparkError):
    """Base of the keyring errors."""


class KeyringNotFoundError(KeyringError):
    """The keyring file does not exist."""


class KeyringExistsError(KeyringError):
    """Refusing to overwrite an existing keyring file."""


class KeyringFormatError(KeyringError):
    """The keyring file is not valid keyring JSON or has an unsupported version."""


class WrongMasterKeyError(KeyringError):
    """The master key given does not open this keyring (its master key id differs)."""


class DataKeyNotFoundError(KeyringError):
    """The keyring holds no data key with the requested key id."""


class DataKeyUnwrapError(KeyringError):
    """A wrapped data key failed AES-GCM authentication: the keyring was modified."""


# --- attestation and key release (teespark.attest, teespark.kbs) --------


class AttestationError(TeesparkError):
    """Base of the attestation evidence errors.

    Attributes:
        reason: a stable kebab-case reference (``evidence-size``,
            ``signature-invalid``, ``measurement-not-allowed``, ...).
    """

    def __init__(self, message: str, *, reason: str = "attestation-error") -> None:
        super().__init__(message)
        self.reason = reason


class EvidenceFormatError(AttestationError):
    """Attestation evidence is malformed (size, magic, version, reserved fields)."""


class EvidenceVerificationError(AttestationError):
    """Well-formed evidence failed a check: signature, nonce, measurement, KBS key."""


class KbsError(TeesparkError):
    """Base of the key broker (KBS) errors."""


class KbsUnavailableError(KbsError):
    """The KBS could not be reached or answered something that is not its protocol."""


class KeyReleaseRefusedError(KbsError):
    """The KBS refused to release keys.

    Attributes:
        status: the HTTP status the KBS answered (403, 404, 409, ...).
        reference: the KBS's kebab-case error reference (``nonce-reused``, ...).
    """

    def __init__(self, message: str, *, status: int, reference: str) -> None:
        super().__init__(message)
        self.status = status
        self.reference = reference


class KbsReplyError(KbsError):
    """A KBS reply is malformed, or does not verify against the pinned KBS key."""


class KbsReplyRejectedError(KbsError):
    """The TA refused a KBS reply (bad signature, stale, malformed, unknown recipient).

    Attributes:
        code: the TA's ``TS_ERROR_*`` result code.
    """

    def __init__(self, message: str, *, code: int = 0) -> None:
        super().__init__(message)
        self.code = code


class KbsPolicyError(KbsError):
    """The KBS policy file is invalid, or was edited outside ``teespark kbs``."""


class KbsStorageError(KbsError):
    """The KBS key store cannot be opened (storage key missing, wrong or exposed)."""


class KbsKeyMismatchError(KbsError):
    """The KBS at the given URL signs with another key than the one configured."""


# --- encrypted table format (teespark.format) -----------------------------
# Messages name the table, block, column and row (0-based) involved; they
# never quote a value from the data.


class InvalidSchemaError(TeesparkError):
    """A schema definition is invalid (unknown type, duplicate column, bad spec)."""


class SchemaMismatchError(TeesparkError):
    """Input data does not fit the table's schema (missing column, wrong type, NULL in
    a non-nullable column).

    Attributes:
        column: the column's name, when one column is at fault.
        row: the 0-based input row, when one row is at fault.
    """

    def __init__(self, message: str, *, column: str | None = None,
                 row: int | None = None) -> None:
        super().__init__(message)
        self.column = column
        self.row = row


class ValueTooLongError(SchemaMismatchError):
    """A string value has more UTF-8 bytes than its column's declared ``string(n)``."""


class ValueOutOfRangeError(SchemaMismatchError):
    """A value does not fit its column's type (decimal precision, int32 range,
    sub-microsecond timestamp, non-integral float in an integer column)."""


class TableFormatError(TeesparkError):
    """An encrypted table directory or its manifest is malformed or incomplete."""


class TableNotFoundError(TableFormatError):
    """No encrypted table (no ``_manifest.json``) at the given path."""


class TableExistsError(TeesparkError):
    """Refusing to write over an existing path (pass ``overwrite=True``)."""


class ManifestAuthenticationError(TeesparkError):
    """A table manifest failed its MAC check: it was edited, or the data key is wrong."""


# --- the TA's refusals for registered tables and key release (teespark.tee) -
# Raised by teespark.tee.TeesparkTA for the TA's own TS_ERROR_* codes; each
# carries code, origin and command like every EnclaveError, and derives from
# the client-side class for the same condition where one exists.


class DescriptorAuthenticationError(ManifestAuthenticationError, EnclaveError):
    """The TA refused a table descriptor (TS_ERROR_MANIFEST_AUTH).

    Its MAC does not verify under the data key in the given key slot: the
    manifest was edited, or the slot holds another table's key (a key the KBS
    released opens only the table it names).
    """


class TableNotRegisteredError(EnclaveError):
    """Blocks of a table the TA session does not know (TS_ERROR_TABLE_UNKNOWN).

    Register the table with the key slot that opens it first
    (``TeesparkTA.register_table``); a slot whose key changed no longer opens
    the tables registered with it.
    """


class KbsKeyNotPinnedError(EnclaveError):
    """GET_EVIDENCE or IMPORT_KEYS before PIN_KBS_KEY (TS_ERROR_KBS_NOT_PINNED)."""


class KbsReplyImportError(KbsReplyRejectedError):
    """IMPORT_KEYS refused a KBS reply; the TA changed no key slot.

    Attributes:
        code: the TA's ``TS_ERROR_REPLY_*`` code.
        origin: the GP return origin (4, TRUSTED_APP).
        command: ``"IMPORT_KEYS"``.
    """

    def __init__(self, message: str, *, code: int = 0, origin: int = 0,
                 command: str | None = None) -> None:
        super().__init__(message, code=code)
        self.origin = origin
        self.command = command


class KbsReplySignatureError(KbsReplyImportError):
    """The reply is not signed by the pinned KBS key (TS_ERROR_REPLY_SIGNATURE).

    It was changed on the way (its keys or its recipient list) or comes from
    another key broker.
    """


class KbsReplyStaleError(KbsReplyImportError):
    """The reply does not answer the session's pending evidence (TS_ERROR_REPLY_STALE).

    It was imported already, answers older evidence (a later GET_EVIDENCE
    replaced it) or another session's evidence.
    """


class KbsReplyFormatError(KbsReplyImportError):
    """The reply is malformed, or a key in it does not unwrap (TS_ERROR_REPLY_FORMAT)."""


class RecipientUnknownError(EnclaveError):
    """EXPORT_RESULT to a recipient the imported KBS reply did not name.

    (TS_ERROR_RECIPIENT_UNKNOWN.) Results are sealed only to recipients the
    KBS names, so that a host cannot substitute a key of its own.
    """


# --- results (teespark.results) -------------------------------------------


class ResultEnvelopeError(TeesparkError):
    """A result envelope is malformed or not wrapped to the given recipient key."""
