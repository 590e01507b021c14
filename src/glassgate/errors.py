"""Every glassgate exception, with a stable ``code`` per class.

Decisions (deny, step-up, unauthenticated, rate-limited) are values, not
exceptions: an exception means the machinery could not decide or act.

    GlassgateError
    ├── ConfigError              .problems: every problem with file, line, field path, hint
    │   ├── ConfigTooLargeError      the YAML document is too large or too deeply nested
    │   └── RulesInvalidError        a group-rules file or rule that cannot be used as written
    ├── RequestRejectedError     malformed client input (HTTP 400 and friends), ``.status``
    │   ├── PathRejectedError        a request path that could be read more than one way
    │   ├── HostRejectedError        a ``Host`` that is not a plain host name, or is repeated
    │   ├── HeaderTooLargeError      the header section exceeds ``limits`` (431)
    │   ├── UnsupportedCodingError   a transfer coding other than chunked (501)
    │   ├── ForwardedRequestError    a forward-auth caller's description of a request is unusable
    │   ├── UntrustedCallerError     a forward-auth caller that is not a trusted proxy (403)
    │   └── SignInThrottledError     too many console sign-in attempts (429), ``.retry_after``
    ├── BodyTooLargeError        the request body exceeds ``limits`` mid-stream (413, close)
    ├── ClientTimeoutError       the client stopped sending its body (408)
    ├── ClientGoneError          the client disconnected before the answer: nobody to tell
    ├── TokenError               outward always ``invalid_token``; detail for audit and logs
    │   ├── TokenMalformedError      not a compact JWS, bad base64/JSON, oversized
    │   ├── DisallowedAlgorithmError none, HMAC, or an alg outside the issuer's list
    │   ├── UnsupportedHeaderError   any ``crit``, non-string ``kid``
    │   ├── UntrustedIssuerError     ``iss`` is not a configured issuer (exact match)
    │   ├── UnknownKeyError          no key with that ``kid`` even after a refresh
    │   ├── KeyMismatchError         the key's type or own ``alg`` does not fit ``alg``
    │   ├── KeysStaleError           keys are older than the staleness limit: fail closed
    │   ├── SignatureInvalidError    the signature does not verify
    │   ├── TokenExpiredError        ``exp`` passed (beyond the leeway)
    │   ├── TokenNotYetValidError    ``nbf`` or ``iat`` in the future
    │   ├── AudienceMismatchError    none of the configured audiences in ``aud``
    │   ├── ClaimError               a missing claim or a claim of the wrong type
    │   ├── ApiKeyError              a ``gg_`` machine key refused (``tokens.api_keys``)
    │   │   ├── ApiKeyMalformedError     not ``gg_<key id>_<secret>``
    │   │   ├── ApiKeyUnknownError       no key with that id
    │   │   ├── ApiKeySecretMismatchError the secret does not match the stored hash
    │   │   ├── ApiKeyExpiredError · ApiKeyRevokedError
    │   │   ├── ApiKeyTierUnknownError   the key's quota tier is no longer configured
    │   │   └── ApiKeysDisabledError     ``api_keys.enabled`` is false
    │   └── BreakglassTokenError     a break-glass session token refused at the gate
    │       ├── BreakglassSessionOverError  ended or expired
    │       └── BreakglassAddressError      presented from another client address
    ├── WorkflowError            an administrative step refused; ``status`` is its HTTP status
    │   ├── WorkflowInputError       a field out of bounds (reason missing, password too short)
    │   ├── NotFoundError            no such request, session, account, incident or drill
    │   ├── InvalidTransitionError   .state, .action: not allowed from this state
    │   ├── ConcurrentChangeError    someone else changed the record first: read and retry
    │   ├── ApprovalRefusedError     .reason: self-approval, already-decided, not-an-approver, ...
    │   │   └── StepUpRequiredError      the approver's sign-in is too weak or too old (RFC 9470)
    │   ├── RequestExpiredError      the request expired before it was approved or used
    │   ├── QuorumNotMetError        the approvals do not (yet) meet the rule
    │   ├── ActionForbiddenError     this actor may not do this (e.g. end someone's session)
    │   ├── AuthenticationFailedError generic outward; ``detail`` (for audit) says which factor
    │   ├── AccountLockedError       both factors were right, but the account awaits rotation
    │   ├── LinkInvalidError         a one-time link that is unknown, expired or already used
    │   ├── SessionEndedError        a break-glass session used after its end or expiry
    │   └── SessionAddressError      a session used from another client address
    ├── DirectoryError
    │   ├── LockoutRefusedError      .shortfalls: a protected group would fall under its minimum
    │   ├── DirectoryConflictError   a userName or group name taken, a stale version
    │   ├── DirectoryNotFoundError   no user or group with that id
    │   ├── ImportInvalidError       .problems: an import file that cannot be read as a whole
    │   └── UntranslatableRuleError  an Okta rule expression with no exact CEL equivalent
    ├── AuditError
    │   ├── AuditUnavailableError    privileged actions are refused (fail closed)
    │   ├── ChainBrokenError         .index, .kind (edited, deleted, reordered, ...)
    │   └── CheckpointKeyError       another key signed this log's checkpoints: refuse to start
    └── BackendError
        ├── CredentialUnavailableError  a credential cannot be checked now: 503, never 401
        │   ├── IdPUnavailableError      discovery, JWKS or introspection unreachable
        │   └── ApiKeyUnavailableError   the API key store cannot answer
        ├── StorageUnavailableError
        ├── AlertDeliveryError
        │   └── PermanentDeliveryError   the receiver refused for good: retrying cannot help
        └── UpstreamError            the upstream failed before answering (502), ``.sent``
            ├── UpstreamTimeoutError     connect / head / body too slow (504)
            └── UpstreamClosedError      closed before any byte, ``.reused`` (replay is safe)

Messages say what went wrong, with which value, and what to do; they never
contain a secret or a token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

__all__ = [
    "AccountLockedError",
    "ActionForbiddenError",
    "AlertDeliveryError",
    "ApiKeyError",
    "ApiKeyExpiredError",
    "ApiKeyMalformedError",
    "ApiKeyRevokedError",
    "ApiKeySecretMismatchError",
    "ApiKeyTierUnknownError",
    "ApiKeyUnavailableError",
    "ApiKeyUnknownError",
    "ApiKeysDisabledError",
    "ApprovalRefusedError",
    "AudienceMismatchError",
    "AuditError",
    "AuditUnavailableError",
    "AuthenticationFailedError",
    "BackendError",
    "BodyTooLargeError",
    "BreakglassAddressError",
    "BreakglassSessionOverError",
    "BreakglassTokenError",
    "ChainBrokenError",
    "CheckpointKeyError",
    "ClaimError",
    "ClientGoneError",
    "ClientTimeoutError",
    "ConcurrentChangeError",
    "ConfigError",
    "ConfigTooLargeError",
    "CredentialUnavailableError",
    "DirectoryConflictError",
    "DirectoryError",
    "DirectoryNotFoundError",
    "DisallowedAlgorithmError",
    "ForwardedRequestError",
    "GlassgateError",
    "HeaderTooLargeError",
    "HostRejectedError",
    "IdPUnavailableError",
    "ImportInvalidError",
    "InvalidTransitionError",
    "KeyMismatchError",
    "KeysStaleError",
    "LinkInvalidError",
    "LockoutRefusedError",
    "NotFoundError",
    "PathRejectedError",
    "PermanentDeliveryError",
    "Problem",
    "QuorumNotMetError",
    "RequestExpiredError",
    "RequestRejectedError",
    "RulesInvalidError",
    "SessionAddressError",
    "SessionEndedError",
    "Shortfall",
    "SignInThrottledError",
    "SignatureInvalidError",
    "StepUpRequiredError",
    "StorageUnavailableError",
    "TokenError",
    "TokenExpiredError",
    "TokenMalformedError",
    "TokenNotYetValidError",
    "UnknownKeyError",
    "UnsupportedCodingError",
    "UnsupportedHeaderError",
    "UntranslatableRuleError",
    "UntrustedCallerError",
    "UntrustedIssuerError",
    "UpstreamClosedError",
    "UpstreamError",
    "UpstreamTimeoutError",
    "WorkflowError",
    "WorkflowInputError",
]


class GlassgateError(Exception):
    """Base of every glassgate error; ``code`` is stable and machine-readable."""

    code: ClassVar[str] = "glassgate_error"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a configuration file, located precisely."""

    location: str
    message: str
    hint: str = ""
    file: str = ""
    line: int | None = None

    def render(self) -> str:
        where = self.file or "<config>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        text = f"{where}: {self.location or '<root>'}: {self.message}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text


def _problems_summary(what: str, problems: tuple[Problem, ...]) -> str:
    first = problems[0].render() if problems else "no details"
    return f"{len(problems)} {what} problem(s); first: {first}"


class ConfigError(GlassgateError):
    """The configuration is invalid; ``problems`` lists every problem found."""

    code = "config_invalid"
    what: ClassVar[str] = "configuration"

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(_problems_summary(self.what, self.problems))


class RulesInvalidError(ConfigError):
    """Group rules (a rules file, or one rule's CEL) that cannot be compiled as written."""

    code = "rules_invalid"
    what = "group rule"


class ConfigTooLargeError(ConfigError):
    """Reading stopped: the document has too many nodes or is nested too deeply."""

    code = "config_too_large"


class RequestRejectedError(GlassgateError):
    """Client input that cannot be handled safely; answered with ``status``."""

    code = "request_rejected"
    status: ClassVar[int] = 400


class PathRejectedError(RequestRejectedError):
    """A request path that is ambiguous or malformed (encoded slash, bad UTF-8, ...)."""

    code = "path_rejected"


class HeaderTooLargeError(RequestRejectedError):
    code = "header_too_large"
    status = 431


class UnsupportedCodingError(RequestRejectedError):
    code = "unsupported_transfer_coding"
    status = 501


class ForwardedRequestError(RequestRejectedError):
    code = "forwarded_request_invalid"


class UntrustedCallerError(RequestRejectedError):
    """The caller is not a trusted proxy, so its description of a request is not believed."""

    code = "forward_auth_caller_untrusted"
    status = 403


class SignInThrottledError(RequestRejectedError):
    """Too many sign-in attempts from this address or at this name; the same for every name."""

    code = "sign_in_throttled"
    status = 429

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, int(retry_after + 0.999))
        super().__init__(
            f"too many sign-in attempts: wait {self.retry_after} seconds before trying again"
        )


class BodyTooLargeError(GlassgateError):
    """The client's body exceeds the configured limit while streaming (the proxy answers 413)."""

    code = "payload_too_large"


class ClientTimeoutError(GlassgateError):
    """The client stopped sending its body for longer than the read timeout (answered 408)."""

    code = "request_timeout"


class ClientGoneError(GlassgateError):
    """The client disconnected before the response started: nobody to answer."""

    code = "client_gone"


class HostRejectedError(RequestRejectedError):
    """A ``Host`` (or ``X-Forwarded-Host``) that is not a plain host name, or is repeated."""

    code = "host_rejected"


class TokenError(GlassgateError):
    """A credential that is not valid. Clients only ever see ``invalid_token``."""

    code = "invalid_token"
    detail: ClassVar[str] = "token-invalid"


class TokenMalformedError(TokenError):
    detail = "token-malformed"


class DisallowedAlgorithmError(TokenError):
    detail = "token-algorithm-denied"


class UnsupportedHeaderError(TokenError):
    detail = "token-header-denied"


class UntrustedIssuerError(TokenError):
    detail = "token-issuer-denied"


class UnknownKeyError(TokenError):
    detail = "token-key-missing"


class KeyMismatchError(TokenError):
    detail = "token-key-denied"


class KeysStaleError(TokenError):
    detail = "token-keys-stale"


class SignatureInvalidError(TokenError):
    detail = "token-signature-denied"


class TokenExpiredError(TokenError):
    detail = "token-expired"


class TokenNotYetValidError(TokenError):
    detail = "token-not-yet-valid"


class AudienceMismatchError(TokenError):
    detail = "token-audience-denied"


class ClaimError(TokenError):
    detail = "token-claim-invalid"


class ApiKeyError(TokenError):
    """An API key (``gg_...``) that is not accepted; outward it is ``invalid_token`` too."""

    detail = "api-key-invalid"


class ApiKeyMalformedError(ApiKeyError):
    detail = "api-key-malformed"


class ApiKeyUnknownError(ApiKeyError):
    detail = "api-key-unknown"


class ApiKeySecretMismatchError(ApiKeyError):
    detail = "api-key-secret-denied"


class ApiKeyExpiredError(ApiKeyError):
    detail = "api-key-expired"


class ApiKeyRevokedError(ApiKeyError):
    detail = "api-key-revoked"


class ApiKeyTierUnknownError(ApiKeyError):
    detail = "api-key-tier-unknown"


class ApiKeysDisabledError(ApiKeyError):
    detail = "api-key-disabled"


class BreakglassTokenError(TokenError):
    """A ``ggbg_`` session token refused at the gate: ended, expired, unknown, other address."""

    detail = "breakglass-session-invalid"


class BreakglassSessionOverError(BreakglassTokenError):
    detail = "breakglass-session-ended"


class BreakglassAddressError(BreakglassTokenError):
    detail = "breakglass-session-address"


class DirectoryError(GlassgateError):
    code = "directory_error"


@dataclass(frozen=True, slots=True)
class Shortfall:
    """One protected group that a change would leave under its minimum of active members.

    ``remaining`` are the userNames of the active members the group would keep;
    ``losing`` those the change would take out of it.
    """

    group: str
    minimum: int
    remaining: tuple[str, ...]
    losing: tuple[str, ...]

    def render(self) -> str:
        kept = ", ".join(self.remaining) if self.remaining else "nobody"
        lost = ", ".join(self.losing[:10]) + (" ..." if len(self.losing) > 10 else "")
        return (
            f"protected group '{self.group}' needs at least {self.minimum} active member(s) "
            f"but would keep {len(self.remaining)} ({kept}); it would lose {lost or 'nobody'}"
        )


class LockoutRefusedError(DirectoryError):
    """A directory change refused because a protected group would fall under its minimum.

    Nothing was changed. The message names every group, its minimum and who
    would remain; add members to the group (or lower its minimum in the
    configuration) before retrying.
    """

    code = "lockout_refused"

    def __init__(self, shortfalls: tuple[Shortfall, ...], action: str) -> None:
        if not shortfalls:
            raise ValueError("LockoutRefusedError needs at least one shortfall")
        self.shortfalls = shortfalls
        self.action = action
        details = "; ".join(item.render() for item in shortfalls)
        super().__init__(
            f"refused {action}: {details}. Nothing was changed; give the group more active "
            "members first, or use the break-glass procedure if nobody can sign in"
        )

    @property
    def group(self) -> str:
        return self.shortfalls[0].group

    @property
    def minimum(self) -> int:
        return self.shortfalls[0].minimum

    @property
    def remaining(self) -> tuple[str, ...]:
        return self.shortfalls[0].remaining


class DirectoryConflictError(DirectoryError):
    """A userName or group name already taken, or a version that is no longer current."""

    code = "directory_conflict"


class DirectoryNotFoundError(DirectoryError):
    code = "directory_not_found"


class ImportInvalidError(DirectoryError):
    """An import file that cannot be used; nothing from it was applied."""

    code = "import_invalid"

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(_problems_summary("import", self.problems))


class UntranslatableRuleError(DirectoryError):
    """An Okta Expression Language rule that cannot be translated exactly; ``reason`` says why.

    Imports list such rules and leave them out; they never guess a translation.
    """

    code = "rule_untranslatable"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class AuditError(GlassgateError):
    code = "audit_error"


class AuditUnavailableError(AuditError):
    """The audit record could not be written, so the privileged action did not happen."""

    code = "audit_unavailable"


class ChainBrokenError(AuditError):
    """The audit hash chain or its checkpoints do not verify."""

    code = "chain_broken"

    def __init__(self, index: int, kind: str, message: str) -> None:
        self.index = index
        self.kind = kind
        super().__init__(f"audit chain broken at record {index} ({kind}): {message}")


class CheckpointKeyError(AuditError):
    """The checkpoint key at hand is not the one that signed the log's checkpoints."""

    code = "checkpoint_key_mismatch"


class BackendError(GlassgateError):
    code = "backend_unavailable"


class CredentialUnavailableError(BackendError):
    """A credential could not be checked now: answered 503 with ``Retry-After``, never 401.

    The client's credential may be perfectly good; telling it otherwise would
    make it throw a valid credential away. On an anonymous route the request
    goes on without an identity instead.
    """

    code = "credential_unavailable"
    detail: ClassVar[str] = "credential-check-unavailable"


class IdPUnavailableError(CredentialUnavailableError):
    """Discovery, JWKS or introspection could not be asked (or answered nonsense)."""

    code = "idp_unavailable"
    detail = "idp-unavailable"


class ApiKeyUnavailableError(CredentialUnavailableError):
    """The key store could not be asked; the key is neither trusted blindly nor called bad."""

    code = "api_key_store_unavailable"
    detail = "api-key-store-unavailable"


class StorageUnavailableError(BackendError):
    code = "storage_unavailable"


class AlertDeliveryError(BackendError):
    code = "alert_delivery_failed"


class PermanentDeliveryError(AlertDeliveryError):
    """The receiver refused the batch for good (e.g. HTTP 400): retrying cannot help."""

    code = "alert_rejected"


class UpstreamError(BackendError):
    """The upstream could not be reached or answered with something unusable (502)."""

    code = "upstream_failed"
    status: ClassVar[int] = 502

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent  # whether any byte of the request may have reached the upstream


class UpstreamTimeoutError(UpstreamError):
    """Connecting, or waiting for the response head or the next body bytes, took too long (504)."""

    code = "upstream_timeout"
    status: ClassVar[int] = 504


class UpstreamClosedError(UpstreamError):
    """The upstream closed the connection before sending a single response byte.

    On a reused keep-alive connection this is the race with the upstream's idle
    timeout, so ``reused`` tells the proxy that an idempotent request may be
    replayed on a fresh connection.
    """

    code = "upstream_closed"

    def __init__(self, message: str, *, reused: bool) -> None:
        super().__init__(message, sent=True)
        self.reused = reused


class WorkflowError(GlassgateError):
    """A break-glass or grant step that was refused; nothing changed.

    ``status`` is the HTTP status an API answers with; ``code`` goes in the
    body. Messages never name a secret and, for sign-in, never say which
    factor failed (that is ``AuthenticationFailedError.detail``, for audit).
    """

    code = "workflow_refused"
    status: ClassVar[int] = 409


class WorkflowInputError(WorkflowError):
    code = "invalid_input"
    status = 400


class NotFoundError(WorkflowError):
    code = "not_found"
    status = 404


class InvalidTransitionError(WorkflowError):
    """``action`` is not allowed while the record is in ``state``."""

    code = "invalid_transition"
    status = 409

    def __init__(self, state: str, action: str, message: str = "") -> None:
        self.state = state
        self.action = action
        super().__init__(message or f"cannot {action} while {state}")


class ConcurrentChangeError(WorkflowError):
    code = "concurrent_change"
    status = 409


class ApprovalRefusedError(WorkflowError):
    """An approval or denial that cannot count; ``reason`` is a stable kebab-case word."""

    code = "approval_refused"
    status = 403

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class StepUpRequiredError(ApprovalRefusedError):
    """An approver whose token does not meet the rule's strength or ``max_auth_age``.

    Answered as an RFC 9470 step-up (401, ``insufficient_user_authentication``
    with ``acr_values`` and ``max_age``): sign in again, stronger or anew.
    """

    code = "insufficient_user_authentication"
    status = 401

    def __init__(
        self, reason: str, message: str, acr_values: tuple[str, ...], max_age: int | None
    ) -> None:
        self.acr_values = acr_values
        self.max_age = max_age
        super().__init__(reason, message)


class RequestExpiredError(WorkflowError):
    code = "request_expired"
    status = 410


class QuorumNotMetError(WorkflowError):
    code = "quorum_not_met"
    status = 409


class ActionForbiddenError(WorkflowError):
    code = "forbidden"
    status = 403


class AuthenticationFailedError(WorkflowError):
    """Sign-in refused. Outward always the same sentence; ``detail`` is for the audit log."""

    code = "authentication_failed"
    status = 401

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__("sign-in failed: check the name, password, security key and network")


class AccountLockedError(WorkflowError):
    code = "account_locked"
    status = 423


class LinkInvalidError(WorkflowError):
    """Unknown, expired and used links are one error: a link's fate is not disclosed."""

    code = "link_invalid"
    status = 410

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__("this link is not valid (expired, already used, or unknown)")


class SessionEndedError(WorkflowError):
    code = "session_ended"
    status = 401


class SessionAddressError(WorkflowError):
    code = "session_address_mismatch"
    status = 403
