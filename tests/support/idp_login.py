"""Driving the console's IdP sign-in without a browser: the redirects, the IdP's
development login form, and the cookies (kept by hand: they are ``Secure`` and
the tests speak plain HTTP to 127.0.0.1).
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field

import httpx

__all__ = ["Browser", "cookies_of", "idp_authorize"]


def cookies_of(response: httpx.Response) -> dict[str, str]:
    found: dict[str, str] = {}
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        found[name.strip()] = rest.split(";", 1)[0]
    return found


def idp_authorize(url: str, login: str) -> str:
    """Sign in at the IdP as ``login`` and consent; the callback URL it redirects to."""
    with httpx.Client(follow_redirects=False, timeout=15) as idp:
        response = idp.get(url)
        while True:
            if response.status_code in (302, 303):
                location = urllib.parse.urljoin(str(response.url), response.headers["location"])
                if "/sign-in/idp/callback" in location:
                    return location
                response = idp.get(location)
                continue
            action = re.search(r'action="([^"]+)"', response.text)
            prompt = re.search(r'name="prompt" value="([^"]+)"', response.text)
            if action is None or prompt is None:
                raise AssertionError(f"unexpected IdP page {response.status_code}: {response.text}")
            form = {"prompt": prompt.group(1), "login": login, "password": "any"}
            response = idp.post(urllib.parse.urljoin(str(response.url), action.group(1)), data=form)


@dataclass
class Browser:
    """One browser's cookies for the console (``gg_idp_login``, ``gg_idp``, ``gg_csrf``)."""

    console: str
    jar: dict[str, str] = field(default_factory=dict)

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.jar:
            headers["cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items() if v)
        return headers

    def get(self, url: str) -> httpx.Response:
        target = url if url.startswith("http") else f"http://{self.console}{url}"
        response = httpx.get(target, headers=self._headers(), timeout=15)
        self.jar.update(cookies_of(response))
        return response

    def post(self, path: str, json: object, csrf: bool = True) -> httpx.Response:
        extra = {"x-csrftoken": self.jar.get("gg_csrf", "")} if csrf else {}
        response = httpx.post(
            f"http://{self.console}{path}", json=json, headers=self._headers(extra), timeout=15
        )
        self.jar.update(cookies_of(response))
        return response

    def begin(self) -> str:
        """``/sign-in/idp``: the IdP URL it redirects to."""
        started = self.get("/sign-in/idp")
        assert started.status_code == 303, started.text
        return started.headers["location"]

    def sign_in(self, login: str) -> httpx.Response:
        return self.get(idp_authorize(self.begin(), login))
