"""The systemd unit: `systemd-analyze verify` accepts it and its exposure score stays low."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

UNIT = REPO / "systemd" / "feed-monitor.service"
ANALYZE = shutil.which("systemd-analyze")
pytestmark = pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze is not installed (.ci/run installs Debian's systemd)")


def _unit_here(tmp_path: Path) -> Path:
    """The unit with its ExecStart pointing at this checkout's monitor (verify checks it)."""
    monitor = Path(sys.executable).parent / "monitor"
    text = UNIT.read_text().replace("/opt/feed-monitor/.venv/bin/monitor", str(monitor))
    target = tmp_path / UNIT.name
    target.write_text(text)
    return target


def test_unit_verifies(tmp_path: Path) -> None:
    out = subprocess.run([str(ANALYZE), "verify", str(_unit_here(tmp_path))],
                         capture_output=True, text=True, timeout=60, check=False)
    problems = [line for line in (out.stdout + out.stderr).splitlines()
                if "feed-monitor.service" in line]
    assert out.returncode == 0 and problems == [], out.stdout + out.stderr


def test_unit_exposure_is_at_most_2_5(tmp_path: Path) -> None:
    out = subprocess.run([str(ANALYZE), "security", "--offline=yes", "--no-pager",
                          str(_unit_here(tmp_path))], capture_output=True, text=True,
                         timeout=60, check=False)
    m = re.search(r"Overall exposure level for feed-monitor\.service: ([0-9.]+)", out.stdout)
    assert m, out.stdout + out.stderr
    print(f"systemd-analyze security exposure: {m.group(1)}")
    assert float(m.group(1)) <= 2.5
