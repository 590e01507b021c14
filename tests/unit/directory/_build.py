"""Small directories for the directory tests."""

from __future__ import annotations

from glassgate.directory.changes import build
from glassgate.directory.guard import LockoutGuard, ProtectedGroup
from glassgate.directory.models import AttrValue, Group, User, UserStatus
from glassgate.directory.rules import GroupRule, RuleSet
from glassgate.directory.state import Directory

IT_ADMINS = 'has(user.department) && user.department == "IT" && user.title == "Admin"'
GUARD = LockoutGuard([ProtectedGroup("Admins", 2)])


def user(
    uid: str,
    status: UserStatus = UserStatus.ACTIVE,
    **attributes: AttrValue,
) -> User:
    return User(uid, f"{uid}@example.com", status, attributes)


def rules(*items: tuple[str, str, str]) -> RuleSet:
    """(id, expression, group) triples."""
    return RuleSet.compile(GroupRule(rid, expr, (group,)) for rid, expr, group in items)


def admins_by_rule(count: int = 3, others: int = 2) -> Directory:
    """``count`` IT admins in Admins by rule, ``others`` sales people; Sales is direct."""
    people = [user(f"admin{i}", department="IT", title="Admin") for i in range(count)]
    people += [user(f"sales{i}", department="Sales", title="AE") for i in range(others)]
    sales = Group("g-sales", "Sales", frozenset(f"sales{i}" for i in range(others)))
    return build(
        people, [Group("g-admins", "Admins"), sales], rules(("it-admins", IT_ADMINS, "Admins"))
    )


def admins_direct(count: int = 3) -> Directory:
    """``count`` users who are direct members of Admins."""
    people = [user(f"admin{i}") for i in range(count)]
    return build(people, [Group("g-admins", "Admins", frozenset(u.id for u in people))])
