"""CredentialRouter: every bearer credential to the authenticator that owns its kind.

A credential that starts with ``gg_`` (any case) goes to the API-key
authenticator (``api_keys.ApiKeyAuthenticator``), everything else, untouched,
to the IdP ``Authenticator``. A key therefore never reaches JWS parsing or an
IdP's introspection endpoint; with API keys disabled it is refused outright.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from glassgate.errors import ApiKeysDisabledError
from glassgate.tokens.api_keys import is_api_key

if TYPE_CHECKING:
    from glassgate.core.principal import Principal
    from glassgate.ports import Authenticates

__all__ = ["CredentialRouter"]


class CredentialRouter:
    """``gg_`` credentials to the API-key authenticator, all others to the IdP one."""

    def __init__(self, idp: Authenticates, api_keys: Authenticates | None) -> None:
        self._idp = idp
        self._api_keys = api_keys

    async def authenticate(self, raw: str, now: float) -> Principal:
        if is_api_key(raw):
            if self._api_keys is None:
                raise ApiKeysDisabledError("API keys are not enabled (api_keys.enabled)")
            return await self._api_keys.authenticate(raw, now)
        return await self._idp.authenticate(raw, now)
