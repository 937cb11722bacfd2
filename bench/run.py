"""Benchmark: La Malle under gunicorn, against a minimal Flask app under the same gunicorn, driven by wrk.

    make bench                                # SQLite in a temporary folder, scale 0.1 (100,000 bookings)
    make bench DB=postgres                    # PostgreSQL: database `bench` on 127.0.0.1, dropped and made again
    make bench SCALE=1 DURATION=5             # 1,000,000 bookings; 5-second runs while developing
    python -m bench.run --help

Each pass migrates a fresh database, loads `flask seed-bench --scale N` into it, serves the app
(bench/serve.py) and the floor (bench/floor.py) with bench/gunicorn.conf.py, and for each
endpoint runs wrk: a warm-up, then the endpoint and the floor back to back, so that the ratio
compares with the floor of the same moment. A second, shorter pass at a tenth of the scale
gives `scaling`: each endpoint's p50 at the scale over its p50 at scale/10.

Results: a table on stdout and bench/results/<date>-<db>.json. Figures depend on the machine and
on what else it runs; the tests never assert them.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "bench"
RESULTS = HERE / "results"
WRK_READ = HERE / "wrk" / "read.lua"
WRK_BOOK = HERE / "wrk" / "book.lua"

POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
POSTGRES_DATABASE = "bench"  # dropped and made again by every run: never a database that matters
ZONE = ZoneInfo("Europe/Paris")
USER_AGENT = "la-malle-bench"  # the login and wrk send the same one: Flask-Login's strong protection
BOOKING_CATEGORY = "kit-communication"  # approved at once, no per-member limit, booked a year ahead
SLOTS = 30_000


@dataclass(frozen=True)
class Endpoint:
    name: str
    label: str
    expected: int = 200
    booking: bool = False


# In the order of the report; the addresses are found in the seeded data (`targets`).
ENDPOINTS = (
    Endpoint("home", "home"),
    Endpoint("catalogue", "catalogue, one category in one département"),
    Endpoint("catalogue-free", 'catalogue "free between"'),
    Endpoint("calendar", "resource month"),
    Endpoint("week", "département week"),
    Endpoint("availability", "availability API"),
    Endpoint("feed-personal", "personal feed (200 bookings)"),
    Endpoint("feed-resource", "resource feed"),
    Endpoint("feed-departement", "département feed"),
    Endpoint("agenda", "agenda month"),
    Endpoint("trainings", "trainings"),
    Endpoint("booking", "booking creation (form, each on a free slot)", expected=302, booking=True),
)
FLOOR = Endpoint("floor", 'Flask "ok"')


@dataclass(frozen=True)
class Measure:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    failed: int


@dataclass
class Pass:
    scale: float
    results: dict[str, Measure]
    floors: dict[str, Measure]
    notes: list[str]


# Setting up ------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    """Debian's wrk, installed when missing (as root; otherwise say how)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit("wrk is missing: apt-get install wrk (as root), then make bench again.")
    print("Installing wrk (Debian package)…", flush=True)

    def apt_get(*args: str) -> bool:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        return subprocess.run(["apt-get", *args], stdout=subprocess.DEVNULL, env=env).returncode == 0

    if not apt_get("install", "-y", "-qq", "wrk"):
        apt_get("update", "-qq")
        apt_get("install", "-y", "-qq", "wrk")
    found = shutil.which("wrk")
    if not found:
        sys.exit("wrk could not be installed.")
    return found


def fresh_database(db: str, folder: Path) -> str:
    if db == "sqlite":
        path = folder / "bench.sqlite3"
        for leftover in folder.glob("bench.sqlite3*"):
            leftover.unlink()
        return f"sqlite:///{path}"
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {POSTGRES_DATABASE}")
    return f"{POSTGRES_SERVER}/{POSTGRES_DATABASE}"


def flask(env: dict[str, str], *args: str, quiet: bool = False) -> None:
    command = [sys.executable, "-m", "flask", "--app", "bench.serve", *args]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=quiet, text=True)
    if done.returncode:
        sys.exit(f"flask {' '.join(args)} failed:\n{done.stdout or ''}{done.stderr or ''}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(target: str, env: dict[str, str], log: Path) -> Iterator[int]:
    """Serve `target` with the bench's gunicorn configuration; yields the port once it answers."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        str(HERE / "gunicorn.conf.py"),
        "-b",
        f"127.0.0.1:{port}",
        target,
    ]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"gunicorn {target} did not start:\n{log.read_text()[-3000:]}")
            try:
                if fetch(port, "GET", "/")[0] < 500:
                    break
            except OSError:
                time.sleep(0.2)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def fetch(
    port: int, method: str, path: str, body: str | None = None, cookie: str = ""
) -> tuple[int, dict[str, str], str]:
    """One request, redirects not followed."""
    headers = {"User-Agent": USER_AGENT}
    if cookie:
        headers["Cookie"] = cookie
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return (
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            response.read().decode(errors="replace"),
        )
    finally:
        conn.close()


def csrf_token(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page
    )
    if not found:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1)


def session_cookie(headers: dict[str, str], previous: str) -> str:
    found = re.match(r"\s*(session=[^;]*)", headers.get("set-cookie", ""))
    return found.group(1) if found else previous


def log_in(port: int, email: str, password: str, resource_id: int) -> tuple[str, str]:
    """The session cookie of a logged-in member and the CSRF token of the booking form."""
    _status, headers, page = fetch(port, "GET", "/login")
    cookie = session_cookie(headers, "")
    form = urlencode({"email": email, "password": password, "csrf_token": csrf_token(page)})
    status, headers, _page = fetch(port, "POST", "/login", form, cookie)
    if status != 302:
        raise RuntimeError(f"login as {email} answered {status}")
    cookie = session_cookie(headers, cookie)
    _status, headers, page = fetch(port, "GET", f"/bookings/new?resource={resource_id}", cookie=cookie)
    return session_cookie(headers, cookie), csrf_token(page)


# What is measured ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Targets:
    code: str
    resource_id: int
    category_id: int
    feed_email: str
    paths: dict[str, str]
    slots: list[tuple[int, datetime, datetime]]


def targets(url: str, today: date) -> Targets:
    """Real addresses in the seeded data: the département with the most resources, its first
    item, the feed owner; and the free slots the booking run will take."""
    from app.seedbench import FEED_TOKEN

    engine = create_engine(url)
    with engine.connect() as conn:
        code = conn.execute(
            text("SELECT departement_code FROM resources GROUP BY departement_code ORDER BY count(*) DESC, 1 LIMIT 1")
        ).scalar_one()
        resource_id, category_id = conn.execute(
            text(
                "SELECT r.id, r.category_id FROM resources r JOIN categories c ON c.id = r.category_id "
                "WHERE r.departement_code = :code AND c.needs_pickup ORDER BY r.id LIMIT 1"
            ),
            {"code": code},
        ).one()
        email = conn.execute(text("SELECT email FROM users WHERE feed_token = :t"), {"t": FEED_TOKEN}).scalar_one()
        slots = free_slots(conn, today)
    engine.dispose()

    monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
    free = {"free_from": f"{monday + timedelta(days=1)}T09:00", "free_until": f"{monday + timedelta(days=3)}T18:00"}
    month = f"{today:%Y-%m}"
    first = datetime.combine(today.replace(day=1), clock_time(), tzinfo=ZONE)
    after = datetime.combine((today.replace(day=1) + timedelta(days=32)).replace(day=1), clock_time(), tzinfo=ZONE)
    window = urlencode({"start": first.isoformat(), "end": after.isoformat()})
    paths = {
        "home": "/",
        "catalogue": f"/resources?category={category_id}&departement={code}",
        "catalogue-free": "/resources?" + urlencode(free),
        "calendar": f"/resources/{resource_id}?month={month}",
        "week": f"/departements/{code}/week",
        "availability": f"/api/v1/resources/{resource_id}/availability?{window}",
        "feed-personal": f"/feeds/me/{FEED_TOKEN}.ics",
        "feed-resource": f"/feeds/resources/{resource_id}.ics",
        "feed-departement": f"/feeds/departements/{code}.ics",
        "agenda": f"/agenda?view=grid&month={month}",
        "trainings": "/trainings",
        "booking": "/bookings/new",
    }
    return Targets(code, resource_id, category_id, email, paths, slots)


def free_slots(conn: Any, today: date) -> list[tuple[int, datetime, datetime]]:
    """One-hour slots within opening hours, 200 to 360 days ahead, on the items of a category
    booked at once: far beyond the seeded bookings, checked against them all the same."""
    rows = conn.execute(
        text(
            "SELECT r.id, h.weekday, h.opens_at, h.closes_at FROM resources r "
            "JOIN categories c ON c.id = r.category_id JOIN opening_hours h ON h.pickup_point_id = r.pickup_point_id "
            "WHERE c.slug = :slug AND r.retired_at IS NULL ORDER BY r.id, h.weekday, h.opens_at"
        ),
        {"slug": BOOKING_CATEGORY},
    ).all()
    hours: dict[int, dict[int, list[tuple[clock_time, clock_time]]]] = {}
    for rid, weekday, opens, closes in rows:
        as_time = [v if isinstance(v, clock_time) else clock_time.fromisoformat(str(v)[:8]) for v in (opens, closes)]
        hours.setdefault(rid, {}).setdefault(weekday, []).append((as_time[0], as_time[1]))
    start = datetime.combine(today + timedelta(days=200), clock_time(), tzinfo=ZONE)
    taken = {
        rid
        for (rid,) in conn.execute(
            text("SELECT DISTINCT resource_id FROM bookings WHERE held_until > :start"),
            # SQLite holds instants as UTC text (app/models/types.py): compare text with text.
            {"start": f"{start.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f}" if conn.dialect.name == "sqlite" else start},
        )
    }
    slots = []
    for offset in range(200, 360):
        day = today + timedelta(days=offset)
        for hour in range(24):
            for rid, week in hours.items():
                if rid in taken:
                    continue
                for opens, closes in week.get(day.weekday(), []):
                    begin = datetime.combine(day, clock_time(hour), tzinfo=ZONE)
                    end = begin + timedelta(hours=1)
                    if opens <= begin.time() and end.time() <= closes and end.date() == day:
                        slots.append((rid, begin, end))
                if len(slots) >= SLOTS:
                    return slots
    return slots


def write_slots(path: Path, slots: list[tuple[int, datetime, datetime]], token: str) -> None:
    def entry(rid: int, begin: datetime, end: datetime) -> str:
        form = urlencode(
            {
                "starts_at": f"{begin:%Y-%m-%dT%H:%M}",
                "ends_at": f"{end:%Y-%m-%dT%H:%M}",
                "purpose": "Banc d'essai",
                "csrf_token": token,
            }
        )
        return f'{{"/bookings/new?resource={rid}", "{form}"}}'

    path.write_text("return {\n" + ",\n".join(entry(*slot) for slot in slots) + "\n}\n")


# Measuring -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    threads: int
    connections: int


@dataclass(frozen=True)
class Timing:
    """Seconds of each endpoint's run, of its warm-up, and of the floor's run after it (None: no floor)."""

    run: float
    warmup: float
    floor: float | None


def wrk(port: int, endpoint: Endpoint, path: str, seconds: float, load: Load, extra: dict[str, Any]) -> Measure:
    """One wrk run; `extra` carries the booking run's cookie, slots file and first slot."""
    command = ["wrk", f"-t{load.threads}", f"-c{load.connections}", f"-d{max(1, round(seconds))}s", "--timeout", "60s"]
    command += ["-H", f"User-Agent: {USER_AGENT}"]
    if endpoint.booking:
        command += ["-H", f"Cookie: {extra['cookie']}", "-H", "Content-Type: application/x-www-form-urlencoded"]
        command += ["-s", str(WRK_BOOK), f"http://127.0.0.1:{port}/"]
        command += ["--", str(extra["slots"]), str(extra["next"]), str(load.threads)]
    else:
        command += ["-s", str(WRK_READ), f"http://127.0.0.1:{port}{path}", "--", str(endpoint.expected)]
    output = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    line = next((x for x in output.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{output}")
    found = json.loads(line[len("BENCH ") :])
    if endpoint.booking:
        # Each thread may have taken one slot more than it finished.
        extra["next"] += found["requests"] + 2 * load.connections
    failed = found["unexpected"] + sum(found[k] for k in ("connect", "read", "write", "timeout"))
    return Measure(
        rps=found["requests"] / (found["duration_us"] / 1e6),
        p50_ms=found["p50_us"] / 1000,
        p99_ms=found["p99_us"] / 1000,
        requests=found["requests"],
        failed=failed,
    )


def check(port: int, endpoint: Endpoint, path: str, extra: dict[str, Any]) -> str | None:
    """Why the endpoint cannot be measured (an error, no such address), or None."""
    if endpoint.booking:
        rid, begin, end = extra["slot_list"][0]
        form = urlencode(
            {
                "starts_at": f"{begin:%Y-%m-%dT%H:%M}",
                "ends_at": f"{end:%Y-%m-%dT%H:%M}",
                "purpose": "Banc d'essai",
                "csrf_token": extra["token"],
            }
        )
        status, headers, page = fetch(port, "POST", f"/bookings/new?resource={rid}", form, extra["cookie"])
        if status == 302 and "/bookings/" in headers.get("location", ""):
            return None
        shown = re.findall(r'class="[^"]*(?:invalid-feedback|alert)[^"]*"[^>]*>\s*([^<]+)', page)
        return f"the form answered {status}: {'; '.join(s.strip() for s in shown)[:300]}"
    status, _headers, _body = fetch(port, "GET", path)
    if status == endpoint.expected:
        return None
    if endpoint.name == "availability" and status == 404:
        return "skipped: /api/v1 does not exist yet (404)"
    return f"GET {path} answered {status}"


def measure_pass(db: str, scale: float, *, seed: int, timing: Timing, load: Load, folder: Path) -> Pass:
    label = f"scale {scale:g}"
    print(f"\n=== {label}: fresh {db} database, migrations, seed-bench", flush=True)
    url = fresh_database(db, folder)
    env = {
        **os.environ,
        "BENCH_DATABASE_URL": url,
        "BENCH_SECRET_KEY": secrets.token_urlsafe(32),
        "BENCH_CREDENTIALS_KEY": Fernet.generate_key().decode(),
        "PYTHONUNBUFFERED": "1",
    }
    flask(env, "db", "upgrade", quiet=True)
    flask(env, "seed-bench", "--scale", f"{scale:g}", "--seed", str(seed))
    from app.seedbench import PASSWORD

    today = datetime.now(ZONE).date()
    found = targets(url, today)
    slots_file = folder / f"slots-{scale:g}.lua"
    notes: list[str] = []
    results: dict[str, Measure] = {}
    floors: dict[str, Measure] = {}
    app_log = folder / f"app-{scale:g}.log"
    app_tail = LogTail(app_log)
    with (
        gunicorn("bench.serve:app", env, app_log) as app_port,
        gunicorn("bench.floor:app", env, folder / f"floor-{scale:g}.log") as floor_port,
    ):
        cookie, token = log_in(app_port, found.feed_email, PASSWORD, found.slots[0][0])
        write_slots(slots_file, found.slots, token)
        extra: dict[str, Any] = {
            "cookie": cookie,
            "token": token,
            "slots": slots_file,
            "next": 1,
            "slot_list": found.slots,
        }
        if timing.floor:
            wrk(floor_port, FLOOR, "/", timing.warmup, load, {})
        for endpoint in ENDPOINTS:
            path = found.paths[endpoint.name]
            problem = check(app_port, endpoint, path, extra)
            if problem:
                error = app_tail.last_error()
                notes.append(f"{endpoint.name}: {problem}" + (f" ({error.splitlines()[-1]})" if error else ""))
                print(f"  {endpoint.name:<17} {problem}" + (f"\n{error}" if error else ""), flush=True)
                continue
            wrk(app_port, endpoint, path, timing.warmup, load, extra)
            results[endpoint.name] = measured = wrk(app_port, endpoint, path, timing.run, load, extra)
            line = f"  {endpoint.name:<17} {measured.rps:9.1f} req/s  p50 {measured.p50_ms:8.1f} ms"
            if timing.floor:
                floors[endpoint.name] = floor = wrk(floor_port, FLOOR, "/", timing.floor, load, {})
                line += f"  floor {floor.rps:8.1f} req/s  ratio {measured.rps / floor.rps:.3f}"
            if measured.failed:
                line += f"  FAILED {measured.failed} of {measured.requests}"
                error = app_tail.last_error()
                notes.append(f"{endpoint.name}: {measured.failed} of {measured.requests} requests failed")
                if error:
                    line += "\n" + error
                    notes[-1] += f" ({error.splitlines()[-1]})"
            print(line, flush=True)
        if extra["next"] > len(found.slots):
            notes.append(
                f"booking: {extra['next']} slots asked, {len(found.slots)} prepared: later requests repeated slots"
            )
    return Pass(scale, results, floors, notes)


class LogTail:
    """What the app logged since the last look: an error is reported with its cause."""

    def __init__(self, path: Path) -> None:
        self.path, self.seen = path, 0

    def last_error(self) -> str:
        with self.path.open(errors="replace") as log:
            log.seek(self.seen)
            logged = log.read()
            self.seen = log.tell()
        start = logged.rfind("Traceback (most recent call last)")
        if start < 0:
            return ""
        lines = [line for line in logged[start:].splitlines() if line.strip()]
        # The traceback ends with its first line that is not indented after the header.
        end = next((i for i, line in enumerate(lines) if i and not line.startswith((" ", "\t"))), len(lines) - 1)
        return "\n".join(lines[: end + 1][-40:])


# Reporting -------------------------------------------------------------------------------------


def report(db: str, main: Pass, small: Pass | None, load: Load, timing: Timing) -> dict[str, Any]:
    floor_rps = statistics.median(f.rps for f in main.floors.values()) if main.floors else 0.0
    measured = [e for e in ENDPOINTS if e.name in main.results]
    document: dict[str, Any] = {
        "db": db,
        "scale": main.scale,
        "floor_rps": round(floor_rps, 1),
        "endpoints": [
            {
                "name": e.name,
                "rps": round(main.results[e.name].rps, 1),
                "p50_ms": round(main.results[e.name].p50_ms, 2),
                "p99_ms": round(main.results[e.name].p99_ms, 2),
                "ratio_to_floor": round(main.results[e.name].rps / main.floors[e.name].rps, 3),
            }
            for e in measured
        ],
        "scaling": {
            e.name: round(main.results[e.name].p50_ms / small.results[e.name].p50_ms, 2)
            for e in measured
            if small is not None and e.name in small.results and small.results[e.name].p50_ms > 0
        },
    }
    title = f"La Malle on {'PostgreSQL' if db == 'postgres' else 'SQLite'}, scale {main.scale:g}"
    print(
        f"\n{title} — gunicorn 2 sync workers, wrk -t{load.threads} -c{load.connections} -d{timing.run:g}s "
        f"after {timing.warmup:g} s of warm-up, then the floor for {timing.floor:g} s"
    )
    columns = ("req/s", 8), ("p50 ms", 9), ("p99 ms", 9), ("floor", 8), ("ratio", 6), ("scaling", 7), ("failed", 7)
    header = f"{'endpoint':<44}" + "".join(f" {name:>{width}}" for name, width in columns)
    print(header)
    print("-" * len(header))
    for row, e in zip(document["endpoints"], measured, strict=True):
        scaling = document["scaling"].get(e.name)
        failed = main.results[e.name].failed
        print(
            f"{e.label:<44} {row['rps']:8.1f} {row['p50_ms']:9.1f} {row['p99_ms']:9.1f} "
            f"{main.floors[e.name].rps:8.0f} {row['ratio_to_floor']:6.3f} "
            f"{'' if scaling is None else f'{scaling:.2f}':>7} {failed:>7}"
        )
    print(f"{'floor (median of the runs)':<44} {floor_rps:8.1f}")
    if small is not None:
        print(f"scaling: p50 at scale {main.scale:g} over p50 at scale {small.scale:g}")
    for note in main.notes + ([f"(scale {small.scale:g}) {n}" for n in small.notes] if small else []):
        print(f"note: {note}")
    return document


def main() -> None:
    parser = argparse.ArgumentParser(description="La Malle against the framework's floor, driven by wrk.")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--scale", type=float, default=0.1, help="1 = 1,000,000 bookings (default 0.1)")
    parser.add_argument("--duration", type=float, default=20, help="seconds of each measured run (default 20)")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of each warm-up run (default 2)")
    parser.add_argument(
        "--floor-duration", type=float, help="seconds of each floor run (default: half the duration, at least 5)"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--no-scaling", action="store_true", help="skip the pass at a tenth of the scale")
    args = parser.parse_args()

    started = time.monotonic()
    ensure_wrk()
    sys.path.insert(0, str(ROOT))
    load = Load(args.threads, args.connections)
    # The floor answers thousands of requests a second: half the run is plenty, and keeps
    # `make bench` at scale 0.1 under ten minutes with both passes.
    floor = args.floor_duration or max(5.0, args.duration / 2)
    timing = Timing(run=args.duration, warmup=args.warmup, floor=floor)
    folder = Path(tempfile.mkdtemp(prefix="lamalle-bench-"))
    try:
        main_pass = measure_pass(args.db, args.scale, seed=args.seed, timing=timing, load=load, folder=folder)
        small = None
        if not args.no_scaling:
            # Only each p50 is wanted here: short runs, no floor.
            quick = Timing(run=max(3.0, args.duration / 6), warmup=1, floor=None)
            small = measure_pass(args.db, args.scale / 10, seed=args.seed, timing=quick, load=load, folder=folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    document = report(args.db, main_pass, small, load, timing)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{date.today().isoformat()}-{args.db}.json"
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    elapsed = time.monotonic() - started
    print(f"\nResults written to {path.relative_to(ROOT)}. Total time: {elapsed // 60:.0f} min {elapsed % 60:.0f} s.")


if __name__ == "__main__":
    main()
