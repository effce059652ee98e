"""What the benchmarks read of processes from /proc: descendants, memory (RSS, PSS), CPU, and a
sampler thread for peaks during a run."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path


def _descendants(pid: int, skip: frozenset[int] = frozenset()) -> list[int]:
    """Children, grandchildren, ... (forkserver workers are the forkserver's children)."""
    out: list[int] = []
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):  # a child belongs to the thread that made it
        try:
            children += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            continue
    for child in children:
        if child not in skip:
            out += [child, *_descendants(child, skip)]
    return out


def _kib(pid: int, file: str, key: str) -> int:
    """One "Key:  N kB" line of /proc/PID/FILE, in KiB (0 when the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_mib(pids: list[int]) -> float:
    """Resident memory of these processes, MiB (shared pages counted in each)."""
    return sum(_kib(p, "status", "VmRSS:") for p in pids) / 1024


def pss_mib(pid: int, skip: frozenset[int] = frozenset()) -> float:
    """Memory of a process and its descendants (forkserver, workers), MiB: the proportional
    set size (PSS), so pages the forked workers share are counted once, not once each."""
    return sum(_kib(p, "smaps_rollup", "Pss:") for p in [pid, *_descendants(pid, skip)]) / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int, skip: frozenset[int] = frozenset()) -> float:
    """User + system CPU of a process and its live descendants, each with the CPU of the
    children it has already reaped (cutime, cstime): a worker the pool recycled still counts,
    through the forkserver that waited for it."""
    total = 0.0
    for p in [pid, *_descendants(pid, skip)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


class Sampler:
    """In a thread: the CPU of each descendant every 0.25 s (workers come and go, so they are
    read while they live) and the PSS of this process and its descendants every second (its
    peak). Reading smaps is not free: sampled at 20 Hz it cost the measured process ~4 ms per
    article, so it is sampled rarely and the thread's own CPU is reported (`own_cpu`) to be
    taken out of the process's."""

    def __init__(self, skip: frozenset[int] = frozenset()) -> None:
        self.skip = skip  # the simulator's process: not the monitor's
        self.peak = 0.0
        self.child_cpu: dict[int, float] = {}
        self.own_cpu = 0.0
        self._base: dict[int, float] = {}
        self._own_base = 0.0
        self._rebased = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _read(self) -> None:
        with self._lock:
            for child in _descendants(os.getpid(), self.skip):
                self.child_cpu[child] = max(self.child_cpu.get(child, 0.0),
                                            cpu_seconds(child) - self._base.get(child, 0.0))
            self.own_cpu = time.thread_time() - self._own_base

    def rebase(self) -> float:
        """Count from now (call it from the measured thread): what the processes spent
        before, such as a worker pool starting once per daemon, is left out. Returns the
        descendants' CPU seconds that were left out."""
        with self._lock:
            before = sum(self.child_cpu.values())
            self._base = {c: cpu_seconds(c) for c in _descendants(os.getpid(), self.skip)}
            self.child_cpu = {}
            self._rebased = True
        return before

    def _run(self) -> None:
        me = os.getpid()
        # processes that existed before (the forkserver) count from now, not from their start
        self._base = {child: cpu_seconds(child) for child in _descendants(me, self.skip)}
        tick = 0
        while not self._stop.is_set():
            if tick % 4 == 0:
                self.peak = max(self.peak, pss_mib(me, self.skip))
            self._read()
            if self._rebased:  # the thread's own CPU counts from the rebase too
                self._rebased, self._own_base = False, time.thread_time()
            tick += 1
            self._stop.wait(0.25)
        self.peak = max(self.peak, pss_mib(me, self.skip))
        self._read()

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
