"""Writes okta/: a realistic Okta Management API export of an org of 320 users.

Run from the repository root: ``python tests/vectors/directory/make_okta_export.py``.
It is deterministic (fixed seed), so the committed files are what it writes.

Shapes follow Okta's documented responses: ``GET /api/v1/users`` (id, status,
timestamps, type, profile with the default profile attributes and nulls for
unset ones, credentials.provider, _links), ``GET /api/v1/groups`` (OKTA_GROUP
and BUILT_IN ``Everyone``), ``GET /api/v1/groups/{id}/users`` (members,
including those assigned by rules, as Okta lists them) and ``GET
/api/v1/groups/rules``.

The story (SPEC C6, first seed): Admins is filled by a group rule only:
``user.department == "IT" AND String.startsWith(user.title, "Identity")``.
The HRIS is about to rename the department "IT" to "Information Technology",
and someone changes the rule *before* the HRIS sync: ``rules-changed.yaml``.
Every admin would lose Admins at once.
"""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

OUT = Path(__file__).resolve().parent / "okta"
ORG = "https://example.okta.com"
RNG = random.Random(20261206)
FIRST = [
    "Ana",
    "Ben",
    "Chen",
    "Dara",
    "Eli",
    "Fatima",
    "Gus",
    "Hana",
    "Ivan",
    "Jun",
    "Kai",
    "Lena",
    "Mateo",
    "Nia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tariq",
    "Uma",
    "Vik",
    "Wen",
    "Xavi",
    "Yara",
    "Zoe",
]
LAST = [
    "Garcia",
    "Smith",
    "Nguyen",
    "Okafor",
    "Muller",
    "Rossi",
    "Kowalski",
    "Tanaka",
    "Haddad",
    "Silva",
    "Novak",
    "Jensen",
    "Moreau",
    "Patel",
    "Kim",
    "Cohen",
    "Ortiz",
    "Berg",
    "Ivanova",
    "Walsh",
]
DEPARTMENTS = [
    (
        "Engineering",
        ["Software Engineer", "Senior Software Engineer", "SRE", "Engineering Manager"],
        110,
    ),
    ("Sales", ["Account Executive", "Sales Engineer", "Sales Manager"], 55),
    ("Sales Ops", ["Sales Operations Analyst"], 8),
    ("Marketing", ["Marketing Manager", "Content Strategist"], 25),
    ("Finance", ["Accountant", "Controller", "FP&A Analyst"], 20),
    ("HR", ["HR Business Partner", "Recruiter"], 15),
    ("Security", ["Security Engineer", "Security Analyst"], 12),
    ("Support", ["Support Engineer", "Support Lead"], 45),
    ("Legal", ["Counsel", "Paralegal"], 6),
    ("IT", ["IT Support Specialist", "Systems Administrator"], 18),
]
# name, title: the identity admins, all in IT, all admins only through the rule
ADMINS = [
    ("Lena", "Ortiz", "Identity Administrator", "ACTIVE"),
    ("Omar", "Haddad", "Identity Engineer", "ACTIVE"),
    ("Priya", "Patel", "Identity Administrator", "ACTIVE"),
    ("Jun", "Tanaka", "Identity Architect", "ACTIVE"),
    ("Sam", "Walsh", "Identity Administrator", "SUSPENDED"),
]
STATUSES = (
    ["ACTIVE"] * 90
    + ["SUSPENDED"] * 3
    + ["LOCKED_OUT"] * 2
    + ["PASSWORD_EXPIRED"] * 2
    + ["STAGED", "PROVISIONED", "RECOVERY"]
)


def okta_id(prefix: str) -> str:
    return (
        prefix
        + "".join(RNG.choice(string.ascii_letters + string.digits) for _ in range(14))
        + "0g7"
    )


def stamp(day: int, second: int = 0) -> str:
    return f"2026-{1 + day // 28:02d}-{1 + day % 28:02d}T{(second // 3600) % 24:02d}:{(second // 60) % 60:02d}:{second % 60:02d}.000Z"


def user(
    first: str, last: str, department: str, title: str, status: str, index: int, manager: str | None
) -> dict:
    uid = okta_id("00u")
    login = f"{first}.{last}{index if index else ''}@example.com".lower()
    contractor = department in ("Support", "Engineering") and RNG.random() < 0.12
    profile = {
        "firstName": first,
        "lastName": last,
        "mobilePhone": None,
        "secondEmail": None,
        "login": login,
        "email": login,
        "title": title,
        "displayName": f"{first} {last}",
        "nickName": None,
        "department": department,
        "division": "R&D"
        if department in ("Engineering", "Security", "IT")
        else "G&A"
        if department in ("Finance", "HR", "Legal")
        else "GTM",
        "organization": "Example Corp",
        "costCenter": f"CC-{100 + [d[0] for d in DEPARTMENTS].index(department) if department in [d[0] for d in DEPARTMENTS] else 199}",
        "employeeNumber": None if contractor else str(10000 + index),
        "userType": "Contractor" if contractor else "Employee",
        "managerId": manager,
        "city": RNG.choice(["Berlin", "Lisbon", "Toronto", "Austin", "Singapore"]),
        "countryCode": None,
        "preferredLanguage": "en",
        "locale": "en_US",
        "timezone": "Europe/Berlin",
        "primaryPhone": None,
        "streetAddress": None,
        "zipCode": None,
        "state": None,
        "honorificPrefix": None,
        "honorificSuffix": None,
        "middleName": None,
        "profileUrl": None,
        "onCallEligible": department in ("Engineering", "Security") and RNG.random() < 0.5,
    }
    created = RNG.randrange(0, 250)
    return {
        "id": uid,
        "status": status,
        "created": stamp(created, RNG.randrange(86400)),
        "activated": None if status in ("STAGED", "PROVISIONED") else stamp(created, 3600),
        "statusChanged": stamp(created + 5, 7200),
        "lastLogin": None
        if status in ("STAGED", "PROVISIONED")
        else stamp(300, RNG.randrange(86400)),
        "lastUpdated": stamp(310, RNG.randrange(86400)),
        "passwordChanged": stamp(created, 3600),
        "type": {"id": "oty1a2b3c4d5e6f7g8h9"},
        "profile": profile,
        "credentials": {
            "password": {},
            "recovery_question": {"question": "Who's a major player in the cowboy scene?"},
            "provider": {"type": "OKTA", "name": "OKTA"},
        },
        "_links": {
            "self": {"href": f"{ORG}/api/v1/users/{uid}"},
            "suspend": {"href": f"{ORG}/api/v1/users/{uid}/lifecycle/suspend", "method": "POST"},
        },
    }


def group(name: str, description: str, kind: str = "OKTA_GROUP") -> dict:
    gid = okta_id("00g")
    return {
        "id": gid,
        "created": stamp(2),
        "lastUpdated": stamp(40),
        "lastMembershipUpdated": stamp(310),
        "objectClass": ["okta:user_group"],
        "type": kind,
        "profile": {"name": name, "description": description},
        "_links": {
            "logo": [
                {
                    "name": "medium",
                    "href": "https://op1static.oktacdn.com/assets/img/logos/groups/okta-medium.png",
                    "type": "image/png",
                }
            ],
            "users": {"href": f"{ORG}/api/v1/groups/{gid}/users"},
            "apps": {"href": f"{ORG}/api/v1/groups/{gid}/apps"},
        },
    }


def rule(
    name: str,
    expression: str,
    targets: list[dict],
    status: str = "ACTIVE",
    exclude_users: list[str] | None = None,
) -> dict:
    return {
        "type": "group_rule",
        "id": okta_id("0pr"),
        "status": status,
        "name": name,
        "created": stamp(3),
        "lastUpdated": stamp(200),
        "conditions": {
            "people": {"users": {"exclude": exclude_users or []}, "groups": {"exclude": []}},
            "expression": {"value": expression, "type": "urn:okta:expression:1.0"},
        },
        "actions": {"assignUserToGroups": {"groupIds": [g["id"] for g in targets]}},
    }


def main() -> None:
    users: list[dict] = []
    index = 0
    managers: dict[str, str] = {}
    for department, titles, count in DEPARTMENTS:
        for _ in range(count):
            index += 1
            first, last = RNG.choice(FIRST), RNG.choice(LAST)
            title = titles[-1] if department not in managers else RNG.choice(titles)
            item = user(
                first,
                last,
                department,
                title,
                RNG.choice(STATUSES),
                index,
                managers.get(department),
            )
            managers.setdefault(department, item["id"])
            users.append(item)
    for first, last, title, status in ADMINS:
        index += 1
        users.append(user(first, last, "IT", title, status, 0, managers["IT"]))
    RNG.shuffle(users)
    p = {u["id"]: u["profile"] for u in users}

    groups = {
        "Everyone": group("Everyone", "All users in your organization", "BUILT_IN"),
        "Admins": group("Admins", "Okta and glassgate administrators (filled by rule)"),
        "Engineering": group("Engineering", "Engineering department"),
        "Sales": group("Sales", "Sales and Sales Ops"),
        "Security": group("Security", "Security team"),
        "Contractors": group("Contractors", "Non-employees"),
        "Employees": group("Employees", "Everyone with an employee number"),
        "Oncall-Roster": group("Oncall-Roster", "Maintained by hand by the on-call lead"),
        "On-Call Paging": group("On-Call Paging", "People who can be paged"),
        "Corp-Email": group("Corp-Email", "Users with a corporate mailbox"),
        "Legal": group("Legal", "Legal department"),
        "SRE": group("SRE", "Site reliability engineers"),
        "Finance-Approvers": group("Finance-Approvers", "Managed by hand"),
    }
    roster = [u["id"] for u in users if p[u["id"]]["onCallEligible"]][:14]
    finance = [u["id"] for u in users if p[u["id"]]["department"] == "Finance"][:4]
    excluded = next(u["id"] for u in users if p[u["id"]]["department"] == "Security")
    rules = [
        rule(
            "Admins: identity administrators",
            'user.department == "IT" AND String.startsWith(user.title, "Identity")',
            [groups["Admins"]],
        ),
        rule(
            "Engineering by department", 'user.department=="Engineering"', [groups["Engineering"]]
        ),
        rule(
            "Sales and Sales Ops",
            'user.department == "Sales" OR user.department == "Sales Ops"',
            [groups["Sales"]],
        ),
        rule(
            "Security team",
            'user.department == "Security"',
            [groups["Security"]],
            exclude_users=[excluded],
        ),
        rule("Contractors", 'user.userType == "Contractor"', [groups["Contractors"]]),
        rule(
            "Employees",
            'user.userType != "Contractor" AND user.employeeNumber != null',
            [groups["Employees"]],
        ),
        rule(
            "Paging from the roster",
            f'isMemberOfAnyGroup("{groups["Oncall-Roster"]["id"]}")',
            [groups["On-Call Paging"]],
        ),
        rule(
            "Corporate mailbox",
            'String.stringContains(toLowerCase(user.email), "@example.com")',
            [groups["Corp-Email"]],
        ),
        rule("Legal (draft)", 'user.department == "Legal"', [groups["Legal"]], status="INACTIVE"),
        rule("SREs", 'isMemberOfGroupName("Engineering") AND user.title == "SRE"', [groups["SRE"]]),
        rule(
            "Security via Identity Engine",
            "user.isMemberOf({'group.profile.name': 'Security', 'operator': 'EXACT'})",
            [groups["On-Call Paging"]],
            status="INACTIVE",
        ),
    ]

    def members(name: str) -> list[str]:
        def ok(uid: str) -> bool:
            q = p[uid]
            return {
                "Everyone": True,
                "Admins": q["department"] == "IT" and q["title"].startswith("Identity"),
                "Engineering": q["department"] == "Engineering",
                "Sales": q["department"] in ("Sales", "Sales Ops"),
                "Security": q["department"] == "Security" and uid != excluded,
                "Contractors": q["userType"] == "Contractor",
                "Employees": q["userType"] != "Contractor" and q["employeeNumber"] is not None,
                "Oncall-Roster": uid in roster,
                "On-Call Paging": uid in roster,
                "Corp-Email": "@example.com" in q["email"].lower(),
                "Legal": False,
                "SRE": q["department"] == "Engineering" and q["title"] == "SRE",
                "Finance-Approvers": uid in finance,
            }[name]

        return [u["id"] for u in users if ok(u["id"])]

    OUT.mkdir(exist_ok=True)
    (OUT / "group-members").mkdir(exist_ok=True)
    dump = lambda path, data: path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")  # noqa: E731
    dump(OUT / "users.json", users)
    dump(OUT / "groups.json", list(groups.values()))
    dump(OUT / "rules.json", rules)
    for name, item in groups.items():
        listed = [u for u in users if u["id"] in set(members(name))]
        if name == "Finance-Approvers":  # a deprovisioned user Okta still lists in a group
            listed.append({**listed[0], "id": "00uDeprovisioned00g7", "status": "DEPROVISIONED"})
        dump(OUT / "group-members" / f"{item['id']}.json", listed)


if __name__ == "__main__":
    main()
