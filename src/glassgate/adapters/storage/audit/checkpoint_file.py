"""What protects the audit log from outside the database: the checkpoint file and the key.

``CheckpointFile`` is an append-only JSON-lines file (mode 0600), one signed checkpoint
per line, each appended with a single ``O_APPEND`` write and ``fsync``. A last
line without its newline is a write torn by a crash and is ignored; any other
unreadable line is reported as a forged checkpoint.

The Ed25519 signing key is a PKCS#8 PEM file (mode 0600). It must live apart
from the database (another volume, a secret mount): whoever can rewrite the
database must not also be able to sign. The embedded default creates it on
first start, atomically, so two processes starting together share one key.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from glassgate.adapters.private_files import OWNER_ONLY
from glassgate.audit.checkpoints import Checkpoint, check_signing_key, key_id
from glassgate.errors import ChainBrokenError, StorageUnavailableError

_log = logging.getLogger("glassgate.audit")

__all__ = [
    "CheckpointFile",
    "install_signing_key",
    "load_or_create_signing_key",
    "load_public_key",
    "load_signing_key",
    "retired_public_keys",
    "signing_key_for",
    "stage_new_signing_key",
]


class CheckpointFile:
    """A ``CheckpointLog`` on an append-only local file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        line = checkpoint.to_json() + b"\n"
        try:
            _write_durably(self.path, line, os.O_APPEND | os.O_CREAT)
        except OSError as exc:
            raise StorageUnavailableError(
                f"cannot append to the checkpoint file {self.path}: {exc.strerror}; "
                "check the path and free space"
            ) from exc

    def checkpoints(self) -> list[Checkpoint]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StorageUnavailableError(
                f"cannot read the checkpoint file {self.path}: {exc.strerror}"
            ) from exc
        lines = data.split(b"\n")
        if lines and lines[-1]:
            lines = lines[:-1]  # torn by a crash mid-write: never completed, never trusted
        found: list[Checkpoint] = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                found.append(Checkpoint.from_json(line))
            except ValueError as exc:
                raise ChainBrokenError(
                    0, "forged-checkpoint", f"{self.path}:{number} is not a checkpoint ({exc})"
                ) from None
        return sorted(found, key=lambda item: item.seq)

    def __repr__(self) -> str:
        return f"CheckpointFile({str(self.path)!r})"


def _key_error(path: Path, problem: str) -> StorageUnavailableError:
    return StorageUnavailableError(
        f"audit checkpoint key {path}: {problem}; it must be an Ed25519 private key "
        "in PKCS#8 PEM (create one by starting glassgate with a missing key_file)"
    )


def load_signing_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """Read the Ed25519 private key; ``StorageUnavailableError`` with a hint if unusable."""
    where = Path(path)
    try:
        key = load_pem_private_key(where.read_bytes(), password=None)
    except OSError as exc:
        raise _key_error(where, f"cannot read it ({exc.strerror})") from exc
    except (ValueError, TypeError) as exc:
        raise _key_error(where, "not an unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise _key_error(where, f"is a {type(key).__name__}, not Ed25519")
    return key


def _write_durably(path: Path, data: bytes, flags: int) -> None:
    """Write ``data`` to an owner-only file opened with ``flags``; on disk before this returns."""
    fd = os.open(path, os.O_WRONLY | flags, OWNER_ONLY)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_new(path: Path, data: bytes) -> None:
    """A new owner-only file, never replacing one."""
    _write_durably(path, data, os.O_CREAT | os.O_EXCL)


def _pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def load_or_create_signing_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """Load the key, creating it (0600, atomically) when the file does not exist yet."""
    where = Path(path)
    if where.exists():
        return load_signing_key(where)
    temporary = where.with_name(f".{where.name}.{os.getpid()}.tmp")
    try:
        _write_new(temporary, _pem(Ed25519PrivateKey.generate()))
        with contextlib.suppress(FileExistsError):  # another process won the race: use theirs
            os.link(temporary, where)
    except OSError as exc:
        raise _key_error(where, f"cannot create it ({exc.strerror})") from exc
    finally:
        temporary.unlink(missing_ok=True)
    return load_signing_key(where)


def stage_new_signing_key(path: str | os.PathLike[str]) -> tuple[Ed25519PrivateKey, Path]:
    """A new key, already on disk beside ``path`` (``<path>.<key id>.new``) before it is used.

    ``audit rotate-key`` signs with it before it takes ``path``'s place, so a
    failure half way leaves it where the message says, never lost.
    """
    where = Path(path)
    key = Ed25519PrivateKey.generate()
    staged = where.with_name(f"{where.name}.{key_id(key.public_key())}.new")
    try:
        _write_new(staged, _pem(key))
    except OSError as exc:
        raise _key_error(staged, f"cannot create it ({exc.strerror})") from exc
    return key, staged


def install_signing_key(path: str | os.PathLike[str], staged: Path) -> Path | None:
    """Put ``staged`` in ``path``'s place; the old key is retired beside it, its public half
    kept as ``<path>.<key id>.pub`` (which ``verify`` trusts). Returns that file, if any."""
    where = Path(path)
    retired_public: Path | None = None
    try:
        if where.exists():
            old = load_signing_key(where)
            old_id = key_id(old.public_key())
            retired_public = where.with_name(f"{where.name}.{old_id}.pub")
            public = old.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
            if not retired_public.exists():
                _write_new(retired_public, public)
            os.replace(where, where.with_name(f"{where.name}.{old_id}.retired"))
        os.replace(staged, where)
    except OSError as exc:
        raise _key_error(
            where, f"cannot install the new key from {staged} ({exc.strerror})"
        ) from exc
    return retired_public


def retired_public_keys(path: str | os.PathLike[str]) -> list[Path]:
    """The public halves of the keys ``path`` held before (``install_signing_key``)."""
    where = Path(path)
    return sorted(where.parent.glob(f"{glob.escape(where.name)}.*.pub"))


def load_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    """A trusted verification key from a public PEM or from the private key file."""
    where = Path(path)
    try:
        data = where.read_bytes()
    except OSError as exc:
        raise _key_error(where, f"cannot read it ({exc.strerror})") from exc
    if b"PRIVATE KEY" in data:
        return load_signing_key(where).public_key()
    try:
        key = load_pem_public_key(data)
    except ValueError as exc:
        raise _key_error(where, "not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise _key_error(where, f"is a {type(key).__name__}, not Ed25519")
    return key


def signing_key_for(path: str | os.PathLike[str], kept: Sequence[Checkpoint]) -> Ed25519PrivateKey:
    """The key that goes on signing this log: the one at ``path``, if it is the log's own.

    ``kept`` are the checkpoints the log already has (database and file). A
    missing key is created only for a log no key has signed yet; a missing or
    different key for a signed log is ``CheckpointKeyError``
    (``audit rotate-key`` changes keys on purpose).
    """
    where = Path(path)
    current = load_signing_key(where) if where.exists() else None
    check_signing_key(
        key_id(current.public_key()) if current is not None else None, kept, str(where)
    )
    if current is not None:
        return current
    _log.warning(
        "creating a new audit checkpoint key at %s; keep it apart from the database", where
    )
    return load_or_create_signing_key(where)
