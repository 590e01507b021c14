"""The console's IdP sign-in in a gateway process: client, ID-token verifier, store.

Built by the composition root when ``console.oidc`` is set. The ID token is
verified with the serving state's key rings (the gate's), so the sign-in
trusts exactly the keys the data plane trusts, and follows key rotation.
"""

from __future__ import annotations

from dataclasses import dataclass

from glassgate.adapters.idp.oidc_client import AuthlibCodeClient
from glassgate.adapters.storage.target import StorageTarget
from glassgate.adapters.storage.workflows import open_workflow_store
from glassgate.app.runtime import Runtime
from glassgate.app.state import StateHolder
from glassgate.config.schema import Config, ConsoleOidcConfig
from glassgate.ports import AuditAppender, WorkflowStore
from glassgate.store_runner import StoreRunner
from glassgate.tokens.id_tokens import IdTokenVerifier
from glassgate.tokens.issuers import IssuerPolicy
from glassgate.types import Secret
from glassgate.workflows.idp_signin import IdpSignIn
from glassgate.workflows.records import Records

__all__ = ["IdpSignInParts", "open_idp_sign_in"]


@dataclass
class IdpSignInParts:
    service: IdpSignIn
    store: WorkflowStore
    runner: StoreRunner

    def close(self) -> None:
        self.store.close()
        self.runner.close()


def open_idp_sign_in(
    config: Config,
    oidc: ConsoleOidcConfig,
    holder: StateHolder,
    runtime: Runtime,
    audit: AuditAppender,
) -> IdpSignInParts:
    issuer = next(i for i in config.issuers if i.id == oidc.issuer)  # checked at load
    client = AuthlibCodeClient(
        runtime.idp_client(),
        issuer.issuer,
        issuer.discovery_url,
        oidc.client_id,
        Secret(oidc.client_secret.get_secret_value()),
        oidc.redirect_uri,
        oidc.scopes,
    )
    verifier = IdTokenVerifier(IssuerPolicy.from_config(issuer), oidc.client_id)
    target = StorageTarget.from_config(config.storage)
    store = open_workflow_store(target, migrate=config.storage.auto_migrate)
    runner = StoreRunner("idp-sign-in")
    service = IdpSignIn(
        client,
        verifier,
        lambda: holder.state.authenticator.keys.keyrings,
        Records(store, runner),
        audit,
        runtime.clock,
        oidc.session_ttl,
    )
    return IdpSignInParts(service, store, runner)
