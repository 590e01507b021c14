"""``glassgate breakglass ...`` and ``glassgate custodian create``: operating break-glass.

- ``breakglass create NAME`` makes the account named in ``breakglass.accounts``
  and prints its one-time enrolment link (one hour, once) on stdout.
- ``custodian create NAME`` does the same for a custodian.
- ``breakglass reset NAME --reason ...`` opens a reset that the custodian
  quorum approves in the console; the approval that completes it receives
  the one-time reset link (new password and key).
- ``breakglass incidents`` lists incidents (open ones, or ``--all``);
  ``close-incident ID --notes ...`` closes one.
- ``breakglass report REQUEST_ID`` prints the post-use report (``--json``).
- ``breakglass status`` shows open requests, live sessions and open
  incidents, and exits 1 while an incident is open.

Every change is a privileged audit record written before it takes effect.
Exit codes: 0 done, 1 an incident is open (status), 2 bad input or failure.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from glassgate.cli._breakglass import (
    BreakglassSetup,
    add_config_argument,
    link_url,
    load,
    run_service,
    when,
)
from glassgate.cli._storage import command_actor

if TYPE_CHECKING:
    from glassgate.workflows.identities import IdentityKind
    from glassgate.workflows.report import SessionReport
    from glassgate.workflows.service import BreakglassService
    from glassgate.workflows.views import IncidentView

__all__ = ["register"]

EXIT_OPEN = 1


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "breakglass", help="break-glass accounts, resets, incidents, reports", description=__doc__
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    create = verbs.add_parser("create", help="create an account; print its enrolment link")
    create.add_argument("name", metavar="NAME")
    add_config_argument(create)
    create.set_defaults(handler=run_create_account)
    reset = verbs.add_parser("reset", help="open a reset that needs the custodian quorum")
    reset.add_argument("name", metavar="NAME")
    reset.add_argument("--reason", required=True, help="why (one line)")
    add_config_argument(reset)
    reset.set_defaults(handler=run_reset)
    incidents = verbs.add_parser("incidents", help="list open incidents (--all: every one)")
    incidents.add_argument("--all", action="store_true", help="closed ones too")
    incidents.add_argument("--json", action="store_true")
    add_config_argument(incidents)
    incidents.set_defaults(handler=run_incidents)
    close = verbs.add_parser("close-incident", help="close an incident with notes")
    close.add_argument("incident_id", metavar="ID")
    close.add_argument("--notes", required=True, help="what was done, for the record")
    add_config_argument(close)
    close.set_defaults(handler=run_close_incident)
    report = verbs.add_parser("report", help="the post-use report of a request")
    report.add_argument("request_id", metavar="REQUEST_ID")
    report.add_argument("--json", action="store_true")
    add_config_argument(report)
    report.set_defaults(handler=run_report)
    status = verbs.add_parser("status", help="open requests, live sessions, open incidents")
    status.add_argument("--json", action="store_true")
    add_config_argument(status)
    status.set_defaults(handler=run_status)
    _register_custodian(subparsers)


def _register_custodian(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "custodian", help="custodians who approve break-glass activations"
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    create = verbs.add_parser("create", help="create a custodian; print the enrolment link")
    create.add_argument("name", metavar="NAME")
    add_config_argument(create)
    create.set_defaults(handler=run_create_custodian)


def _create(args: argparse.Namespace, kind: IdentityKind) -> int:
    setup = load(args.config)
    issued = run_service(
        setup, lambda service: service.enrolment.create(kind, args.name, command_actor())
    )
    print(link_url(setup, "enrol", issued.token.reveal()))
    print(
        f"created {issued.identity} (pending enrolment). The link above works once, until "
        f"{when(issued.expires_at)}: hand it to the holder, who sets a password and enrols "
        "a security key or passkey in the console.",
        file=sys.stderr,
    )
    return 0


def run_create_account(args: argparse.Namespace) -> int:
    from glassgate.workflows.identities import IdentityKind

    return _create(args, IdentityKind.ACCOUNT)


def run_create_custodian(args: argparse.Namespace) -> int:
    from glassgate.workflows.identities import IdentityKind

    return _create(args, IdentityKind.CUSTODIAN)


def run_reset(args: argparse.Namespace) -> int:
    setup = load(args.config)
    view = run_service(
        setup,
        lambda service: service.activations.open_reset(args.name, command_actor(), args.reason),
    )
    print(view.id)
    print(
        f"reset {view.id} of {view.account} opened; it needs {view.quorum} custodian approvals "
        f"in the console before {when(view.expires_at)}. The custodian whose approval completes "
        "the quorum receives the one-time reset link (valid one hour).",
        file=sys.stderr,
    )
    return 0


def _incident_json(view: IncidentView) -> dict[str, Any]:
    return {
        "id": view.id,
        "account": view.account,
        "request_id": view.request_id,
        "session_id": view.session_id,
        "incident_ref": view.incident_ref,
        "state": view.state,
        "opened_at": when(view.opened_at),
        "closed_at": None if view.closed_at is None else when(view.closed_at),
        "closed_by": view.closed_by,
        "notes": view.notes,
    }


def run_incidents(args: argparse.Namespace) -> int:
    setup = load(args.config)
    views = run_service(setup, lambda s: s.aftercare.incidents(open_only=not args.all))
    if args.json:
        print(json.dumps([_incident_json(view) for view in views]))
        return 0
    if not views:
        print("no open incidents" if not args.all else "no incidents")
    for view in views:
        print(
            f"{view.id}  {view.state:6}  {view.account}  request {view.request_id}  "
            f"ref {view.incident_ref or '-'}  opened {when(view.opened_at)}"
        )
    return 0


def run_close_incident(args: argparse.Namespace) -> int:
    setup = load(args.config)
    view = run_service(
        setup,
        lambda s: s.aftercare.close_incident(args.incident_id, command_actor(), args.notes),
    )
    print(f"closed incident {view.id} of {view.account}")
    return 0


def run_status(args: argparse.Namespace) -> int:
    setup = load(args.config)

    async def gather(service: BreakglassService) -> dict[str, Any]:
        await service.sessions.sweep()
        return {"open_incidents": await service.aftercare.incidents(open_only=True)}

    found = run_service(setup, gather)
    incidents: list[IncidentView] = found["open_incidents"]
    if args.json:
        print(json.dumps({"open_incidents": [_incident_json(view) for view in incidents]}))
    elif incidents:
        for view in incidents:
            print(f"OPEN incident {view.id}: {view.account}, request {view.request_id}")
        print("close each with `glassgate breakglass close-incident ID --notes ...`")
    else:
        print("break-glass: no open incidents")
    return EXIT_OPEN if incidents else 0


def run_report(args: argparse.Namespace) -> int:
    setup = load(args.config)
    report = build_report(setup, args.request_id)
    if args.json:
        print(json.dumps(report.as_json()))
    else:
        print(render_report(report))
    return 0


def build_report(setup: BreakglassSetup, request_id: str) -> SessionReport:
    """The request's facts from the store, its records and the verdict from the audit log."""
    from glassgate.adapters.storage.audit.checkpoint_file import CheckpointFile, load_public_key
    from glassgate.adapters.storage.target import StorageTarget
    from glassgate.audit.checkpoints import key_id
    from glassgate.audit.records import parse_record
    from glassgate.audit.verification import iter_stored, verify_log
    from glassgate.cli._storage import open_existing_store
    from glassgate.errors import ChainBrokenError
    from glassgate.workflows.report import build_report as assemble

    request, session, incident = run_service(setup, lambda s: s.aftercare.facts(request_id))
    store = open_existing_store(StorageTarget.from_config(setup.config.storage))
    try:
        first = session.first_seq if session is not None else None
        last = session.last_seq if session is not None else None
        records = []
        if first is not None:
            for stored in iter_stored(store):
                record = parse_record(stored.body)
                if record.seq >= first and (last is None or record.seq <= last):
                    records.append(record)
        checkpoint = setup.config.audit.checkpoint
        key = load_public_key(checkpoint.key_file)
        try:
            verdict = verify_log(
                store, checkpoint_logs=[CheckpointFile(checkpoint.file)], keys={key_id(key): key}
            )
            verified, message = True, f"audit log intact: {verdict.records} record(s)"
        except ChainBrokenError as exc:
            verified, message = False, str(exc)
    finally:
        store.close()
    return assemble(request, session, incident, records, verified=verified, message=message)


def render_report(report: SessionReport) -> str:
    lines = [
        f"break-glass {report.kind} {report.request_id} of {report.account}",
        f"  requested by {report.requester}: {report.reason} (ref {report.incident_ref or '-'})",
        "  approved by "
        + (", ".join(f"{c} (key {k or '-'})" for c, k in report.approvers) or "nobody"),
        f"  session {report.session_id or '-'}: {when(report.started_at)} .. "
        f"{when(report.ended_at)} (ended by {report.ended_by or '-'})",
        f"  requests made with it: {len(report.requests)}",
    ]
    lines += [
        f"    {r.ts}  {r.method} {r.path}  -> {r.status} ({r.outcome})" for r in report.requests
    ]
    lines.append(f"  audit records {report.first_seq} .. {report.last_seq or 'now'}")
    verdict = "PASSES" if report.audit_verified else "FAILS"
    lines.append(f"  audit verify {verdict}: {report.audit_message}")
    lines.append(
        f"  incident {report.incident_id or '-'}: {report.incident_state or '-'}"
        + (f", notes: {report.incident_notes}" if report.incident_notes else "")
    )
    return "\n".join(lines)
