"""The break-glass API's request and response bodies (pydantic, so the OpenAPI document is exact).

Responses mirror the service's frozen views (``workflows.views``) field for
field, read with ``from_attributes``; the API contract is written here, so a
change in a view that the API does not want is a type error, not a silent
change on the wire. Requests are bounded: names, reasons and references have
maximum lengths, a WebAuthn response is an object the service caps again,
and unknown fields are refused (``extra="forbid"``). Secrets arriving here
(passwords, link tokens) are ``SecretStr``: never in a ``repr`` or a log.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = [
    "ActorBody",
    "Ceremony",
    "DecisionBegin",
    "DecisionBody",
    "DecisionFinish",
    "Done",
    "EnrolBegin",
    "EnrolFinish",
    "EnrolStart",
    "Enrolled",
    "NewRequest",
    "NoBody",
    "RequestBody",
    "RequestList",
    "SessionBody",
    "SessionList",
    "SessionStarted",
    "ShownOnce",
    "SignInBegin",
    "SignInFinish",
    "SignedInBody",
]

_NAME = Field(min_length=1, max_length=64)
_ID = Field(min_length=1, max_length=64)
_PASSWORD = Field(min_length=1, max_length=1024)
_TOKEN = Field(min_length=1, max_length=256)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)


# --- requests ---------------------------------------------------------------------------


class NoBody(_In):
    """An action that needs nothing but its address (send ``{}``)."""


class SignInBegin(_In):
    name: str = _NAME


class SignInFinish(_In):
    """Password and key together: "password only" and "key only" fail alike."""

    name: str = _NAME
    # Either factor may be missing: that is a failed sign-in like any other (401), not a
    # malformed request that would tell the caller which factor the console wanted.
    password: SecretStr = Field(default=SecretStr(""), max_length=1024)
    challenge_id: str = _ID
    credential: dict[str, Any] = Field(default_factory=dict)
    session: Literal["cookie", "bearer"] = "cookie"  # bearer: the token in the body, for tools


class EnrolBegin(_In):
    token: SecretStr = _TOKEN


class EnrolFinish(_In):
    token: SecretStr = _TOKEN
    password: SecretStr = _PASSWORD
    password_again: SecretStr | None = Field(default=None, max_length=1024)  # from the page
    challenge_id: str = _ID
    credential: dict[str, Any]


class NewRequest(_In):
    reason: str = Field(min_length=1, max_length=500)
    incident_ref: str | None = Field(default=None, max_length=100)
    drill: bool = False


class DecisionBegin(_In):
    decision: Literal["approve", "deny"]


class DecisionFinish(_In):
    decision: Literal["approve", "deny"]
    challenge_id: str = _ID
    credential: dict[str, Any]


# --- responses --------------------------------------------------------------------------


class Ceremony(BaseModel):
    """Give ``options`` to ``PublicKeyCredential.parse*OptionsFromJSON``; post the
    credential's ``toJSON()`` back with ``challenge_id``."""

    challenge_id: str
    options: dict[str, Any]


class EnrolStart(Ceremony):
    identity: str
    purpose: Literal["enrol", "reset"]
    link_expires_at: float


class Enrolled(BaseModel):
    identity: str
    next: str = "/sign-in"


class ActorBody(_Out):
    kind: str
    name: str
    signed_in_at: float
    key_id: str


class SignedInBody(BaseModel):
    actor: ActorBody
    expires_at: float
    token: str | None = None  # only when asked for (session="bearer"): shown once
    next: str = "/"


class Done(BaseModel):
    next: str = "/"


class ApprovalBody(_Out):
    approver: str
    at: float
    key_id: str | None


class RequestBody(_Out):
    id: str
    kind: str
    account: str
    requester: str
    reason: str
    incident_ref: str | None
    scope: tuple[str, ...]
    state: str
    created_at: float
    expires_at: float
    quorum: int
    approvals: tuple[ApprovalBody, ...]
    denied_by: str | None
    activate_by: float | None
    fulfilled_at: float | None


class RequestList(BaseModel):
    requests: list[RequestBody]


class ShownOnce(BaseModel):
    """A value handed over once (a reset link): it cannot be fetched again."""

    label: str
    value: str


class DecisionBody(BaseModel):
    request: RequestBody
    shown_once: ShownOnce | None = None
    next: str = "/approvals"


class SessionBody(_Out):
    id: str
    request_id: str
    account: str
    drill: bool
    scope: tuple[str, ...]
    client_ip: str
    state: str
    started_at: float
    expires_at: float
    ended_at: float | None
    ended_by: str | None
    uses: int
    first_use_at: float | None


class SessionList(BaseModel):
    sessions: list[SessionBody]


class SessionStarted(BaseModel):
    """The session, and its bearer token for API tools: shown once, here only."""

    session: SessionBody
    token: str
    next: str
