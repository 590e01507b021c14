"""Alert sinks against real receivers on loopback: SMTP (aiosmtpd), syslog, a webhook."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Awaitable, Callable
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from glassgate.adapters.alerts import (
    AlertFanout,
    EmailAlertSink,
    SyslogAlertSink,
    WebhookAlertSink,
    build_alerts,
)
from glassgate.alerts import Alert, Severity
from glassgate.config.alerts import AlertsConfig
from glassgate.errors import AlertDeliveryError
from glassgate.types import Secret
from tests.support.receivers import (
    TcpSyslogReceiver,
    UdpSyslogReceiver,
    WebhookReceiver,
    check_signature,
)
from tests.support.tls import make_local_certificate

SECRET = Secret("alert-hook-secret")
ALERT = Alert(
    kind="breakglass.activation.approved",
    severity=Severity.CRITICAL,
    summary="break-glass account okta-recovery activated (INC-7)",
    at=1_790_000_000.0,
    details={"account": "okta-recovery", "request_id": "R1"},
    runbook="README.md#break-glass-at-2-am",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(body: Callable[[], Awaitable[None]]) -> None:
    async def run_then_settle() -> None:
        try:
            await asyncio.wait_for(body(), 30)
        finally:
            # A connection closed just now (a refused STARTTLS) finishes closing on the
            # loop's next turns: ending the loop first left its transport unclosed, and
            # the ResourceWarning failed whichever later test the collector ran in.
            await asyncio.sleep(0.1)

    asyncio.run(run_then_settle())


class Mailbox:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 OK"


class _Authenticator:
    def __init__(self, user: str, password: str) -> None:
        self.logins: list[bytes] = []
        self._expected = (user.encode(), password.encode())

    def __call__(
        self, server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            self.logins.append(data.login)
            if (data.login, data.password) == self._expected:
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


def _smtp(mailbox: Mailbox, **kwargs: Any) -> Controller:
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port(), **kwargs)
    controller.start()
    return controller


def test_email_alert_reaches_a_real_smtp_receiver() -> None:
    mailbox = Mailbox()
    controller = _smtp(mailbox)
    try:
        sink = EmailAlertSink(
            "127.0.0.1",
            controller.port,
            sender="glassgate@example.com",
            recipients=("oncall@example.com", "sec@example.com"),
            starttls=False,
        )
        _run(lambda: sink.deliver(ALERT))
    finally:
        controller.stop()
    (envelope,) = mailbox.envelopes
    assert envelope.rcpt_tos == ["oncall@example.com", "sec@example.com"]
    message = message_from_bytes(envelope.content, policy=policy.default)  # type: ignore[arg-type]
    assert str(message["Subject"]).strip() == f"[glassgate CRITICAL] {ALERT.summary}"
    text = message.get_content()  # type: ignore[attr-defined]
    assert "README.md#break-glass-at-2-am" in text
    assert '"request_id": "R1"' in text


def test_email_alert_upgrades_with_starttls_and_authenticates(tmp_path: Path) -> None:
    cert = make_local_certificate(tmp_path)
    mailbox = Mailbox()
    auth = _Authenticator("glassgate", "smtp-pass-123")
    controller = _smtp(
        mailbox,
        tls_context=cert.server_context(),
        require_starttls=True,
        authenticator=auth,
        auth_required=True,
        server_hostname="localhost",
    )
    try:
        sink = EmailAlertSink(
            "localhost",
            controller.port,
            sender="glassgate@example.com",
            recipients=("oncall@example.com",),
            username="glassgate",
            password=Secret("smtp-pass-123"),
            ca_file=str(cert.cert_file),
        )
        _run(lambda: sink.deliver(ALERT))
        wrong = EmailAlertSink(
            "localhost",
            controller.port,
            sender="glassgate@example.com",
            recipients=("oncall@example.com",),
            username="glassgate",
            password=Secret("not-the-password"),
            ca_file=str(cert.cert_file),
        )
        with pytest.raises(AlertDeliveryError) as refused:
            _run(lambda: wrong.deliver(ALERT))
        untrusted = EmailAlertSink(
            "localhost",
            controller.port,
            sender="glassgate@example.com",
            recipients=("oncall@example.com",),
        )
        with pytest.raises(AlertDeliveryError):
            _run(lambda: untrusted.deliver(ALERT))  # self-signed: not trusted without ca_file
    finally:
        controller.stop()
    assert len(mailbox.envelopes) == 1
    assert auth.logins
    assert set(auth.logins) == {b"glassgate"}
    assert "not-the-password" not in str(refused.value)


def test_webhook_alert_is_signed_like_the_audit_webhook() -> None:
    async def body() -> None:
        receiver = WebhookReceiver()
        url = await receiver.start()
        sink = WebhookAlertSink(url, SECRET, clock=time.time)
        await sink.deliver(ALERT)
        await sink.close()
        await receiver.stop()
        ((headers, payload),) = receiver.requests
        check_signature(headers, payload, SECRET)
        sent = json.loads(payload)["alert"]
        assert sent["kind"] == ALERT.kind
        assert sent["severity"] == "critical"
        assert sent["details"] == {"account": "okta-recovery", "request_id": "R1"}

    _run(body)


def test_webhook_alert_refused_status_is_a_delivery_error() -> None:
    async def body() -> None:
        receiver = WebhookReceiver(statuses=[500])
        url = await receiver.start()
        sink = WebhookAlertSink(url, SECRET, clock=time.time)
        with pytest.raises(AlertDeliveryError):
            await sink.deliver(ALERT)
        await sink.close()
        await receiver.stop()

    _run(body)


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_syslog_alert_is_one_rfc5424_message(transport: str) -> None:
    async def body() -> None:
        if transport == "tcp":
            tcp = TcpSyslogReceiver()
            port = await tcp.start()
            messages = tcp.messages
        else:
            loop = asyncio.get_running_loop()
            udp_transport, udp = await loop.create_datagram_endpoint(
                UdpSyslogReceiver, local_addr=("127.0.0.1", 0)
            )
            port = udp_transport.get_extra_info("sockname")[1]
            messages = udp.messages
        sink = SyslogAlertSink("127.0.0.1", port, transport=transport, hostname="gw-1")  # type: ignore[arg-type]
        await sink.deliver(ALERT)
        deadline = time.monotonic() + 5
        while not messages and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await sink.close()
        if transport == "tcp":
            await tcp.stop()
        else:
            udp_transport.close()
        (message,) = messages
        assert message.startswith(b"<81>1 2026-09-21T")  # authpriv (10) * 8 + alert (1)
        assert b" gw-1 glassgate - breakglass.activation.approved [glassgate@32473 " in message
        assert json.loads(message.split(b"\xef\xbb\xbf", 1)[1])["summary"] == ALERT.summary

    _run(body)


def test_fanout_required_needs_one_sink_to_accept() -> None:
    async def body() -> None:
        receiver = WebhookReceiver(statuses=[503, 200])
        url = await receiver.start()
        dead_port = _free_port()
        config = AlertsConfig.model_validate(
            {
                "timeout": "2s",
                "sinks": [
                    {"type": "webhook", "url": url, "secret": SECRET.reveal()},
                    {"type": "syslog", "host": "127.0.0.1", "port": dead_port},
                ],
            }
        )
        alerts = build_alerts(config, clock=time.time)
        with pytest.raises(AlertDeliveryError, match=r"alerts\.required"):
            await alerts.send(ALERT, required=True)  # webhook 503, syslog refused
        await alerts.send(ALERT, required=True)  # webhook 200 now
        await alerts.send(ALERT)  # not required: never raises, whatever happens
        assert alerts.counters.delivered == 2
        assert alerts.counters.unheard == 1
        await alerts.close()
        await receiver.stop()

    _run(body)


def test_fanout_without_sinks_refuses_required_alerts(caplog: pytest.LogCaptureFixture) -> None:
    alerts = AlertFanout([])
    with pytest.raises(AlertDeliveryError, match="no alert sink is configured"):
        _run(lambda: alerts.send(ALERT, required=True))
    caplog.clear()
    with caplog.at_level("ERROR", logger="glassgate.alerts"):
        _run(lambda: alerts.send(ALERT))
    # unheard, the log is its only trace: what happened and where the procedure is
    (line,) = [r.getMessage() for r in caplog.records if r.name == "glassgate.alerts"]
    assert ALERT.summary in line
    assert "README.md#break-glass-at-2-am" in line


def test_fanout_bounds_a_sink_that_never_answers() -> None:
    class Stuck:
        name = "stuck"

        async def deliver(self, alert: Alert) -> None:
            await asyncio.sleep(3600)

    class Quick:
        name = "quick"

        def __init__(self) -> None:
            self.got: list[Alert] = []

        async def deliver(self, alert: Alert) -> None:
            self.got.append(alert)

    quick = Quick()
    alerts = AlertFanout([Stuck(), quick], timeout=0.05)
    _run(lambda: alerts.send(ALERT, required=True))
    assert quick.got == [ALERT]
    assert alerts.counters.failed == 1
