"""A user who may read but not write the database folder, with no secrets in the environment,
can run every query command; none of them creates or changes a file there.

Tests may run as root, whom `chmod` does not stop: so besides the read-only folder, the test
checks that no file in it is created or modified, which holds for every user.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.configuration.settings import load_settings
from monitor.service.app import open_store
from storage import StorageError
from tests import demo_db

SLACK = """
[alerts.slack]
enabled = true
webhook_url_env = "NC_SLACK_URL"
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    demo_db.build(folder)
    return folder


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.iterdir()}


@pytest.fixture
def readonly_folder(demo: Path, tmp_path: Path) -> Iterator[Path]:
    config = demo_db.copy(demo, tmp_path / "ro")
    with config.open("a", encoding="utf-8") as f:  # a channel whose secret is not set
        f.write(SLACK)
    folder = config.parent
    for p in folder.iterdir():
        p.chmod(0o444)
    folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if k not in ("NC_SLACK_URL", "CREDENTIALS_DIRECTORY", "FEED_MONITOR_CONFIG")}


@pytest.mark.parametrize("command", [
    ["stories"], ["search", "asylum"], ["status"], ["export"], ["export", "--format", "csv"],
    ["stats"], ["show", "1"], ["alerts", "list"],
])
def test_query_commands_on_a_read_only_folder_without_secrets(
        readonly_folder: Path, command: list[str]) -> None:
    before = _snapshot(readonly_folder)
    got = demo_db.monitor(*command, "--config", str(readonly_folder / "monitor.toml"),
                          env=_env())
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip()
    assert _snapshot(readonly_folder) == before  # nothing created (no -wal), nothing changed
    assert not any(stat.S_IMODE(p.stat().st_mode) & 0o222 for p in readonly_folder.iterdir())


def test_the_read_only_store_refuses_writes(readonly_folder: Path) -> None:
    settings = load_settings(readonly_folder / "monitor.toml", env={}, secrets=False)
    store = open_store(settings, readonly=True)
    try:
        with pytest.raises(StorageError, match="readonly"):
            store.mute_story(1)
    finally:
        store.close()


def test_sending_commands_still_demand_the_secret(readonly_folder: Path) -> None:
    got = demo_db.monitor("--config", str(readonly_folder / "monitor.toml"), "check-config",
                          env=_env())
    assert got.returncode == 2 and "NC_SLACK_URL is not set" in got.stderr


def test_a_query_before_any_database_creates_none(tmp_path: Path, demo: Path) -> None:
    config = demo_db.copy(demo, tmp_path / "fresh")
    for db in config.parent.glob("feed-monitor.db*"):
        db.unlink()
    got = demo_db.monitor("stories", "--config", str(config), env=_env())
    assert got.returncode == 3 and "no database here yet" in got.stderr
    assert not list(config.parent.glob("feed-monitor.db*"))


def test_serve_on_a_read_only_folder_writes_nothing_there(readonly_folder: Path) -> None:
    import importlib.util
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    if importlib.util.find_spec("datasette") is None:
        pytest.skip("the datasette extra is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    before = _snapshot(readonly_folder)
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "serve", "--port", str(port),
                             "--config", str(readonly_folder / "monitor.toml")],
                            env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline, page = time.monotonic() + 60, ""
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/feed-monitor/stories"
                                            ".json?_shape=array&_size=1", timeout=2) as reply:
                    page = reply.read().decode()
                break
            except OSError:
                time.sleep(0.3)
        assert '"headline"' in page, proc.stderr.read().decode() if proc.poll() else page
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        assert proc.stderr is not None
        proc.stderr.close()
    assert _snapshot(readonly_folder) == before
