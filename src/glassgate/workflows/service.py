"""BreakglassService: the one API of break-glass access, for the console, the CLI and the gate.

It composes the workflow services (enrolment, sign-in, activation, sessions,
aftercare) over one ``Recorder`` (load → transition → audit durably → save →
alert). Inputs are plain values: names, the client address as the data
plane determines it (``trusted_proxies`` already applied), the WebAuthn JSON
the browser posts (``credential.toJSON()``), ``Secret`` passwords. Results are
frozen values (``views``). Errors are ``WorkflowError`` subclasses with a
stable ``code`` and an HTTP ``status``; ``AuditUnavailableError`` and
``AlertDeliveryError`` (503) mean nothing happened.
"""

from __future__ import annotations

from glassgate.ports import Alerts, AuditAppender, Ceremonies, Passwords, WorkflowStore
from glassgate.store_runner import StoreRunner
from glassgate.types import Clock
from glassgate.workflows.activation import Activations
from glassgate.workflows.aftercare import Aftercare
from glassgate.workflows.enrolment import Enrolment
from glassgate.workflows.policy import BreakglassPolicy
from glassgate.workflows.recorder import Recorder
from glassgate.workflows.records import Records
from glassgate.workflows.session_control import SessionControl
from glassgate.workflows.signin import SignIn

__all__ = ["BreakglassService"]


class BreakglassService:
    """``enrolment``, ``sign_in``, ``activations``, ``sessions`` and ``aftercare``.

    One per configuration: the policy is frozen into it, and a reload that
    changes the policy builds a new service. The store and its runner belong
    to the caller, who closes them.
    """

    def __init__(
        self,
        policy: BreakglassPolicy,
        store: WorkflowStore,
        audit: AuditAppender,
        alerts: Alerts,
        passwords: Passwords,
        ceremonies: Ceremonies,
        clock: Clock,
        runner: StoreRunner,
    ) -> None:
        self.policy = policy
        self.records = Records(store, runner)
        recorder = Recorder(
            self.records,
            audit,
            alerts,
            clock,
            alerts_required=policy.alerts_required,
            runbook=policy.runbook,
        )
        self.enrolment = Enrolment(recorder, policy, passwords, ceremonies)
        self.sign_in = SignIn(recorder, policy, passwords, ceremonies)
        self.activations = Activations(recorder, policy, ceremonies)
        self.sessions = SessionControl(recorder, policy)
        self.aftercare = Aftercare(recorder, policy)
