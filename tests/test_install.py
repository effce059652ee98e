"""The install path: a wheel that carries its defaults, `monitor init`, `monitor demo` from the
wheel, `monitor demo --serve`, the unit under /opt, and a README a sysadmin can follow."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from monitor.commands import init as init_command
from monitor.configuration.settings import load_settings
from monitor.demo.serve import serve_demo
from tests.conftest import REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                            "--no-build-isolation", "-w", str(out), str(REPO)],
                           capture_output=True, text=True, timeout=300, check=False)
    assert build.returncode == 0, build.stderr
    (found,) = out.glob("feed_monitor-*.whl")
    return found, build.stdout + build.stderr


def test_the_wheel_carries_defaults_unit_and_license(wheel: tuple[Path, str]) -> None:
    path, log = wheel
    assert "project.license" not in log and "SetuptoolsDeprecationWarning" not in log
    with zipfile.ZipFile(path) as whl:
        names = whl.namelist()
        for name in ("monitor.toml", "sources.toml", "topics.toml"):
            assert whl.read(f"monitor/defaults/{name}") == (REPO / "config" / name).read_bytes()
        assert whl.read("monitor/defaults/feed-monitor.service") == \
            (REPO / "systemd" / "feed-monitor.service").read_bytes()
        assert any(n.endswith("licenses/LICENSE") for n in names)
        # the topic model's weights and the reader's templates travel with the code
        assert whl.read("monitor/matching/judge_weights.bin") == \
            (REPO / "monitor" / "matching" / "judge_weights.bin").read_bytes()
        assert "monitor/web/templates/story.html" in names
        metadata = whl.read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "License-Expression: MIT" in metadata
    assert "MIT License" in (REPO / "LICENSE").read_text()


def test_demo_and_init_run_from_the_unpacked_wheel(wheel: tuple[Path, str],
                                                   tmp_path: Path) -> None:
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel[0]) as whl:
        whl.extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site)}  # the wheel's monitor before the checkout's
    where = subprocess.run([sys.executable, "-c", "import monitor; print(monitor.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(site))
    demo = subprocess.run([sys.executable, "-m", "monitor", "demo", "--rounds", "1", "--dir",
                           str(tmp_path / "demo")], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert "Demo finished" in demo.stdout
    etc = tmp_path / "etc" / "feed-monitor"
    init = subprocess.run([sys.executable, "-m", "monitor", "init", str(etc), "--database",
                           str(tmp_path / "var" / "feed-monitor.db")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert init.returncode == 0, init.stderr
    check = subprocess.run([sys.executable, "-m", "monitor", "--config",
                            str(etc / "monitor.toml"), "check-config"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=60, check=False)
    assert check.returncode == 0, check.stderr
    assert f"database: {tmp_path / 'var' / 'feed-monitor.db'}" in check.stdout


def test_init_writes_the_defaults_and_never_overwrites(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "conf"
    assert init_command.init(folder, database="/var/lib/feed-monitor/feed-monitor.db",
                             force=False) == 0
    settings = load_settings(folder / "monitor.toml", env={})
    assert str(settings.database.path) == "/var/lib/feed-monitor/feed-monitor.db"
    assert (folder / "topics.toml").read_bytes() == (REPO / "config" / "topics.toml").read_bytes()
    (folder / "sources.toml").write_text("# mine\n")
    assert init_command.init(folder, database=None, force=False) == 1
    assert (folder / "sources.toml").read_text() == "# mine\n"
    assert "already there" in capsys.readouterr().err
    assert init_command.print_unit() == 0
    assert "ExecStart=/opt/feed-monitor/.venv/bin/monitor" in capsys.readouterr().out


def test_demo_serve_keeps_the_outlets_publishing(tmp_path: Path) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=serve_demo, args=(tmp_path,),
                              kwargs={"every": "200ms", "stop": stop}, daemon=True)
    thread.start()
    try:
        config = tmp_path / "monitor.toml"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (tmp_path / "sources.toml").exists():
            time.sleep(0.05)
        assert 'interval = "1m"' in config.read_text()
        settings = load_settings(config, env={})
        url = next(s.url for s in settings.sources if s.id == "gulf-observer")
        time.sleep(1.5)  # all four rounds out
        with urllib.request.urlopen(url, timeout=5) as reply:
            body = reply.read().decode()
        assert body.count("<entry") >= 5  # an Atom feed
        assert thread.is_alive()  # still serving after the last round
    finally:
        stop.set()
        thread.join(timeout=20)
    assert not thread.is_alive()


def test_unit_and_readme_install_section() -> None:
    unit = (REPO / "systemd" / "feed-monitor.service").read_text()
    assert "ExecStart=/opt/feed-monitor/.venv/bin/monitor" in unit and "/home" not in unit
    assert "ProtectHome=yes" in unit
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    install = readme[readme.index("## Install"):readme.index("## Security notes")]
    for needed in ("python3-venv", "useradd", "monitor init", "/etc/feed-monitor",
                   "daemon-reload", "LoadCredential", "systemctl enable --now",
                   "pip install", "git clone", "--group", "monitor demo --serve"):
        assert needed in install, needed
