"""Query surfaces on a database the demo filled: search, stories, show, export, stats,
reextract, and every example query of the README."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.demo.run import write_config
from monitor.demo.simulator import Simulator
from tests.conftest import REPO


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    from monitor.configuration.settings import load_settings
    from monitor.service.app import poll_sources, running

    folder = tmp_path_factory.mktemp("filled")
    with Simulator(slow=False) as sim:
        config = write_config(folder, sim)
        settings = load_settings(config)

        async def rounds() -> None:
            async with running(settings) as deps:
                for number in range(1, 5):
                    sim.set_round(number)
                    await poll_sources(deps, deps.store.source_ids())
        asyncio.run(rounds())
    yield config


def run(config: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--config", str(config), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_search_in_both_scripts_with_snippets(filled: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(filled, "search", "asylum", "--json", capsys=capsys)
    hits = json.loads(out)
    assert code == 0 and hits and all("[" in h["snippet"] for h in hits)
    code, out, _ = run(filled, "search", "پناهندگی", "--lang", "fa", capsys=capsys)
    assert code == 0 and "no matches" not in out
    # Arabic letter forms and a ZWNJ in the query match the Persian text alike
    code, arabic, _ = run(filled, "search", "پناهندگي", "--json", capsys=capsys)
    code, persian, _ = run(filled, "search", "پناهندگی", "--json", capsys=capsys)
    assert json.loads(arabic) == json.loads(persian)
    code, out, _ = run(filled, "search", "strike* NOT football", "--topic", "protests",
                       "--json", capsys=capsys)
    assert code == 0 and json.loads(out)


@pytest.mark.parametrize("query", ['"unclosed', "AND OR", "(strike"])
def test_malformed_search_is_a_clear_error(filled: Path, query: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(filled, "search", query, capsys=capsys)
    assert code == 2 and err.startswith("search: not a valid search query")


def test_stories_show_and_unknown_ids(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(filled, "stories", "--topic", "defections", "--json", capsys=capsys)
    stories = json.loads(out)
    assert code == 0 and stories and all("defections" in s["topics"] for s in stories)
    wire = max(stories, key=lambda s: s["outlet_count"])
    code, out, _ = run(filled, "show", str(wire["id"]), capsys=capsys)
    assert code == 0 and "matched by" in out and ("near" in out or "url" in out)
    code, _, err = run(filled, "show", "999999", capsys=capsys)
    assert code == 1 and "no story 999999" in err  # not a database problem
    code, _, err = run(filled, "stories", "--since", "yesterday", capsys=capsys)
    assert code == 2 and "--since" in err


def test_export_streams_every_item(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = sqlite3.connect(filled.parent / "feed-monitor.db")
    total = db.execute("SELECT count(*) FROM items WHERE status != 'skipped'").fetchone()[0]
    db.close()
    code, out, _ = run(filled, "export", capsys=capsys)
    lines = out.splitlines()
    assert code == 0 and len(lines) == total and json.loads(lines[0])["title"]
    code, out, _ = run(filled, "export", "--format", "csv", "--topic", "protests",
                       capsys=capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and all("protests" in r["topics"] for r in rows)


def test_stats_and_reextract(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(filled, "stats", capsys=capsys)
    assert code == 0 and "copies_saved" in out and "per topic" in out
    code, out, _ = run(filled, "reextract", capsys=capsys)
    assert code == 0 and re.search(r"\d+ pages re-extracted, 0 texts changed", out)


def test_empty_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import FAST_MONITOR_TOML

    (tmp_path / "monitor.toml").write_text(FAST_MONITOR_TOML.format(
        allow="[]", deadline="1s", max_wire="1MiB", max_decoded="1MiB", extract_timeout="1s",
        extra=""))
    (tmp_path / "sources.toml").write_text("")
    (tmp_path / "topics.toml").write_bytes((REPO / "config" / "topics.toml").read_bytes())
    config = tmp_path / "monitor.toml"
    assert run(config, "migrate", capsys=capsys)[0] == 0  # the queries never create it
    assert run(config, "search", "strike", capsys=capsys)[1].strip() == "no matches"
    assert run(config, "stories", capsys=capsys)[1].strip() == "no stories"
    assert run(config, "export", capsys=capsys)[1] == ""


def test_every_readme_example_query_runs(filled: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sql\n(.*?)```", readme, re.S)
    statements = [s.strip() for b in blocks for s in re.split(r";\s*\n", b)
                  if (s.strip() and not s.strip().startswith("--")) or
                  (s.strip() and "\n" in s.strip())]
    db = sqlite3.connect(filled.parent / "feed-monitor.db")
    ran = 0
    for statement in statements:
        sql = "\n".join(line for line in statement.splitlines()
                        if not line.strip().startswith("--")).strip().rstrip(";")
        if not sql:
            continue
        db.execute(sql).fetchall()
        ran += 1
    db.close()
    assert ran >= 10


def test_monitor_serve_runs_datasette_read_only(filled: Path) -> None:
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(filled), "serve",
                             "--port", str(port)], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}/feed-monitor"
    try:
        deadline = time.monotonic() + 60
        stories = None
        while time.monotonic() < deadline:
            try:
                stories = httpx.get(f"{base}/stories.json?_shape=array", timeout=5).json()
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        assert stories and "headline" in stories[0]
        leaders = httpx.get(f"{base}/first_to_report.json?_shape=array", timeout=5).json()
        assert leaders and "stories_first" in leaders[0]
        meta = httpx.get(f"http://127.0.0.1:{port}/-/metadata.json", timeout=5).json()
        assert "wire copies" in meta["databases"]["feed-monitor"]["tables"]["stories"][
            "description"]
        refused = httpx.get(f"{base}.json", params={"sql": "DELETE FROM stories"}, timeout=5)
        assert refused.status_code >= 400
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_a_common_term_is_ranked_among_its_newest_matches(
        filled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor.configuration.settings import load_settings
    from storage import queries

    conn = sqlite3.connect(load_settings(filled).database.path)
    conn.row_factory = sqlite3.Row
    match = "strike*"
    newest = [r[0] for r in conn.execute(
        "SELECT rowid FROM items_fts WHERE items_fts MATCH ? ORDER BY rowid DESC", (match,))]
    every = [r["rank"] for r in conn.execute(
        "SELECT bm25(items_fts) AS rank FROM items_fts WHERE items_fts MATCH ? "
        "ORDER BY rank LIMIT 5", (match,))]
    assert len(newest) > 3
    # under the window: the same ranking as over every match, snippets included
    hits = queries.search(conn, match, limit=5)
    assert [h.rank for h in hits] == every and all("[" in (h.snippet or "") for h in hits)
    monkeypatch.setattr(queries, "RANK_WINDOW", 3)
    assert {h.id for h in queries.search(conn, match, limit=5)} == set(newest[:3])
    # a filter ranks every match it lets through
    assert len(queries.search(conn, match, limit=5, since="2000-01-01")) == min(5, len(newest))
    conn.close()
