"""``glassgate audit rotate-key --config FILE [--previous-key-lost]``: change checkpoint keys.

A gateway never starts signing a log with a key other than the one that
signed its newest checkpoint (``CheckpointKeyError``); this command is the
deliberate way to change it, recorded in the log itself:

1. the new key is written beside the old one (``<key_file>.<id>.new``, 0600)
   before it signs anything, so it can never be lost half way;
2. with the old key: a privileged ``audit.key-rotated`` record naming both
   keys, covered by a last checkpoint the old key signs (the old key hands
   over);
3. with the new key: a privileged ``audit.key-activated`` record, covered by
   the first checkpoint the new key signs;
4. the old key is retired beside the new one (``<key_file>.<id>.retired``),
   its public half kept as ``<key_file>.<id>.pub``, which ``audit verify``
   trusts; the new key takes ``key_file``'s place.

When the old key is lost, ``--previous-key-lost`` says so: step 2 is skipped
and the record notes it; the old checkpoints then verify only with the old
public key, if one was kept elsewhere (``verify --public-key``).
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glassgate.cli._storage import command_actor
from glassgate.errors import ConfigError, Problem

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from glassgate.config.schema import Config

__all__ = ["register_rotate_key", "run_rotate_key"]


def register_rotate_key(verbs: Any) -> None:
    rotate: argparse.ArgumentParser = verbs.add_parser(
        "rotate-key",
        help="change the checkpoint signing key on purpose, recorded in the log",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rotate.add_argument("--config", required=True, metavar="FILE", help="the gateway's config")
    rotate.add_argument(
        "--previous-key-lost",
        action="store_true",
        help="there is no old key to hand over (it is lost): start a new one anyway",
    )
    rotate.set_defaults(handler=run_rotate_key)


def run_rotate_key(args: argparse.Namespace) -> int:
    from glassgate.adapters.storage.audit.checkpoint_file import (
        install_signing_key,
        load_signing_key,
        stage_new_signing_key,
    )
    from glassgate.audit.checkpoints import key_id
    from glassgate.config.load import load_config

    config = load_config(args.config).config
    key_file = Path(config.audit.checkpoint.key_file)
    old = load_signing_key(key_file) if key_file.exists() else None
    if old is None and not args.previous_key_lost:
        raise ConfigError(
            [
                Problem(
                    "--previous-key-lost",
                    f"there is no checkpoint key at {key_file} to hand over",
                    "restore it, or if it is lost for good say so with --previous-key-lost",
                )
            ]
        )
    new, staged = stage_new_signing_key(key_file)
    asyncio.run(_hand_over(config, old, new))
    retired = install_signing_key(key_file, staged)
    print(
        f"rotated the audit checkpoint key: {key_id(new.public_key())} now signs, at {key_file}"
        + (f"; the previous key's public half is {retired}" if retired else "")
    )
    return 0


async def _hand_over(config: Config, old: Ed25519PrivateKey | None, new: Ed25519PrivateKey) -> None:
    from glassgate.app.compose import open_audit_log
    from glassgate.audit.checkpoints import key_id
    from glassgate.audit.records import AuditEvent

    actor, new_id = command_actor(), key_id(new.public_key())
    old_id = key_id(old.public_key()) if old is not None else None
    steps: list[tuple[Ed25519PrivateKey, str]] = []
    if old is not None:
        steps.append((old, "audit.key-rotated"))
    steps.append((new, "audit.key-activated"))
    for key, kind in steps:
        log = open_audit_log(config.storage, config.audit, signing_key=key)
        await log.start()
        try:
            details = {
                "previous_key_id": old_id,
                "key_id": new_id,
                "previous_key_lost": old is None,
            }
            await log.append(
                AuditEvent(type=kind, outcome="ok", at=_now(), actor=actor, details=details)
            )
        finally:
            await log.close()  # its last checkpoint, signed by ``key``, covers the record


def _now() -> float:
    from glassgate.adapters.clock import now

    return now()
