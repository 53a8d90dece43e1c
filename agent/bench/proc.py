"""The server under test in its own process (`voice-agent serve`), and its CPU and RSS from /proc.

Running the server in a subprocess keeps the simulated customers' cost (their event loop,
their real-time pacing) out of the server's CPU and memory figures.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def rss_mb(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS since start) in MiB."""
    now = peak = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            now = int(line.split()[1]) / 1024
        elif line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    return now, peak


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Window:
    """CPU and RSS of one process over one stretch of time, sampled every `every` seconds."""

    pid: int
    every: float = 0.25
    started: float = 0.0
    cpu0: float = 0.0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    peak_cpu_pct: float = 0.0  # busiest 1 s stretch, % of one core
    samples: list[tuple[float, float, float]] = field(default_factory=list)  # (t, cpu_s, rss_mb)
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.started, self.cpu0 = time.monotonic(), cpu_seconds(self.pid)
        self._task = asyncio.create_task(self._sample())

    async def _sample(self) -> None:
        while True:
            try:
                rss, _ = rss_mb(self.pid)
                self.samples.append((time.monotonic(), cpu_seconds(self.pid), rss))
            except (FileNotFoundError, ProcessLookupError):
                return
            self.peak_rss_mb = max(self.peak_rss_mb, rss)
            await asyncio.sleep(self.every)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self.wall_s = time.monotonic() - self.started
        try:
            self.cpu_s = cpu_seconds(self.pid) - self.cpu0
            self.peak_rss_mb = max(self.peak_rss_mb, rss_mb(self.pid)[0])
        except FileNotFoundError:
            pass
        # busiest one-second stretch
        for i, (t0, c0, _) in enumerate(self.samples):
            for t1, c1, _ in self.samples[i + 1 :]:
                if t1 - t0 >= 1.0:
                    self.peak_cpu_pct = max(self.peak_cpu_pct, (c1 - c0) / (t1 - t0) * 100)
                    break

    @property
    def avg_cpu_pct(self) -> float:
        """Average CPU over the window, % of one core (200 % = both of 2 cores)."""
        return self.cpu_s / self.wall_s * 100 if self.wall_s > 0 else 0.0


class ServerProcess:
    """`voice-agent serve` on a free loopback port with a throw-away SQLite store."""

    def __init__(self, workdir: Path, *, config: Path | None = None, env: dict[str, str] | None = None,
                 ready_timeout_s: float = 600.0) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.config = config
        self.env = dict(env or {})
        self.ready_timeout_s = ready_timeout_s
        self.proc: subprocess.Popen[bytes] | None = None
        self.load_s = 0.0
        self.log_path = workdir / "server.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self) -> None:
        env = {**os.environ, "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1"),
               "VOICE_AGENT_STORE__URL": f"sqlite:///{self.workdir / 'bench-store.db'}", **self.env}
        boot = "from agent.cli import main; main()"
        if env.get("VOICE_AGENT_LOOPWATCH"):  # bench --loopwatch: sample the event loop (bench/loopwatch.py)
            boot = "import agent.bench.loopwatch as w; w.start(); " + boot
        cmd = [sys.executable, "-c", boot, "serve", "--port", str(self.port)]
        if self.config is not None:
            cmd += ["--config", str(self.config)]
        started = time.monotonic()
        self.proc = await asyncio.to_thread(self._spawn, cmd, env)
        try:
            await self._wait_ready(started)
        except BaseException:
            self.stop()  # never leave a half-started server behind
            raise
        self.load_s = time.monotonic() - started

    async def _wait_ready(self, started: float) -> None:
        assert self.proc is not None
        async with httpx.AsyncClient(base_url=self.base, timeout=2) as http:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the server exited ({self.proc.returncode}):\n{self.tail()}")
                if time.monotonic() - started > self.ready_timeout_s:
                    raise RuntimeError(
                        f"the server was not ready in {self.ready_timeout_s:.0f}s:\n{self.tail()}"
                    )
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.25)

    def _spawn(self, cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with open(self.log_path, "wb") as log:
            return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)

    def tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
