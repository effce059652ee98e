"""The hostile world, table-driven: every case names what it serves and what must happen.

Each case is one source of a run that also holds a healthy source. After the run:
* the case's expectation holds (an error on the source naming the fault, or items stored with
  the expected statuses, or a clean run);
* the healthy source's item is intact (nothing the case did leaked into other sources);
* no case crashed the run (an internal error would show as "internal error");
* `PRAGMA integrity_check` is ok and no (source, entry key) is stored twice.

`python -m tests.hostile` (`make hostile`) prints the summary table; `tests/test_hostile.py`
runs the same cases under pytest.
"""

from __future__ import annotations

import asyncio
import gzip
import sqlite3
import sys
import tempfile
import textwrap
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.hostile_base import HTML, RSS, Case, feed, item, slug
from tests.hostile_round2 import ROUND_TWO  # the classes of issue 16
from tests.server import Reply, TestServer, drip_headers

NOT_TEXT = {"punycode", "idna", "utf-7", "rot-13", "rot13", "base64", "zlib", "uu", "hex", "bz2",
            "quopri", "unicode-escape", "raw-unicode-escape"}
FAKE_SECRETS = {"HOSTILE_SLACK": "https://hooks.slack.invalid/services/T0/B0/SeCrEt-TOKEN-42",
                "HOSTILE_SMTP": "pw-Sup3rSecret-77"}


def bomb(layers: int, size: int = 64 << 20) -> bytes:
    data = b"\0" * size
    for _ in range(layers):
        data = gzip.compress(data, 9)
    return data


def _page(title: str, body: str) -> Reply:
    return Reply(200, HTML, f"<html><head><title>{title}</title></head><body>{body}</body>"
                            f"</html>".encode())


def _hop(target: int) -> Callable[[TestServer], Reply]:
    def make(s: TestServer) -> Reply:
        return Reply(302, {"Location": f"/r/{target}"})
    return make


def _art(s: TestServer, path: str = "/art/1") -> str:
    return s.url(path)


CASES: list[Case] = [
    # -- HTTP ----------------------------------------------------------------------------------
    Case("404", "http", lambda s: Reply(404, {}, b"no"), "error:404"),
    Case("410", "http", lambda s: Reply(410, {}, b"gone"), "error:410"),
    Case("500", "http", lambda s: Reply(500, {}, b"oops"), "error:500"),
    Case("502", "http", lambda s: Reply(502, {}, b"bad gateway"), "error:502"),
    Case("503 retry-after", "http", lambda s: Reply(503, {"Retry-After": "120"}, b""),
         "error:503"),
    Case("429 retry-after", "http", lambda s: Reply(429, {"Retry-After": "60"}, b""),
         "error:429"),
    Case("301 loop", "http", lambda s: Reply(301, {"Location": "/c/301-loop"}, b""),
         "error:redirect"),
    Case("302 two-hop loop", "http", lambda s: Reply(302, {"Location": "/hop-b"}, b""),
         "error:redirect", routes={"/hop-b": lambda s: Reply(302, {"Location":
                                                                   "/c/302-two-hop-loop"})}),
    Case("302 without location", "http", lambda s: Reply(302, {}, b""), "error:Location"),
    Case("too many redirects", "http", lambda s: Reply(302, {"Location": "/r/1"}, b""),
         "error:redirect", routes={f"/r/{i}": _hop(i + 1) for i in range(1, 9)}),
    Case("wrong content type", "http", lambda s: Reply(200, {"Content-Type": "text/plain"},
                                                       feed(item())), "items:skipped"),
    Case("missing content type", "http", lambda s: Reply(200, {}, feed(item())),
         "items:skipped"),
    Case("lying content-length over cap", "http", lambda s: Reply(
        200, {**RSS, "Content-Length": str(50 << 20)}, b"<rss/>"), "error:cap"),
    Case("drip-fed body", "http", lambda s: Reply(200, RSS, feed(item()) * 50, drip=0.05,
                                                  chunk=16), "error:deadline"),
    Case("stall after headers", "http", lambda s: Reply(200, RSS, feed(item()), drip=5.0,
                                                        chunk=1), "error:deadline"),
    Case("stall before headers", "http", lambda s: Reply(200, RSS, b"", stall_headers=5.0),
         "error:deadline"),
    Case("drip-fed headers", "http", lambda s: drip_headers(5.0, 0.1), "error:deadline"),
    Case("endless body", "http", lambda s: Reply(200, RSS, b"<rss>" + b"x" * (3 << 20)),
         "error:cap"),
    Case("gzip bomb", "http", lambda s: Reply(200, {**RSS, "Content-Encoding": "gzip"},
                                              bomb(1, 8 << 20)), "error:cap"),
    Case("stacked gzip bomb", "http", lambda s: Reply(
        200, {**RSS, "Content-Encoding": "gzip, gzip"}, bomb(2)), "error:cap"),
    Case("deflate bomb", "http", lambda s: Reply(
        200, {**RSS, "Content-Encoding": "deflate"}, zlib.compress(b"\0" * (8 << 20), 9)),
        "error:cap"),
    Case("invalid gzip", "http", lambda s: Reply(200, {**RSS, "Content-Encoding": "gzip"},
                                                 b"not gzip at all"), "error:"),
    Case("connection refused", "http", None, "error:", url="http://127.0.0.1:9/feed"),
    # -- XML -----------------------------------------------------------------------------------
    Case("empty body", "xml", lambda s: Reply(200, RSS, b""), "error:empty"),
    Case("BOM only", "xml", lambda s: Reply(200, RSS, b"\xef\xbb\xbf"), "error:"),
    Case("HTML as feed", "xml", lambda s: Reply.from_file("html_as_feed.xml"), "error:HTML"),
    Case("truncated feed", "xml", lambda s: Reply.from_file("truncated.xml"), "ok"),
    Case("garbage", "xml", lambda s: Reply(200, RSS, b"\x00\x9f<<<rss"), "error:not a feed"),
    Case("external entity", "xml", lambda s: Reply(200, RSS, feed(
        item(title="&xxe;"), head="<!DOCTYPE r [<!ENTITY xxe SYSTEM 'file:///etc/passwd'>]>")),
        "ok"),
    Case("billion laughs", "xml", lambda s: Reply(200, RSS, feed(item(title="&l9;"), head=(
        "<!DOCTYPE r [<!ENTITY l0 'ha'>" + "".join(
            f"<!ENTITY l{i} '{('&l' + str(i - 1) + ';') * 10}'>" for i in range(1, 10))
        + "]>"))), "ok"),
    Case("doctype with internal subset", "xml", lambda s: Reply(200, RSS, feed(
        item(), head="<!DOCTYPE rss [<!ELEMENT rss ANY><!ATTLIST rss x CDATA 'y'>]>")), "ok"),
    Case("charref D800", "xml", lambda s: Reply(200, RSS, feed(item(title="a&#xD800;b"))),
         "ok"),
    Case("charref 110000", "xml", lambda s: Reply(200, RSS, feed(item(title="a&#x110000;b"))),
         "ok"),
    Case("charref huge", "xml", lambda s: Reply(200, RSS, feed(item(title="a&#99999999999;b"))),
         "ok"),
    Case("32 KB author", "xml", lambda s: Reply(200, RSS, feed(item(
        extra=f"<author>{'x' * 32768}</author>"))), "ok"),
    Case("1000 entries", "xml", lambda s: Reply(200, RSS, feed(*(
        item(title=f"Entry {i}", guid=f"g{i}") for i in range(1000)))), "ok"),
    # -- text ----------------------------------------------------------------------------------
    Case("windows-1256 undeclared", "text",
         lambda s: Reply.from_file("windows1256_undeclared.xml"), "ok"),
    Case("mixed encodings", "text", lambda s: Reply(200, RSS, feed(item(
        title="caf\xe9 ".encode("latin-1").decode("latin-1") + "کارگران"))), "ok"),
    Case("NUL bytes", "text", lambda s: Reply(200, RSS, feed(item(title="a\0b"))), "ok"),
    Case("lone surrogate escapes", "text", lambda s: Reply(200, RSS, feed(item(
        title="a&#xDC00;b"))), "ok"),
    Case("bidi overrides", "text", lambda s: Reply(200, RSS, feed(item(
        title="\u202eevil\u202c title"))), "ok"),
    Case("100 KB title", "text", lambda s: Reply(200, RSS, feed(item(title="t" * 100_000))),
         "ok"),
    Case("date 1970", "text", lambda s: Reply(200, RSS, feed(item(
        extra="<pubDate>Thu, 01 Jan 1970 00:00:00 GMT</pubDate>"))), "ok"),
    Case("date 2999", "text", lambda s: Reply(200, RSS, feed(item(
        extra="<pubDate>Tue, 01 Jan 2999 00:00:00 GMT</pubDate>"))), "ok"),
    Case("date yesterday", "text", lambda s: Reply(200, RSS, feed(item(
        extra="<pubDate>yesterday</pubDate>"))), "ok"),
    Case("missing everything", "text", lambda s: Reply(200, RSS, feed("<item></item>")), "ok"),
    # -- links and the address guard -------------------------------------------------------------
    Case("javascript link", "guard", lambda s: Reply(200, RSS, feed(item(
        link="javascript:alert(1)"))), "items:skipped"),
    Case("data link", "guard", lambda s: Reply(200, RSS, feed(item(
        link="data:text/html,hi"))), "items:skipped"),
    Case("file link", "guard", lambda s: Reply(200, RSS, feed(item(
        link="file:///etc/passwd"))), "items:skipped"),
    Case("ftp link", "guard", lambda s: Reply(200, RSS, feed(item(link="ftp://x.org/a"))),
         "items:skipped"),
    Case("gopher link", "guard", lambda s: Reply(200, RSS, feed(item(link="gopher://x.org/"))),
         "items:skipped"),
    Case("redirect to another loopback", "guard", lambda s: Reply(
        302, {"Location": f"http://127.0.0.2:{s.port}/feed"}, b""), "error:127.0.0.2"),
    Case("redirect to metadata", "guard", lambda s: Reply(
        302, {"Location": "http://169.254.169.254/latest/"}, b""), "error:169.254.169.254"),
    Case("article redirect to private", "guard", lambda s: Reply(200, RSS, feed(item(
        link=s.url("/to-private")))), "items:error",
        routes={"/to-private": lambda s: Reply(302, {"Location": "http://10.0.0.1/x"})}),
    Case("feed on localhost", "guard", None, "error:127.0.0.1", url="http://localhost:9/feed",
         group="empty"),
    Case("feed on 0.0.0.0", "guard", None, "error:0.0.0.0", url="http://0.0.0.0:9/feed",
         group="empty"),
    Case("decimal IPv4", "guard", None, "error:127.0.0.2", url="http://2130706434:9/feed",
         group="empty"),
    Case("hex IPv4", "guard", None, "error:", url="http://0x7f000002:9/feed",
         group="empty"),
    Case("IPv4-mapped IPv6", "guard", None, "error:", url="http://[::ffff:127.0.0.2]:9/feed",
         group="empty"),
    Case("private 10/8", "guard", None, "error:10.1.2.3", url="http://10.1.2.3/feed",
         group="empty"),
    Case("private 192.168/16", "guard", None, "error:192.168.1.1", url="http://192.168.1.1/f",
         group="empty"),
    Case("link-local", "guard", None, "error:169.254", url="http://169.254.10.10/feed",
         group="empty"),
    # -- identity ------------------------------------------------------------------------------
    Case("rotating GUIDs", "identity", lambda s: Reply(200, RSS, feed(item(
        guid=f"rot-{time.monotonic_ns()}", link=_art(s)))), "items:ok", runs=2,
        routes={"/art/1": lambda s: _page("Strike in Tabriz",
                                          "<article><p>" + "Workers stopped. " * 60
                                          + "</p></article>")}),
    Case("same GUID for every entry", "identity", lambda s: Reply(200, RSS, feed(
        item(title="A strike", guid="same"), item(title="A rally", guid="same"))),
        "items:skipped,skipped"),
    # -- extraction ----------------------------------------------------------------------------
    Case("5 MB flat page", "extraction", lambda s: Reply(200, RSS, feed(item(
        link=s.url("/big")))), "items:error",
        routes={"/big": lambda s: _page("Big", "<p>" + "word " * 1_000_000 + "</p>")}),
    Case("20,000-deep nesting", "extraction", lambda s: Reply(200, RSS, feed(item(
        link=s.url("/deep")))), "items:empty",
        routes={"/deep": lambda s: _page("Deep", "<div>" * 20000 + "x" + "</div>" * 20000)}),
    Case("huge table", "extraction", lambda s: Reply(200, RSS, feed(item(
        link=s.url("/table")))), "items:error",
        routes={"/table": lambda s: _page("Table", "<table>" + "<tr><td>c</td></tr>" * 70000
                                          + "</table>")}),
]


CASES += ROUND_TWO


@dataclass
class Outcome:
    case: Case
    passed: bool
    detail: str
    crashed: bool = False


def _config(folder: Path, server: TestServer, cases: list[Case], allow: str) -> Path:
    from tests.conftest import FAST_MONITOR_TOML, REPO

    lines = [textwrap.dedent(f"""\
        [[source]]
        id = "healthy"
        name = "Healthy"
        kind = "feed"
        url = "{server.url('/healthy')}"
        language = "en"
        outlet = "Healthy"
        scope = "topic"
        """)]
    for i, case in enumerate(cases):
        url = case.url or server.url(f"/c/{slug(case.name)}")
        lines.append(textwrap.dedent(f"""\
            [[source]]
            id = "case-{i:03d}"
            name = "{case.name}"
            kind = "feed"
            url = "{url}"
            language = "en"
            outlet = "Case {i}"
            scope = "topic"
            robots = "ignore"
            robots_reason = "the hostile suite serves no robots.txt on purpose"
            """))
    (folder / "sources.toml").write_text("\n".join(lines))
    (folder / "topics.toml").write_bytes((REPO / "config" / "topics.toml").read_bytes())
    extra = ('[[alerts.rule]]\nchannels = ["slack", "email"]\n[alerts.slack]\nenabled = true\n'
             'webhook_url_env = "HOSTILE_SLACK"\n[alerts.email]\nenabled = true\n'
             'to = ["x@example.org"]\nusername = "u"\npassword_env = "HOSTILE_SMTP"\n'
             'port = 9\n[extraction]\nmax_html_bytes = "2MiB"\nmax_elements = 50000\n')
    toml = FAST_MONITOR_TOML.format(allow=allow, deadline="1s", max_wire="2MiB",
                                    max_decoded="4MiB", extract_timeout="3s", extra="")
    toml = toml.replace("[extraction]\n", "").replace('timeout = "3s"\nparse_timeout = "5s"\n',
                                                      "")
    toml = toml.replace("workers = 2\n", "") + extra + \
        'workers = 2\ntimeout = "3s"\nparse_timeout = "5s"\n'
    (folder / "monitor.toml").write_text(toml)
    return folder / "monitor.toml"


def run_cases(cases: list[Case] | None = None) -> list[Outcome]:
    import os

    from monitor.configuration.settings import load_settings
    from monitor.service.app import poll_sources, running
    from monitor.service.logs import register_secret

    cases = CASES if cases is None else cases
    os.environ.update(FAKE_SECRETS)
    for value in FAKE_SECRETS.values():
        register_secret(value)
    outcomes: list[Outcome] = []
    for group, allow in (("normal", '["127.0.0.1/32"]'), ("empty", "[]")):
        chosen = [c for c in cases if c.group == group]
        if not chosen:
            continue
        with TestServer() as server, tempfile.TemporaryDirectory() as tmp:
            server.route("/healthy", Reply(200, RSS, feed(item(title="Healthy item",
                                                               guid="h1"))))
            for case in chosen:
                if case.reply is not None:
                    server.route(f"/c/{slug(case.name)}", case.reply(server))
                for path, make in case.routes.items():
                    server.route(path, make(server))
            settings = load_settings(_config(Path(tmp), server, chosen, allow))

            async def go(settings: Any = settings, chosen: list[Case] = chosen,
                         server: TestServer = server) -> dict[str, Any]:
                reports: dict[str, Any] = {}
                async with running(settings) as deps:
                    for _ in range(max(c.runs for c in chosen)):
                        for r in await poll_sources(deps, deps.store.source_ids()):
                            reports[r.source] = r
                        for case in chosen:  # a fresh body each run (rotating GUIDs)
                            if case.runs > 1 and case.reply is not None:
                                server.route(f"/c/{slug(case.name)}", case.reply(server))
                return reports

            reports = asyncio.run(go())
            db = sqlite3.connect(settings.database.path)
            for i, case in enumerate(chosen):
                outcomes.append(_judge(case, reports.get(f"case-{i:03d}"), db, f"case-{i:03d}",
                                       server))
            healthy = db.execute("SELECT count(*) FROM items WHERE source_id = 'healthy'"
                                 ).fetchone()[0]
            if healthy != 1 and group == "normal":
                outcomes.append(Outcome(Case("healthy source intact", group, None, "ok"), False,
                                        f"healthy items: {healthy}"))
            db.close()
    return outcomes


def _judge(case: Case, report: Any, db: sqlite3.Connection, sid: str,
           server: TestServer) -> Outcome:
    if report is None:
        return Outcome(case, False, "no report", crashed=True)
    error = report.error or ""
    if "internal error" in error:
        return Outcome(case, False, error, crashed=True)
    dupes = db.execute("SELECT count(*) FROM (SELECT entry_key FROM items WHERE source_id = ? "
                       "GROUP BY entry_key HAVING count(*) > 1)", (sid,)).fetchone()[0]
    if dupes:
        return Outcome(case, False, f"{dupes} duplicated entries")
    kind, _, want = case.expect.partition(":")
    if kind == "error":
        ok = report.outcome == "error" and want.lower() in error.lower()
        counted = db.execute("SELECT error_count FROM sources WHERE id = ?", (sid,)).fetchone()
        if ok and not (counted and counted[0] > 0):  # recorded: error count, back-off, health
            return Outcome(case, False, f"error not recorded on the source: {error}")
        return Outcome(case, ok, error or report.outcome)
    if report.outcome == "error":
        return Outcome(case, False, f"unexpected error: {error}")
    if kind == "text":  # every item read (ok or fallback) with this text, in a text encoding
        rows = db.execute("SELECT i.status, i.text, r.encoding FROM items i LEFT JOIN raw_pages "
                          "r ON r.item_id = i.id WHERE i.source_id = ?", (sid,)).fetchall()
        ok = bool(rows) and all(r[0] in ("ok", "fallback") and want in (r[1] or "")
                                and (r[2] or "").lower().replace("_", "-") not in NOT_TEXT
                                for r in rows)
        return Outcome(case, ok, f"statuses {[r[0] for r in rows]}, encodings "
                                 f"{[r[2] for r in rows]}, text found: {ok}")
    if kind == "count":
        stored = db.execute("SELECT count(*) FROM items WHERE source_id = ?", (sid,)
                            ).fetchone()[0]
        return Outcome(case, stored == int(want), f"{stored} items stored")
    if kind == "items":
        got = sorted(r[0] for r in db.execute("SELECT status FROM items WHERE source_id = ?",
                                              (sid,)))
        expected = sorted(want.split(","))
        ok = got == expected or (want == "ok" and got and set(got) <= {"ok", "fallback"})
        if case.name == "rotating GUIDs":
            ok = ok and server.hits("/art/1") == 1
        return Outcome(case, ok, f"statuses {got}")
    return Outcome(case, True, report.outcome)


def crash_loop(kills: int = 20, seed: int = 7, tool_kills: int = 4) -> dict[str, Any]:
    """Run the daemon against the simulator, SIGKILL it at random moments `kills` times and
    restart it each time, publishing the rounds along the way; then let it finish and check
    that every published piece is stored exactly once and every alert queued once."""
    import random
    import signal
    import subprocess
    import sys

    from monitor.demo.outlets import OUTLETS
    from monitor.demo.run import write_config
    from monitor.demo.simulator import Simulator
    from tests.conftest import REPO
    from tests.hostile_crash import backup_state, kill_tools

    rng = random.Random(seed)
    with Simulator(slow=False) as sim, tempfile.TemporaryDirectory() as tmp:
        config = write_config(Path(tmp), sim)
        text = config.read_text().replace('interval = "5m"',
                                          'interval = "5m"\nmin_interval = "1s"\ntick = "200ms"')
        config.write_text(text)
        from monitor.configuration.settings import load_settings
        load_settings(config)  # a broken configuration must fail here, not in 20 silent lives
        sources = (Path(tmp) / "sources.toml").read_text().replace(
            'scope = "general"', 'scope = "general"\ninterval = "1s"').replace(
            'scope = "topic"', 'scope = "topic"\ninterval = "1s"')
        (Path(tmp) / "sources.toml").write_text(sources)
        cmd = [sys.executable, "-m", "monitor", "--config", str(config), "run"]
        published: dict[str, set[str]] = {}
        for k in range(kills):
            for piece in sim.set_round(1 + k * 4 // kills):
                published.setdefault(piece.outlet, set()).add(sim.article_url(piece))
            proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.5, 2.5))
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        tools = kill_tools(cmd[:-1], Path(tmp), rng, tool_kills)
        for piece in sim.set_round(4):
            published.setdefault(piece.outlet, set()).add(sim.article_url(piece))
        for _ in range(2):  # the daemon again: it finishes a rebuild a kill interrupted
            proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(1.0, 3.0))
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        # a clean poll of everything, due or not (feeds ask for a TTL longer than this test)
        subprocess.run([*cmd[:-1], "once", "--all"], cwd=REPO, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=120, check=False)
        db = sqlite3.connect(Path(tmp) / "feed-monitor.db")
        stored = {(r[0], r[1]) for r in db.execute(
            "SELECT source_id, url FROM items WHERE url IS NOT NULL")}
        missing = [(o, u) for o, urls in published.items() for u in urls
                   if o not in ("broken-gazette", "newsfinder") and (o, u) not in stored]
        dupes = db.execute("SELECT count(*) FROM (SELECT source_id, entry_key FROM items "
                           "GROUP BY 1, 2 HAVING count(*) > 1)").fetchone()[0]
        alert_dupes = db.execute("SELECT count(*) FROM (SELECT story_id, channel, kind FROM "
                                 "alerts GROUP BY 1, 2, 3 HAVING count(*) > 1)").fetchone()[0]
        result = {"kills": kills, "published": sum(len(v) for v in published.values()),
                  "missing": len(missing), "missing_sample": missing[:5],
                  "duplicated_items": dupes,
                  "duplicated_alerts": alert_dupes,
                  "alerts": db.execute("SELECT count(*) FROM alerts").fetchone()[0],
                  "integrity": db.execute("PRAGMA integrity_check").fetchone()[0],
                  "outlets": len(OUTLETS), **tools,
                  "rebuild_left": db.execute("SELECT count(*) FROM index_rebuild"
                                             ).fetchone()[0],
                  "backup": backup_state(Path(tmp) / "backup.db")}
        db.close()
    return result


def client_soak(requests: int = 10_000, deadline_share: float = 0.1) -> dict[str, Any]:
    """`requests` fetches against loopback, about `deadline_share` of them ended by the total
    deadline (a stalling route), many at once: the client must not run out of pool slots."""
    from monitor.errors import DeadlineExceeded
    from monitor.fetching.http import Fetcher
    from tests.test_http import settings as fetch_settings

    async def go(server: TestServer) -> dict[str, Any]:
        fetcher = Fetcher(fetch_settings(deadline=0.3, read_timeout=1.0,
                                         per_host_concurrency=50))
        sem = asyncio.Semaphore(100)
        outcome = {"ok": 0, "deadline": 0, "other": 0}

        async def one(i: int) -> None:
            path = "/stall" if i % int(1 / deadline_share) == 0 else "/ok"
            async with sem:
                try:
                    await fetcher.fetch(server.url(path))
                    outcome["ok"] += 1
                except DeadlineExceeded:
                    outcome["deadline"] += 1
                except Exception:
                    outcome["other"] += 1
        t0 = time.monotonic()
        await asyncio.gather(*(one(i) for i in range(requests)))
        elapsed = time.monotonic() - t0
        t1 = time.monotonic()
        await fetcher.fetch(server.url("/ok"))  # the pool still works afterwards
        after = time.monotonic() - t1
        await fetcher.aclose()
        return {**outcome, "requests": requests, "seconds": round(elapsed, 1),
                "recycled_clients": fetcher.recycled, "fetch_after_soak_s": round(after, 3)}

    with TestServer() as server:
        server.route("/ok", Reply(200, {"Content-Type": "text/plain"}, b"ok"))
        server.route("/stall", Reply(200, {"Content-Type": "text/plain"}, b"x",
                                     stall_headers=2.0))
        return asyncio.run(go(server))


def leaks(outcomes: list[Outcome], texts: list[str]) -> int:
    return sum(text.count(secret) for text in texts for secret in FAKE_SECRETS.values())


def main() -> int:
    import io
    import logging

    from tabulate import tabulate

    from monitor.service.logs import setup_logging

    buffer = io.StringIO()
    setup_logging(2)
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    started = time.monotonic()
    from tests.hostile_checks import run_checks
    from tests.hostile_ops2 import all_checks

    outcomes = run_cases() + run_checks(all_checks())
    texts = [buffer.getvalue()] + [o.detail for o in outcomes]
    rows = [[o.case.category, o.case.name, "pass" if o.passed else "FAIL", o.detail[:70]]
            for o in outcomes]
    print(tabulate(rows, headers=["category", "case", "result", "detail"]))
    failed = sum(not o.passed for o in outcomes)
    crashes = sum(o.crashed for o in outcomes)
    leaked = leaks(outcomes, texts)
    print()
    print(tabulate([[len(outcomes), len(outcomes) - failed, failed, crashes,
                     sum("duplicated" in o.detail for o in outcomes), leaked,
                     f"{time.monotonic() - started:.0f}s"]],
                   headers=["cases", "passed", "failed", "crashes", "duplicates", "leaks",
                            "time"]))
    bad = bool(failed or crashes or leaked)
    if "--all" in sys.argv:
        crash = crash_loop()
        print("\ncrash loop:", crash)
        soak = client_soak()
        print("client soak:", soak)
        bad = bad or crash["missing"] > 0 or crash["duplicated_items"] > 0 or \
            crash["duplicated_alerts"] > 0 or crash["integrity"] != "ok" or soak["other"] > 0 \
            or crash["rebuild_left"] > 0 or crash["backup"] not in ("none", "ok")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
