from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from glassgate.adapters.storage.audit.checkpoint_file import (
    CheckpointFile,
    load_or_create_signing_key,
    load_public_key,
    load_signing_key,
)
from glassgate.audit.checkpoints import key_id
from glassgate.errors import ChainBrokenError, StorageUnavailableError
from tests.support.audit import checkpoint_at, make_chain

KEY = Ed25519PrivateKey.generate()


def test_appends_one_line_per_checkpoint_and_reads_them_sorted(tmp_path: Path) -> None:
    file = CheckpointFile(tmp_path / "cps.jsonl")
    assert file.checkpoints() == []
    records = make_chain(5)
    late, early = checkpoint_at(records[4], KEY), checkpoint_at(records[1], KEY)
    file.add_checkpoint(late)
    file.add_checkpoint(early)
    assert file.checkpoints() == [early, late]
    assert file.path.read_bytes().count(b"\n") == 2


def test_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    file = CheckpointFile(tmp_path / "cps.jsonl")
    checkpoint = checkpoint_at(make_chain(1)[0], KEY)
    file.add_checkpoint(checkpoint)
    with file.path.open("ab") as raw:
        raw.write(checkpoint.to_json()[:30])  # the crash came mid-write
    assert file.checkpoints() == [checkpoint]


def test_a_garbled_line_is_reported_as_forged(tmp_path: Path) -> None:
    path = tmp_path / "cps.jsonl"
    path.write_bytes(b"not a checkpoint\n")
    with pytest.raises(ChainBrokenError, match=r"cps\.jsonl:1") as caught:
        CheckpointFile(path).checkpoints()
    assert caught.value.kind == "forged-checkpoint"


def test_an_unwritable_file_is_storage_unavailable(tmp_path: Path) -> None:
    file = CheckpointFile(tmp_path / "no-such-dir" / "cps.jsonl")
    with pytest.raises(StorageUnavailableError, match="checkpoint file"):
        file.add_checkpoint(checkpoint_at(make_chain(1)[0], KEY))


def test_key_is_created_once_with_private_permissions(tmp_path: Path) -> None:
    path = tmp_path / "audit.key"
    first = load_or_create_signing_key(path)
    second = load_or_create_signing_key(path)
    assert key_id(first.public_key()) == key_id(second.public_key())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["audit.key"]  # no temporary left behind


def test_public_key_from_private_or_public_pem(tmp_path: Path) -> None:
    private = tmp_path / "audit.key"
    key = load_or_create_signing_key(private)
    public = tmp_path / "audit.pub"
    public.write_bytes(
        key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    assert (
        key_id(load_public_key(private))
        == key_id(load_public_key(public))
        == key_id(key.public_key())
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"garbage", "not an unencrypted PEM private key"),
        (None, "cannot read it"),
    ],
)
def test_unusable_key_files_are_explained(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "audit.key"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(StorageUnavailableError, match=message):
        load_signing_key(path)


def test_a_key_of_the_wrong_type_is_refused(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    path = tmp_path / "audit.key"
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    path.write_bytes(pem)
    with pytest.raises(StorageUnavailableError, match="not Ed25519"):
        load_signing_key(path)
