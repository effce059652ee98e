"""`monitor demo --serve`: the fictional outlets keep publishing, for a daemon to watch.

Writes the demo configuration (polling every minute) into the demo folder, publishes the
corpus round by round, one round every `--every`, and keeps serving after the last one until
Ctrl-C. In another terminal, `monitor --config DIR/monitor.toml run` polls them as it would
real outlets, and prints its alerts (the console channel is on).
"""

from __future__ import annotations

import threading
from pathlib import Path

from monitor.configuration.units import parse_duration
from monitor.demo.run import write_config
from monitor.demo.simulator import Simulator

ROUNDS = 4
SERVE_POLLING = 'interval = "1m"\nmin_interval = "30s"\ntick = "1s"'


def serve_demo(folder: Path, *, every: str = "1m", rounds: int = ROUNDS,
               stop: threading.Event | None = None) -> int:
    """Serve until `stop` is set (a test) or Ctrl-C (a person)."""
    gap = parse_duration(every)
    stop = stop or threading.Event()
    with Simulator() as sim:
        config = write_config(folder, sim)
        text = config.read_text(encoding="utf-8")
        config.write_text(text.replace('interval = "5m"', SERVE_POLLING), encoding="utf-8")
        print(f"Outlets on 127.0.0.2-127.0.0.{1 + len(sim.outlets)}, port {sim.port}.\n"
              f"In another terminal:\n  monitor --config {config} run\n"
              f"and, while it runs:\n  monitor --config {config} status\n"
              f"  monitor --config {config} stories\n", flush=True)
        try:
            for number in range(1, rounds + 1):
                fresh = sim.set_round(number)
                print(f"round {number}: {len(fresh)} pieces published", flush=True)
                if stop.wait(gap if number < rounds else 0):
                    return 0
            print("every round is out; still serving (Ctrl-C stops)", flush=True)
            stop.wait()
        except KeyboardInterrupt:
            print("stopped")
    return 0
