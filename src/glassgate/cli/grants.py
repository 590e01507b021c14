"""``glassgate grants list | show | approve | deny | revoke``: operating just-in-time grants.

- ``list`` shows grants (``--state pending|active|...`` to filter); ``show ID``
  one grant with its approvers.
- ``approve ID --group G`` / ``deny ID --group G``: the operator decides as
  ``cli:<login name>``, a member of the groups named with ``--group``. Whoever
  runs the CLI holds the configuration and the database, so this is trusted
  the way those are; the approval engine's rules still hold (never the
  requester, one person counts once), and a grant type whose approval needs a
  strength level or a fresh ``auth_time`` cannot be approved here (no IdP
  sign-in to show): approve it through the API.
- ``revoke ID`` ends an active grant now (or withdraws a pending one); the
  gateway that serves it drops the group within ``grants.refresh_interval``.

Every change is a privileged audit record (``grant.*``) written before it
takes effect. ``--json`` prints JSON. Exit codes: 0 done, 2 bad input,
refusal, or storage/audit unavailable.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from glassgate.cli._storage import command_actor, run_admin
from glassgate.errors import ConfigError, Problem

if TYPE_CHECKING:
    from glassgate.app.compose import AdminServices
    from glassgate.config.schema import Config
    from glassgate.workflows.approvals import Approver
    from glassgate.workflows.grant_service import GrantService
    from glassgate.workflows.grants import Grant

__all__ = ["register"]

_T = TypeVar("_T")
_STATES = ("pending", "active", "ended", "revoked", "denied", "expired", "cancelled")


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "grants",
        help="list, show, approve, deny and revoke just-in-time grants",
        description=__doc__,
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    listing = verbs.add_parser("list", help="list grants")
    listing.add_argument("--state", choices=_STATES, help="only grants in this state now")
    _common(listing, run_list)
    show = verbs.add_parser("show", help="one grant")
    show.add_argument("grant_id", metavar="ID")
    _common(show, run_show)
    for verb, helptext in (("approve", "approve a pending grant"), ("deny", "deny it")):
        decide = verbs.add_parser(verb, help=helptext)
        decide.add_argument("grant_id", metavar="ID")
        decide.add_argument(
            "--group",
            action="append",
            required=True,
            metavar="G",
            help="an approver group you act for (repeatable)",
        )
        _common(decide, run_approve if verb == "approve" else run_deny)
    revoke = verbs.add_parser("revoke", help="end a grant now")
    revoke.add_argument("grant_id", metavar="ID")
    _common(revoke, run_revoke)


def _common(parser: argparse.ArgumentParser, handler: Callable[[argparse.Namespace], int]) -> None:
    parser.add_argument("--config", required=True, metavar="FILE", help="the gateway config")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=handler)


def _run(args: argparse.Namespace, action: Callable[[GrantService], Awaitable[_T]]) -> _T:
    from glassgate.config.load import load_config

    config: Config = load_config(args.config).config

    async def run(services: AdminServices) -> _T:
        if services.grants is None:
            raise ConfigError([Problem("grants.types", "no grant types are configured")])
        return await action(services.grants)

    return run_admin(config, run)


def _now() -> float:
    from glassgate.adapters.clock import now

    return now()


def run_list(args: argparse.Namespace) -> int:
    from glassgate.workflows.grants import GrantState

    state = None if args.state is None else GrantState(args.state)
    found = _run(args, lambda service: service.grants(state))
    now = _now()
    if args.json:
        print(json.dumps([_document(grant, now) for grant in found]))
    elif not found:
        print("no grants")
    else:
        for grant in found:
            print(_line(grant, now))
    return 0


def run_show(args: argparse.Namespace) -> int:
    grant = _run(args, lambda service: service.get(args.grant_id))
    _print(grant, args.json)
    return 0


def _operator(groups: list[str]) -> Approver:
    from glassgate.workflows.approvals import Approver

    return Approver(command_actor(), frozenset(groups))


def run_approve(args: argparse.Namespace) -> int:
    approver = _operator(args.group)
    _print(_run(args, lambda service: service.approve(args.grant_id, approver)), args.json)
    return 0


def run_deny(args: argparse.Namespace) -> int:
    approver = _operator(args.group)
    _print(_run(args, lambda service: service.deny(args.grant_id, approver)), args.json)
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    actor = _operator([])
    grant = _run(args, lambda s: s.revoke(args.grant_id, actor, operator=True))
    _print(grant, args.json)
    return 0


def _document(grant: Grant, now: float) -> dict[str, Any]:
    from glassgate.workflows.grants import as_document

    return dict(as_document(grant, now))


def _time(epoch: float | None) -> str:
    from glassgate.audit.records import format_ts

    return "-" if epoch is None else format_ts(epoch)[:19] + "Z"


def _line(grant: Grant, now: float) -> str:
    state = grant.state(now).value
    return (
        f"{grant.id}  {state:<9}  {grant.group}  {grant.subject}  ({grant.type_id}; "
        f"ends {_time(grant.ends_at)}; approvers: {', '.join(grant.approval.approvers()) or '-'})"
    )


def _print(grant: Grant, as_json: bool) -> None:
    now = _now()
    if as_json:
        print(json.dumps(_document(grant, now)))
        return
    print(_line(grant, now))
    print(f"  reason: {grant.reason}")
    print(f"  issuer: {grant.issuer}")
    print(f"  requested until {_time(grant.approval.expires_at)}; duration {grant.duration:g}s")
