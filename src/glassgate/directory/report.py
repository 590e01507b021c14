"""A simulation as text: a table for people, JSON for tools, CSV for large directories.

The table shows per group how many users gain and lose it (with the first
few names), every protected group's active members now and after, rule
errors, and the verdict ``rules apply`` would get. The CSV has one row per
user and group that changes, for directories too large to read on screen.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from glassgate.directory.formats.csv_safe import write_csv
from glassgate.directory.simulate import Simulation
from glassgate.types import JSONValue

__all__ = ["simulation_csv", "simulation_json", "simulation_table"]


def _names(names: Sequence[str], limit: int) -> str:
    if not names:
        return "nobody"
    shown = ", ".join(names[:limit])
    return shown + (f" (+{len(names) - limit} more)" if len(names) > limit else "")


def simulation_table(sim: Simulation, limit: int = 8) -> str:
    lines = [
        f"Rule simulation over {sim.users} user(s); "
        f"rules changed: {', '.join(sim.changed_rules) or 'none'}",
        "",
    ]
    per_group = sim.per_group(mark_inactive=True)
    if per_group:
        width = max(len("group"), *(len(g) for g in per_group))
        lines.append(f"{'group':<{width}}  {'gain':>6}  {'lose':>6}")
        for group, (gains, losses) in per_group.items():
            lines.append(f"{group:<{width}}  {len(gains):>6}  {len(losses):>6}")
        lines.append("")
        for group, (gains, losses) in per_group.items():
            if gains:
                lines.append(f"  + {group}: {_names(gains, limit)}")
            if losses:
                lines.append(f"  - {group}: {_names(losses, limit)}")
    else:
        lines.append("No user gains or loses a group.")
    lines += ["", "Protected groups (active members now -> after):"]
    for item in sim.protected:
        mark = "SHORT" if item.short else "ok"
        lines.append(
            f"  {item.group} (minimum {item.minimum}): {len(item.before)} -> {len(item.after)}"
            f"  {mark}  after: {_names(item.after, limit)}"
        )
    if not sim.protected:
        lines.append("  none configured (directory.protected_groups)")
    lines += _problems(sim)
    lines += ["", _verdict(sim)]
    return "\n".join(lines) + "\n"


def _problems(sim: Simulation) -> list[str]:
    lines: list[str] = []
    for rule_id, count in sorted(sim.errors.counts.items()):
        lines.append(
            f"  rule {rule_id}: could not be evaluated for {count} user(s) "
            f"({sim.errors.first[rule_id]}); those users do not match it"
        )
    for rule_id, group in sim.missing_groups:
        lines.append(f"  rule {rule_id}: assigns group {group!r}, which does not exist")
    return ["", "Problems:", *lines] if lines else []


def _verdict(sim: Simulation) -> str:
    if sim.allowed:
        return "Verdict: allowed: `glassgate rules apply` would pass the lockout guard."
    short = "; ".join(
        f"{s.group} would keep {len(s.remaining)} active member(s), minimum {s.minimum}"
        for s in sim.shortfalls
    )
    return f"Verdict: REFUSED: `glassgate rules apply` would be refused: {short}."


def simulation_json(sim: Simulation) -> str:
    document: dict[str, JSONValue] = {
        "users": sim.users,
        "changed_rules": list(sim.changed_rules),
        "allowed": sim.allowed,
        "groups": {
            group: {"gain": gains, "lose": losses}
            for group, (gains, losses) in sim.per_group().items()
        },
        "protected": [
            {
                "group": item.group,
                "minimum": item.minimum,
                "active_before": list(item.before),
                "active_after": list(item.after),
                "short": item.short,
            }
            for item in sim.protected
        ],
        "refused": [
            {"group": s.group, "minimum": s.minimum, "remaining": list(s.remaining)}
            for s in sim.shortfalls
        ],
        "rule_errors": {
            rule_id: {"users": count, "first": sim.errors.first[rule_id]}
            for rule_id, count in sorted(sim.errors.counts.items())
        },
        "missing_groups": [{"rule": r, "group": g} for r, g in sim.missing_groups],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def simulation_csv(sim: Simulation) -> str:
    rows = ((c.group, c.delta.value, c.user_name, c.user_id, c.status) for c in sim.changes)
    return write_csv(("group", "change", "userName", "id", "status"), rows)
