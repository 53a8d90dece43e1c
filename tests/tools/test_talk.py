"""`voice-agent talk` on a virtual audio device: PulseAudio null sinks as microphone and speaker.

A private PulseAudio server (user mode, its own socket) gets two null sinks: `va_speaker`
(the agent's output; its monitor is recorded) and `va_mic_feed`, whose monitor is remapped
into the source `va_mic` that PortAudio's ALSA `pulse` device captures. A Piper-synthesised
"Yes, this is John." is played into the microphone after the agent's opening question.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from agent.talk.playback import Playback
from tests.conftest import missing_prerequisite

REPO = Path(__file__).resolve().parents[2]
CUSTOMER_LINE = "Yes, this is John."


def test_playback_marks_clear_and_echo_guard() -> None:
    pb = Playback()
    pb.add(np.ones(500, np.int16))
    pb.mark("m1")
    pb.add(np.ones(300, np.int16))
    pb.mark("m2")
    assert pb.speaking(0.2)
    assert pb.read(400).sum() == 400 and pb.due_marks() == []
    assert pb.read(200)[:100].sum() == 100 and pb.due_marks() == ["m1"]
    assert pb.clear() == ["m2"]
    assert pb.buffered == 0 and pb.read(50).sum() == 0
    assert pb.speaking(0.2)  # hangover right after the last sample
    assert not pb.speaking(0.2, now=pb.last_audio_at + 0.3)


def _need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        missing_prerequisite(f"{', '.join(missing)} not installed; run scripts/setup-audio-devices.sh")


@pytest.fixture()
def pulse(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A private PulseAudio server with a virtual microphone and speaker; yields the client env."""
    _need("pulseaudio", "pactl", "paplay", "parec")
    pytest.importorskip("sounddevice", reason="pip install sounddevice (and libportaudio2)")
    home = tmp_path / "pulse"
    home.mkdir()
    socket = home / "native"
    env = {**os.environ, "HOME": str(home), "PULSE_RUNTIME_PATH": str(home / "run"),
           "XDG_RUNTIME_DIR": str(home), "PULSE_SERVER": f"unix:{socket}"}
    proc = subprocess.Popen(
        ["pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "--system=false", "-n",
         "--disallow-exit", "--use-pid-file=false", "--log-target=stderr",
         f"--load=module-native-protocol-unix auth-anonymous=1 socket={socket}",
         "--load=module-null-sink sink_name=va_speaker rate=16000 channels=1",
         "--load=module-null-sink sink_name=va_mic_feed rate=16000 channels=1",
         "--load=module-remap-source source_name=va_mic master=va_mic_feed.monitor"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        for _ in range(100):
            if subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode == 0:
                break
            if proc.poll() is not None:
                pytest.fail(f"pulseaudio did not start: {proc.stderr.read().decode()[-500:]}")  # type: ignore[union-attr]
            time.sleep(0.1)
        subprocess.run(["pactl", "set-default-sink", "va_speaker"], env=env, check=True)
        subprocess.run(["pactl", "set-default-source", "va_mic"], env=env, check=True)
        yield env
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


def _customer_wav(path: Path, models_dir: Path) -> float:
    """Write the customer's line as a 16 kHz WAV with a little silence around it; returns seconds."""
    from agent.models.resolver import resolve
    from agent.tts.piper_tts import PiperSynthesizer

    pcm = PiperSynthesizer(resolve("tts-en", models_dir=models_dir).path).synthesize(CUSTOMER_LINE).pcm16k
    pcm = np.concatenate([np.zeros(1600, np.int16), pcm, np.zeros(3200, np.int16)])
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(pcm.astype("<i2").tobytes())
    return len(pcm) / 16000


class Lines:
    """Collects a process's stdout lines in a thread; waits for patterns in order."""

    def __init__(self, stream: object) -> None:
        self.lines: list[str] = []
        self._cond = threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: object) -> None:
        for raw in stream:  # type: ignore[attr-defined]
            with self._cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip())
                self._cond.notify_all()

    def wait_for(self, needle: str, after: int = 0, timeout: float = 60.0) -> int:
        """Index of the first line at or after `after` containing needle."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i in range(after, len(self.lines)):
                    if needle in self.lines[i]:
                        return i
                left = deadline - time.monotonic()
                if left <= 0:
                    shown = "\n".join(self.lines)
                    raise AssertionError(f"{needle!r} not seen in {timeout:.0f}s; output:\n{shown}")
                self._cond.wait(left)


@pytest.mark.slow
@pytest.mark.models
def test_talk_on_virtual_audio_device(pulse: dict[str, str], tmp_path: Path) -> None:
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    wav = tmp_path / "customer.wav"
    line_s = _customer_wav(wav, models_dir)
    rec_path = tmp_path / "speaker.raw"
    env = {**pulse, "PYTHONUNBUFFERED": "1", "COLUMNS": "200", "TERM": "dumb",
           "VOICE_AGENT_STORE__URL": f"sqlite:///{tmp_path / 'talk.db'}",
           "VOICE_AGENT_MODELS__DIR": str(models_dir)}
    with rec_path.open("wb") as rec_file:
        recorder = subprocess.Popen(
            ["parec", "--device=va_speaker.monitor", "--format=s16le", "--rate=16000", "--channels=1",
             "--raw", "--latency-msec=20"],
            env=env, stdout=rec_file,
        )
        rec_t0 = time.monotonic()
        talk = subprocess.Popen(
            [sys.executable, "-c", "from agent.cli import main; main()", "talk",
             "--input-device", "pulse", "--output-device", "pulse"],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        out = Lines(talk.stdout)
        try:
            asked = out.wait_for("Am I speaking with", timeout=90)
            out.wait_for("listening", after=asked + 1, timeout=30)
            spoke_at = time.monotonic() - rec_t0
            subprocess.run(["paplay", "--device=va_mic_feed", str(wav)], env=env, check=True, timeout=30)
            heard = out.wait_for("you ", after=asked + 1, timeout=30)
            assert "John" in out.lines[heard], out.lines[heard]
            assert "intent=" in out.lines[heard]
            replied = out.wait_for("agent ", after=heard + 1, timeout=30)
            out.wait_for("turn: voice-to-voice", after=heard + 1, timeout=30)
            time.sleep(3.0)  # let some of the reply play out of the virtual speaker
        finally:
            talk.send_signal(signal.SIGINT)
            try:
                code = talk.wait(30)
            except subprocess.TimeoutExpired:
                talk.kill()
                code = -9
            recorder.terminate()
            recorder.wait(5)
    transcript = "\n".join(out.lines)
    assert code == 0, transcript
    assert "opt_out" not in out.lines[replied] and "Goodbye" not in out.lines[replied]
    audio = np.frombuffer(rec_path.read_bytes(), dtype="<i2").astype(np.float64)
    rate = 16000
    opening = audio[: int(spoke_at * rate)]
    reply = audio[int((spoke_at + line_s) * rate) :]
    rms = lambda a: float(np.sqrt(np.mean(a**2))) if a.size else 0.0  # noqa: E731
    assert rms(opening) > 300, "the agent's opening did not come out of the virtual speaker"
    assert rms(reply) > 300, f"no agent reply on the virtual speaker after the customer spoke:\n{transcript}"
