"""A reproducible loaded machine: N CPU-burning processes beside the server under test.

The product is judged on a loaded box, where the server gets only a share of the cores.
`Burners(n)` starts `n` processes that spin in a pure-Python loop, at the bench's own nice
level, each in a session of its own, as other programs on the box are: with the kernel's
autogroup scheduling (Linux default, /proc/sys/kernel/sched_autogroup_enabled) each burner
then competes with the server's session as a whole, as another user's job would, rather
than with each of the server's threads (which starves the server to a few percent). They
run only while the bench measures, and are ended by their own process ids.
"""

from __future__ import annotations

import os
import subprocess
import sys
from types import TracebackType

SPIN = "while True: pass"


class Burners:
    """`with Burners(4): ...` keeps four CPU hogs running for the block's duration."""

    def __init__(self, count: int) -> None:
        self.count = max(0, count)
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        for _ in range(self.count - len(self.procs)):
            self.procs.append(subprocess.Popen([sys.executable, "-c", SPIN], stdin=subprocess.DEVNULL,
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                               start_new_session=True))

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
        for proc in self.procs:
            proc.wait(5)
        self.procs = []

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def __enter__(self) -> Burners:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def nice_level() -> int:
    """This process's nice value (the burners inherit it)."""
    return os.nice(0)
