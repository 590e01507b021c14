"""IssuerPolicy: one trusted issuer's rules, compiled once from its configuration.

Everything the hot path needs per token (exact ``iss``, audiences, algorithm
allow-list, leeway, ``typ`` requirement, where groups and scopes live) is
computed here at load time, so ``verify`` only does set and dict look-ups.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from glassgate.config.schema import IssuerConfig

__all__ = ["MAX_LEEWAY", "SAFE_ALGORITHMS", "ClaimPath", "IssuerPolicy"]

#: Asymmetric algorithms only (RFC 8725 §3.1, §3.2); never ``none`` or ``HS*``.
SAFE_ALGORITHMS: Final = frozenset({"RS256", "PS256", "ES256", "EdDSA"})
#: RFC 7519 §4.1.4 allows "some small leeway"; we cap it at one minute.
MAX_LEEWAY: Final = 60.0

MISSING: Final[Any] = object()


@dataclass(frozen=True, slots=True)
class ClaimPath:
    """Where a claim lives: ``groups``, ``roles`` or a dotted path such as
    ``realm_access.roles`` (Keycloak). A top-level claim whose name itself holds
    dots (Auth0's ``https://example.com/groups``) is found first, as written.
    """

    name: str
    parts: tuple[str, ...]

    @classmethod
    def parse(cls, name: str) -> ClaimPath:
        parts = tuple(name.split("."))
        if not name or any(not part for part in parts):
            raise ValueError(f"claim path {name!r} must be non-empty names joined by '.'")
        return cls(name, parts)

    def find(self, claims: Mapping[str, Any]) -> Any:
        """The value at this path, or ``MISSING``; a non-object on the way is a
        type error the caller reports (it never silently means "no value")."""
        value = claims.get(self.name, MISSING)
        if value is not MISSING or len(self.parts) == 1:
            return value
        node: Any = claims
        for part in self.parts:
            if not isinstance(node, Mapping):
                raise TypeError(f"{self.name!r}: {part!r} is not inside a JSON object")
            node = node.get(part, MISSING)
            if node is MISSING:
                return MISSING
        return node


@dataclass(frozen=True, slots=True)
class IssuerPolicy:
    """The checks for tokens from one issuer (RFC 7519 §7.2, RFC 9068 §4)."""

    id: str
    issuer: str
    audiences: frozenset[str]
    algorithms: frozenset[str]
    leeway: float = 30.0
    require_at_jwt: bool = False
    groups: ClaimPath = ClaimPath("groups", ("groups",))
    scopes: ClaimPath = ClaimPath("scp", ("scp",))
    scope_string: ClaimPath = ClaimPath("scope", ("scope",))

    def __post_init__(self) -> None:
        if not self.issuer:
            raise ValueError(f"issuer {self.id!r}: 'issuer' must not be empty")
        if not self.audiences or not all(self.audiences):
            raise ValueError(f"issuer {self.id!r}: at least one non-empty audience is required")
        unsafe = sorted(self.algorithms - SAFE_ALGORITHMS)
        if unsafe or not self.algorithms:
            raise ValueError(
                f"issuer {self.id!r}: algorithms must be a non-empty subset of "
                f"{sorted(SAFE_ALGORITHMS)}; refusing {unsafe}"
            )
        if not 0.0 <= self.leeway <= MAX_LEEWAY:
            raise ValueError(f"issuer {self.id!r}: leeway must be between 0 and 60 seconds")

    @classmethod
    def from_config(cls, config: IssuerConfig) -> IssuerPolicy:
        return cls(
            id=config.id,
            issuer=config.issuer,
            audiences=frozenset(config.audiences),
            algorithms=frozenset(config.algorithms),
            leeway=float(config.leeway),
            require_at_jwt=config.token_type == "at+jwt",
            groups=ClaimPath.parse(config.claims.groups),
            scopes=ClaimPath.parse(config.claims.scopes),
            scope_string=ClaimPath.parse(config.claims.scope_string),
        )
