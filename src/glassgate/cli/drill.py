"""``glassgate drill status | history``: are the break-glass accounts still proven to work?

A drill is a real activation flagged as a drill, scoped to
``breakglass.drill_route`` (request it in the console). ``status`` lists
accounts without a passed drill within ``breakglass.drill_interval`` (90
days by default) and exits 1 when any is overdue; ``history`` lists past
drills with their evidence: time from sign-in to the first successful
request, approvers and their key ids, audit record range, result.

Exit codes: 0 all current, 1 an account is overdue, 2 bad input or failure.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from glassgate.cli._breakglass import add_config_argument, load, run_service, when

__all__ = ["register"]

EXIT_OVERDUE = 1


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "drill", help="break-glass drills: status and history", description=__doc__
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    status = verbs.add_parser("status", help="accounts overdue for a drill (exit 1 if any)")
    status.add_argument("--json", action="store_true")
    add_config_argument(status)
    status.set_defaults(handler=run_status)
    history = verbs.add_parser("history", help="past drills and their evidence")
    history.add_argument("--json", action="store_true")
    add_config_argument(history)
    history.set_defaults(handler=run_history)


def run_status(args: argparse.Namespace) -> int:
    setup = load(args.config)
    overdue = run_service(setup, lambda s: s.aftercare.overdue())
    days = setup.section.drill_interval / 86400
    if args.json:
        rows = [
            {
                "account": o.account,
                "last_success_at": None if o.last_success_at is None else when(o.last_success_at),
            }
            for o in overdue
        ]
        print(json.dumps({"interval_days": days, "overdue": rows}))
    elif overdue:
        for item in overdue:
            last = "never" if item.last_success_at is None else when(item.last_success_at)
            print(f"OVERDUE {item.account}: last passed drill {last} (every {days:g} days)")
    else:
        print(f"every break-glass account passed a drill within {days:g} days")
    return EXIT_OVERDUE if overdue else 0


def run_history(args: argparse.Namespace) -> int:
    setup = load(args.config)
    drills = run_service(setup, lambda s: s.aftercare.drills())
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "id": d.id,
                        "account": d.account,
                        "result": d.result,
                        "started_at": when(d.started_at),
                        "time_to_access": d.time_to_access,
                        "approvers": [
                            {"custodian": a.approver, "key_id": a.key_id} for a in d.approvers
                        ],
                        "audit_range": {"first_seq": d.first_seq, "last_seq": d.last_seq},
                    }
                    for d in drills
                ]
            )
        )
        return 0
    if not drills:
        print("no drills yet")
    for d in drills:
        taken = "-" if d.time_to_access is None else f"{d.time_to_access:.1f}s"
        approvers = ",".join(a.approver.partition(":")[2] for a in d.approvers)
        print(
            f"{d.id}  {d.account}  {d.result:7}  {when(d.started_at)}  time-to-access {taken}  "
            f"approvers {approvers}  audit {d.first_seq}..{d.last_seq or '-'}"
        )
    return 0
