"""Console sign-in through the IdP: the OIDC code flow with PKCE, state and nonce (issue 13).

``begin`` stores a one-time login record keyed by a random ``state``, holding
the ``nonce``, the PKCE verifier (S256; RFC 7636) and a digest of a random
*binding* that the browser keeps in a cookie, and returns the IdP's
authorization URL. ``finish`` accepts the callback only when the state is
known, unused, unexpired and bound to this browser; it marks the record used
in the same versioned write (a replayed callback finds it used), exchanges
the code (the IdP refuses a code twice, and without the verifier), and
verifies the ID token with the gate's keys (``tokens.id_tokens``). The result
is a console session (``ggid_`` bearer token, only its digest stored) that
says who signed in, with the groups, ``amr``/``acr`` and ``auth_time`` of the
ID token: what grant requests and approvals need.

Sign-ins and sign-outs are audited (``console.idp.*``), the sign-in before
the session is saved: no audit, no session. Refusals are audited best effort.
Break-glass and custodian sign-in do not pass through here: they stay local
and work with the IdP down.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from glassgate.audit.records import AuditEvent
from glassgate.errors import (
    AuditUnavailableError,
    AuthenticationFailedError,
    TokenError,
    WorkflowError,
)
from glassgate.ports import AuditAppender, OidcCodeClient
from glassgate.tokens.id_tokens import IdTokenVerifier
from glassgate.tokens.keyring import KeyRing
from glassgate.types import Clock, Secret
from glassgate.workflows import bearer
from glassgate.workflows.idp_sessions import IdpLogin, IdpSession
from glassgate.workflows.records import Change, Records

__all__ = ["IDP_PREFIX", "IdpSignIn", "LoginStart"]

IDP_PREFIX = "ggid_"
LOGIN_TTL = 600.0
_MAX_STATE = 128

_log = logging.getLogger("glassgate.console")


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class LoginStart:
    """Where to send the browser, and the binding it must keep (an HttpOnly cookie)."""

    url: str
    binding: Secret


class IdpSignIn:
    def __init__(
        self,
        client: OidcCodeClient,
        verifier: IdTokenVerifier,
        keyrings: Callable[[], Mapping[str, KeyRing]],
        records: Records,
        audit: AuditAppender,
        clock: Clock,
        session_ttl: float,
    ) -> None:
        self._client = client
        self._verifier = verifier
        self._keyrings = keyrings
        self._records = records
        self._audit = audit
        self._clock = clock
        self._ttl = session_ttl

    async def begin(self) -> LoginStart:
        """A new login record and the authorization URL (``IdPUnavailableError``: IdP down)."""
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        verifier, binding = secrets.token_urlsafe(48), secrets.token_urlsafe(32)
        url = await self._client.authorization_url(state, nonce, verifier)
        login = IdpLogin(state, nonce, verifier, _digest(binding), self._clock() + LOGIN_TTL)
        await self._records.commit(Change(login))
        return LoginStart(url, Secret(binding))

    async def finish(self, state: str, code: str, binding: str | None) -> tuple[IdpSession, Secret]:
        """The callback: a session and its bearer token, or ``AuthenticationFailedError``."""
        try:
            return await self._finish(state, code, binding)
        except (TokenError, WorkflowError) as exc:
            await self._refused(exc)
            if isinstance(exc, AuthenticationFailedError):
                raise
            raise AuthenticationFailedError(getattr(exc, "detail", exc.code)) from None

    async def _finish(
        self, state: str, code: str, binding: str | None
    ) -> tuple[IdpSession, Secret]:
        now = self._clock()
        if not state or len(state) > _MAX_STATE or not code or len(code) > 2048:
            raise AuthenticationFailedError("state-or-code-missing")
        stored = await self._records.get(IdpLogin, state)
        if stored is None:
            raise AuthenticationFailedError("state-unknown")
        login = stored.value
        if login.used or now >= login.expires_at:
            raise AuthenticationFailedError("state-used-or-expired")
        if binding is None or not hmac.compare_digest(login.binding, _digest(binding)):
            raise AuthenticationFailedError("state-not-bound-to-this-browser")
        await self._records.commit(Change(replace(login, used=True), stored.version))
        raw = await self._client.exchange(code, login.verifier)
        principal = self._verifier.verify(raw, self._keyrings(), now, login.nonce)
        minted = bearer.mint(IDP_PREFIX)
        session = IdpSession(
            minted.id,
            minted.digest,
            principal.issuer,
            principal.subject,
            principal.groups,
            principal.amr,
            principal.acr,
            principal.auth_time,
            now,
            now + self._ttl,
        )
        await self._audit.append(self._event("signed-in", session, "ok"))
        await self._records.commit(Change(session))
        return session, minted.token

    async def session(self, raw: str) -> IdpSession:
        """The live session of a ``ggid_`` token, or ``AuthenticationFailedError``."""
        parsed = bearer.parse(IDP_PREFIX, raw)
        found = None if parsed is None else await self._records.get(IdpSession, parsed[0])
        if parsed is None or found is None:
            raise AuthenticationFailedError("session-unknown")
        session = found.value
        if not bearer.digest_matches(session.secret_hash, parsed[1]):
            raise AuthenticationFailedError("session-unknown")
        if session.ended_at is not None or self._clock() >= session.expires_at:
            raise AuthenticationFailedError("session-ended")
        return session

    async def sign_out(self, raw: str) -> None:
        parsed = bearer.parse(IDP_PREFIX, raw)
        found = None if parsed is None else await self._records.get(IdpSession, parsed[0])
        if found is None or found.value.ended_at is not None:
            return
        session = found.value
        if parsed is None or not bearer.digest_matches(session.secret_hash, parsed[1]):
            return
        await self._audit.append(self._event("signed-out", session, "ok"))
        ended = replace(session, ended_at=self._clock())
        await self._records.commit(Change(ended, found.version))

    def _event(self, name: str, session: IdpSession, outcome: str) -> AuditEvent:
        details = {"issuer": session.issuer, "session_id": session.id}
        return AuditEvent(
            type=f"console.idp.{name}",
            outcome=outcome,
            at=self._clock(),
            subject=session.subject,
            actor=session.subject,
            privileged=True,
            details=details,
        )

    async def _refused(self, exc: GlassgateErrorLike) -> None:
        detail = getattr(exc, "detail", None) or exc.code
        event = AuditEvent(
            type="console.idp.signed-in",
            outcome="refused",
            at=self._clock(),
            privileged=True,
            details={"error": exc.code, "detail": str(detail)[:64]},
        )
        try:
            await self._audit.append(event)
        except AuditUnavailableError:
            _log.error("a refused IdP sign-in could not be audited")


GlassgateErrorLike = TokenError | WorkflowError
