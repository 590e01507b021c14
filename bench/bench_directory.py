"""Rule simulation over a large directory (SPEC C6; not a test, nothing is asserted).

    .venv/bin/python bench/bench_directory.py [--users 100000] [--repeat 3]

Builds a synthetic directory (departments, titles, user types, a few direct
groups) with twelve CEL group rules, then times, best of ``--repeat``:

* build: every rule evaluated for every user (what an import or a restart costs);
* simulate (3 rules changed): ``rules simulate`` when a change touches three rules,
  the Admins one among them -- the issue's target is under 10 s at 100,000 users;
* simulate (all 12 rules changed): the worst case, every rule re-evaluated;
* a guarded single-user change (suspending one admin through ``check_change``).

Wall time and this process's CPU time are both shown; on a busy machine the
CPU column is the fairer one.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from glassgate.directory.changes import PutUser, build
from glassgate.directory.guard import LockoutGuard, ProtectedGroup, check_change
from glassgate.directory.models import Group, User, UserStatus
from glassgate.directory.report import simulation_table
from glassgate.directory.rules import GroupRule, RuleSet
from glassgate.directory.simulate import simulate

T = TypeVar("T")
DEPARTMENTS = ["Engineering", "Sales", "Marketing", "Finance", "HR", "IT", "Security", "Support"]
TITLES = ["Engineer", "Senior Engineer", "Manager", "Analyst", "Identity Administrator", "Director"]


def rules(admins_department: str, suffix: str = "") -> RuleSet:
    admins = (
        f'has(user.department) && user.department == "{admins_department}" '
        '&& user.title.startsWith("Identity")'
    )
    contractors = f'has(user.userType) && user.userType == "Contractor{suffix}"'
    oncall = f'"Oncall Roster" in groups && user.department != "HR{suffix}"'
    items = [
        GroupRule("admins", admins, ("Admins",)),
        GroupRule("contractors", contractors, ("Contractors",)),
        GroupRule("oncall", oncall, ("Paging",)),
    ]
    items += [
        GroupRule(
            f"dept-{d.lower()}", f'has(user.department) && user.department == "{d}{suffix}"', (d,)
        )
        for d in DEPARTMENTS[:7]
    ]
    items += [
        GroupRule(
            "seniors", f'has(user.title) && user.title.contains("Senior{suffix}")', ("Seniors",)
        ),
        GroupRule(
            "leads",
            f'user.title in ["Manager{suffix}", "Director"] && has(user.costCenter)',
            ("Leads",),
        ),
    ]
    return RuleSet.compile(items)


def directory(size: int, seed: int = 7):  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    users = []
    for i in range(size):
        department = rng.choice(DEPARTMENTS)
        title = "Identity Administrator" if i < 6 else rng.choice(TITLES[:4] + TITLES[5:])
        users.append(
            User(
                f"u{i:07d}",
                f"user{i}@example.com",
                UserStatus.ACTIVE if rng.random() > 0.03 else UserStatus.SUSPENDED,
                {
                    "department": "IT" if i < 6 else department,
                    "title": title,
                    "userType": "Contractor" if rng.random() < 0.1 else "Employee",
                    "costCenter": f"CC-{rng.randrange(100, 140)}",
                    "givenName": "Ana",
                    "familyName": "Example",
                    "email": f"user{i}@example.com",
                },
            )
        )
    names = ["Admins", "Contractors", "Paging", "Seniors", "Leads", *DEPARTMENTS]
    groups = [Group(f"g-{n}", n) for n in names]
    groups.append(Group("g-roster", "Oncall Roster", frozenset(u.id for u in users[: size // 50])))
    return build(users, groups, rules("IT"))


def timed(fn: Callable[[], T], repeat: int) -> tuple[T, float, float]:
    best_wall = best_cpu = float("inf")
    result: T | None = None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    assert result is not None
    return result, best_wall, best_cpu


def line(label: str, wall: float, cpu: float, extra: str = "") -> None:
    print(f"{label:<34} {wall:8.3f} s wall {cpu:8.3f} s CPU  {extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    guard = LockoutGuard([ProtectedGroup("Admins", 2)])
    before, wall, cpu = timed(lambda: directory(args.users), 1)
    line(f"build: {args.users} users, 12 rules", wall, cpu)
    changed = RuleSet.compile(
        [
            *(c.rule for c in rules("Information Technology") if c.id == "admins"),
            *(c.rule for c in rules("IT") if c.id not in ("admins", "contractors", "seniors")),
            *(c.rule for c in rules("IT", suffix="X") if c.id in ("contractors", "seniors")),
        ]
    )
    sim, wall, cpu = timed(lambda: simulate(before, changed, guard), args.repeat)
    line("simulate: 3 rules changed", wall, cpu, f"{len(sim.changes)} membership changes")
    every = rules("IT", suffix=" ")
    sim_all, wall, cpu = timed(lambda: simulate(before, every, guard), args.repeat)
    line("simulate: all 12 rules changed", wall, cpu, f"{len(sim_all.changes)} membership changes")
    admin = before.user("u0000000")
    assert admin is not None
    suspend = [PutUser(replace(admin, status=UserStatus.SUSPENDED))]
    _, wall, cpu = timed(lambda: check_change(guard, before, suspend), args.repeat)
    line("guarded change of one user", wall, cpu)
    print()
    print(simulation_table(sim, limit=4))


if __name__ == "__main__":
    main()
