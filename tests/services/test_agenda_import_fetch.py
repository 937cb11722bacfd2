"""Fetching a partner's address: public http(s) servers only, the address checked is the address
connected to, one deadline for the whole download, and one bad source never stops the others.

The servers are real ones the tests start on 127.0.0.1: the import refuses loopback unless the
test setting AGENDA_IMPORT_ALLOW_LOOPBACK allows it, which is what the first test proves.
"""

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from app import jobs
from app.models import AgendaEvent, AgendaSource
from app.services import agenda_import
from tests.factories import NOW
from tests.services.test_agenda_import_bounds import AFTER_THE_STORM, STORM, calendar, event

GOOD = calendar(event("cafe@p", ":20270310T180000Z", "DTEND:20270310T200000Z", summary="Café des sciences"))
DRIP_SECONDS = 1.0  # a byte a second: no single read ever waits long


@dataclass
class Served:
    """What the partner's server under test saw and did."""

    requests: int = 0
    hosts: list[str] = field(default_factory=list)
    sent: int = 0
    hung_up: threading.Event = field(default_factory=threading.Event)


@dataclass
class Partner:
    port: int
    routes: dict[str, Callable[[BaseHTTPRequestHandler], None]]
    served: Served
    stop: threading.Event

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
def partner(monkeypatch) -> Iterator[Partner]:
    """A real HTTP server on 127.0.0.1, in threads, answering the routes a test gives it."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    routes: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {}
    served, stop = Served(), threading.Event()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            served.requests += 1
            served.hosts.append(self.headers.get("Host", ""))
            try:
                routes[self.path](self)
            except OSError:  # the reader hung up: what the slow routes wait for
                served.hung_up.set()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Partner(port=server.server_address[1], routes=routes, served=served, stop=stop)
    stop.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def loopback(monkeypatch, app):
    """The test setting that lets the import reach the servers the tests start on 127.0.0.1."""
    monkeypatch.setitem(app.config, "AGENDA_IMPORT_ALLOW_LOOPBACK", True)


def answer(body: bytes, status: int = 200, **headers: str) -> Callable[[BaseHTTPRequestHandler], None]:
    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "text/calendar")
        handler.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    return route


def fetch(url: str, seconds: float = 5, loopback: bool = True) -> bytes:
    return agenda_import.fetch(url, limits=agenda_import.ImportLimits(fetch_seconds=seconds, allow_loopback=loopback))


def source_at(session, url: str, name: str = "Partenaire") -> AgendaSource:
    # Written directly: add_source would refuse the addresses these tests need.
    found = AgendaSource(name=name, url=url, trusted=True, departement_code="31")
    session.add(found)
    session.commit()
    return found


def stored(session) -> dict[str, AgendaEvent]:
    session.expire_all()
    return {e.source_uid: e for e in session.scalars(select(AgendaEvent))}


# Where the import may go -------------------------------------------------------------------------


def test_loopback_is_refused_unless_the_test_setting_allows_it(session, ctx, partner, app):
    partner.routes["/agenda.ics"] = answer(GOOD)
    source = source_at(session, partner.url("/agenda.ics"))
    assert app.config["AGENDA_IMPORT_ALLOW_LOOPBACK"] is False  # the default
    report = jobs.import_source(session, ctx(), source=source)
    assert "adresse interne (127.0.0.1)" in report.error
    assert partner.served.requests == 0 and stored(session) == {}
    session.expire_all()
    assert "adresse interne" in session.get(AgendaSource, source.id).last_report


@pytest.fixture
def resolver(monkeypatch):
    """Names the test gives addresses to, as a DNS server would; every lookup of them is counted."""
    real = socket.getaddrinfo
    names: dict[str, list[str]] = {}
    asked: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in names:
            return real(host, port, *args, **kwargs)
        asked.append(host)
        address = names[host][min(len(asked), len(names[host])) - 1]
        if ":" in address:
            return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names, asked


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",  # loopback
        "10.0.0.5",  # private
        "172.16.3.4",
        "192.168.1.10",
        "100.64.0.1",  # shared (carrier-grade NAT)
        "169.254.169.254",  # link-local: the cloud's metadata service
        "0.0.0.0",  # reaches this machine
        "224.0.0.251",  # multicast
        "240.0.0.1",  # reserved
        "::1",
        "fd00:ec2::254",  # unique local: the metadata service over IPv6
        "fe80::1",
        "::ffff:10.0.0.5",  # IPv4 inside IPv6
        "64:ff9b::a00:5",  # NAT64 of 10.0.0.5
        "2002:a00:5::1",  # 6to4 of 10.0.0.5
    ],
)
def test_a_name_that_resolves_to_an_internal_address_is_refused_before_any_connection(resolver, address):
    names, _asked = resolver
    names["partner.example"] = [address]
    with pytest.raises(agenda_import.FetchError, match="adresse interne"):
        fetch("http://partner.example/agenda.ics", loopback=False)


def test_a_name_is_resolved_once_and_the_address_checked_is_the_address_connected_to(partner, resolver):
    names, asked = resolver
    # A second answer would point inside (DNS rebinding): it must never be asked for.
    names["calendar.example"] = ["127.0.0.1", "10.0.0.5"]
    partner.routes["/agenda.ics"] = answer(GOOD)
    assert fetch(partner.url("/agenda.ics", host="calendar.example")) == GOOD
    assert asked == ["calendar.example"]
    assert partner.served.hosts == [f"calendar.example:{partner.port}"]  # the name, for virtual hosts


@pytest.mark.parametrize(
    "location",
    ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/agenda.ics", "http://[fd00::1]:8080/"],
)
def test_a_redirect_to_an_internal_address_is_refused(partner, location):
    partner.routes["/agenda.ics"] = answer(b"", status=302, Location=location)
    with pytest.raises(agenda_import.FetchError, match="adresse interne"):
        fetch(partner.url("/agenda.ics"))
    assert partner.served.requests == 1


def test_redirects_are_followed_a_few_times_only(partner):
    partner.routes["/agenda.ics"] = answer(b"", status=301, Location="/moved.ics")
    partner.routes["/moved.ics"] = answer(GOOD)
    assert fetch(partner.url("/agenda.ics")) == GOOD
    partner.routes["/loop.ics"] = answer(b"", status=302, Location="/loop.ics")
    with pytest.raises(agenda_import.FetchError, match="redirections"):
        fetch(partner.url("/loop.ics"))
    assert partner.served.requests == 2 + agenda_import.MAX_REDIRECTS + 1


# How long and how much -----------------------------------------------------------------------------


def test_a_server_that_never_answers_is_abandoned_at_the_deadline(partner):
    def silent(handler: BaseHTTPRequestHandler) -> None:
        partner.stop.wait(60)  # reads the request, then says nothing

    partner.routes["/agenda.ics"] = silent
    with pytest.raises(agenda_import.FetchError, match="en 1 s"):
        fetch(partner.url("/agenda.ics"), seconds=1)


def test_a_server_that_drips_a_byte_a_second_is_abandoned_at_the_deadline(partner):
    def drip(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/calendar")
        handler.end_headers()
        while not partner.stop.is_set():
            handler.wfile.write(b"B")
            partner.served.sent += 1
            partner.stop.wait(DRIP_SECONDS)

    partner.routes["/agenda.ics"] = drip
    # Every read gets its byte well within any per-read timeout: only a deadline for the whole stops it.
    with pytest.raises(agenda_import.FetchError, match="en 3 s"):
        fetch(partner.url("/agenda.ics"), seconds=2.5)
    assert partner.served.hung_up.wait(10)
    assert partner.served.sent >= 2  # it did send, slowly


def test_a_server_that_drips_its_headers_is_abandoned_at_the_deadline(partner):
    def drip_headers(handler: BaseHTTPRequestHandler) -> None:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        while not partner.stop.is_set():
            handler.wfile.write(b"a")
            partner.stop.wait(DRIP_SECONDS / 4)

    partner.routes["/agenda.ics"] = drip_headers
    with pytest.raises(agenda_import.FetchError, match="en 2 s"):
        fetch(partner.url("/agenda.ics"), seconds=2)
    assert partner.served.hung_up.wait(10)


def test_a_server_that_streams_for_ever_is_cut_at_the_size_cap(partner):
    def flood(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/calendar")
        handler.end_headers()  # no length: only the reader's own limit can stop it
        chunk = b"BEGIN:VCALENDAR\r\n" + b"X" * 65_000 + b"\r\n"
        while True:
            handler.wfile.write(chunk)
            partner.served.sent += len(chunk)

    partner.routes["/agenda.ics"] = flood
    with pytest.raises(agenda_import.FetchError, match="trop volumineux"):
        fetch(partner.url("/agenda.ics"))
    assert partner.served.hung_up.wait(10)
    assert partner.served.sent < 16 * agenda_import.MAX_BYTES  # what the sockets could hold, no more


# The daily import ------------------------------------------------------------------------------------


def test_one_source_failing_in_any_way_never_stops_the_others(session, app, partner, loopback, monkeypatch, clock):
    clock(NOW)
    monkeypatch.setitem(app.config, "AGENDA_IMPORT_TIMEOUT", 1.5)

    def silent(handler: BaseHTTPRequestHandler) -> None:
        partner.stop.wait(60)

    partner.routes["/silent.ics"] = silent
    partner.routes["/storm.ics"] = answer(calendar(STORM, *AFTER_THE_STORM))
    partner.routes["/good.ics"] = answer(GOOD)
    original_store = agenda_import.store

    def store(session, ctx, *, source, occurrences):
        if source.name == "Cassée":
            raise RuntimeError("a bug in storing")
        return original_store(session, ctx, source=source, occurrences=occurrences)

    monkeypatch.setattr(agenda_import, "store", store)
    source_at(session, partner.url("/silent.ics"), name="Muette")
    source_at(session, "http://10.0.0.5/agenda.ics", name="Interne")
    source_at(session, partner.url("/good.ics"), name="Cassée")
    source_at(session, partner.url("/storm.ics"), name="Tempête")
    source_at(session, partner.url("/good.ics"), name="Bonne")

    reports = jobs.import_agenda(app)

    assert "en 2 s" in reports["Muette"].error  # 1.5 s, rounded up
    assert "adresse interne" in reports["Interne"].error
    assert "Erreur inattendue" in reports["Cassée"].error
    # The hostile recurrence, read apart: the runaway series clipped, the rest of its file in.
    storm = reports["Tempête"]
    assert storm.error is None and storm.created == agenda_import.MAX_OCCURRENCES + 5
    assert any("Chaque seconde" in line for line in storm.skipped)
    assert reports["Bonne"].error is None and reports["Bonne"].created == 1
    session.expire_all()
    recorded = {s.name: agenda_import.load_report(s) for s in session.scalars(select(AgendaSource))}
    assert {name: report.error is None for name, report in recorded.items()} == {
        "Muette": False,
        "Interne": False,
        "Cassée": False,
        "Tempête": True,
        "Bonne": True,
    }
