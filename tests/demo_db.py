"""A database written by the real pipeline from the demo simulator, for the command tests."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

from monitor.demo.run import write_config
from monitor.demo.simulator import Simulator
from tests.conftest import REPO


def build(folder: Path, rounds: int = 3) -> Path:
    """Poll every simulator outlet after each of `rounds` publishing rounds; the config path."""
    from monitor.configuration.settings import load_settings
    from monitor.service.app import poll_sources, running

    with Simulator(slow=False) as sim:
        config = write_config(folder, sim)
        settings = load_settings(config)

        async def rounds_() -> None:
            async with running(settings) as deps:
                for number in range(1, rounds + 1):
                    sim.set_round(number)
                    await poll_sources(deps, deps.store.source_ids())

        asyncio.run(rounds_())
    return config


def copy(folder: Path, target: Path) -> Path:
    shutil.copytree(folder, target)
    return target / "monitor.toml"


def monitor(*args: str, env: dict[str, str] | None = None,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "monitor", *args], cwd=REPO, text=True,
                          capture_output=True, timeout=120, check=False, env=env, input=stdin)
