"""A visitor of a running server over real HTTP, with the standard library alone.

Each Visitor keeps its own cookies (its session) and its form token, and follows no
redirect: a 302 is the answer a test checks. Every request opens a connection of its own, as
separate people do.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.cookiejar import CookieJar

_CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
_VALUE = re.compile(r'value="([^"]*)"')


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    location: str | None


class _KeepRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then hands the 3xx over as it is


class Visitor:
    def __init__(self, base_url: str, timeout: float = 30):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), _KeepRedirects)
        self._csrf_token: str | None = None

    def get(self, path: str) -> Answer:
        return self._send(urllib.request.Request(self.base_url + path))

    def post(self, path: str, data: dict[str, str]) -> Answer:
        """Send a form; with the token of the last form opened (open_form), as a browser does."""
        token = {"csrf_token": self._csrf_token} if self._csrf_token else {}
        body = urllib.parse.urlencode({**token, **data}).encode()
        return self._send(urllib.request.Request(self.base_url + path, data=body, method="POST"))

    def open_form(self, path: str) -> None:
        """Open the page at `path` and keep its form's token for the next posts."""
        page = self.get(path)
        found = _CSRF_INPUT.search(page.body)
        assert page.status == 200 and found, f"no form on {path} ({page.status})"
        value = _VALUE.search(found.group(0))
        assert value, f"no csrf_token value on {path}"
        self._csrf_token = value.group(1)

    def log_in(self, email: str, password: str) -> Answer:
        self.open_form("/login")
        return self.post("/login", {"email": email, "password": password})

    def _send(self, request: urllib.request.Request) -> Answer:
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return Answer(response.status, response.read().decode(), response.headers.get("Location"))
        except urllib.error.HTTPError as error:  # 3xx (not followed), 4xx and 5xx alike
            with error:
                return Answer(error.code, error.read().decode(errors="replace"), error.headers.get("Location"))
