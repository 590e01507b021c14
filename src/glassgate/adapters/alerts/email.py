"""EmailAlertSink: one message per alert over SMTP (``aiosmtplib``).

The subject is ``[glassgate CRITICAL] <summary>``; the body repeats the
summary, the runbook and the details as JSON. ``starttls`` upgrades the
connection before authenticating (a password is never sent in clear unless
the operator turned it off); the server's certificate is always verified,
against ``ca_file`` when given (a private CA). SMTP and network failures become
``AlertDeliveryError``; the password never reaches a message.
"""

from __future__ import annotations

import json
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from glassgate.alerts import Alert, alert_json
from glassgate.errors import AlertDeliveryError
from glassgate.types import Secret

__all__ = ["EmailAlertSink"]


class EmailAlertSink:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        recipients: tuple[str, ...],
        starttls: bool = True,
        username: str | None = None,
        password: Secret | None = None,
        ca_file: str | None = None,
        timeout: float = 5.0,
    ) -> None:
        if not recipients:
            raise ValueError("an email alert sink needs at least one recipient")
        self._host = host
        self._port = port
        self._sender = sender
        self._recipients = recipients
        self._starttls = starttls
        self._username = username
        self._password = password
        self._ca_file = ca_file
        self._timeout = timeout

    @property
    def name(self) -> str:
        return f"email {self._host}:{self._port}"

    def compose(self, alert: Alert) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = ", ".join(self._recipients)
        message["Subject"] = f"[glassgate {alert.severity.value.upper()}] {alert.summary}"
        message["Date"] = formatdate(alert.at, usegmt=True)
        message["Message-ID"] = make_msgid(domain="glassgate.invalid")
        lines = [alert.summary, "", f"kind: {alert.kind}"]
        if alert.runbook:
            lines.append(f"runbook: {alert.runbook}")
        lines += ["", json.dumps(alert_json(alert), indent=2, sort_keys=True)]
        message.set_content("\n".join(lines) + "\n")
        return message

    async def deliver(self, alert: Alert) -> None:
        # One connection per alert, always closed: a failed STARTTLS must not leak it.
        smtp = aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            username=self._username,
            password=None if self._password is None else self._password.reveal(),
            start_tls=self._starttls,
            timeout=self._timeout,
            cert_bundle=self._ca_file,
        )
        try:
            await smtp.connect()
            await smtp.send_message(self.compose(alert))
            await smtp.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise AlertDeliveryError(
                f"{self.name} did not accept the alert: {type(exc).__name__}"
            ) from exc
        finally:
            smtp.close()

    async def close(self) -> None:
        """One connection per alert: nothing stays open."""
