"""Local audio devices through PortAudio (sounddevice): listing them and picking one by name or index."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Literal

Kind = Literal["input", "output"]
SETUP_HINT = "run scripts/setup-audio-devices.sh (Debian packages libportaudio2, pulseaudio)"


class AudioUnavailable(RuntimeError):
    """PortAudio or a usable device is missing; the message says what to do."""


def portaudio() -> ModuleType:
    """The sounddevice module, or AudioUnavailable when PortAudio cannot be loaded."""
    try:
        import sounddevice
    except ImportError as exc:
        raise AudioUnavailable(f"PortAudio is not available ({exc}); {SETUP_HINT}") from exc
    except OSError as exc:
        raise AudioUnavailable(f"PortAudio library not found; {SETUP_HINT}") from exc
    module: ModuleType = sounddevice
    return module


@dataclass(frozen=True, slots=True)
class AudioDevice:
    """One PortAudio device as the user sees it."""

    index: int
    name: str
    hostapi: str
    inputs: int
    outputs: int
    default_rate: int
    default_input: bool
    default_output: bool


def list_devices() -> list[AudioDevice]:
    """Every device PortAudio knows, with default input/output flagged."""
    sd = portaudio()
    apis = sd.query_hostapis()
    try:
        default_in, default_out = sd.default.device
    except Exception:  # noqa: BLE001 - no default device is fine for a listing
        default_in = default_out = -1
    out = []
    for dev in sd.query_devices():
        out.append(
            AudioDevice(
                index=int(dev["index"]),
                name=str(dev["name"]),
                hostapi=str(apis[dev["hostapi"]]["name"]),
                inputs=int(dev["max_input_channels"]),
                outputs=int(dev["max_output_channels"]),
                default_rate=int(dev["default_samplerate"]),
                default_input=int(dev["index"]) == default_in,
                default_output=int(dev["index"]) == default_out,
            )
        )
    return out


def pick(spec: str | None, kind: Kind) -> int | None:
    """Device index for `spec` (an index, an exact name or a unique part of one); None = system default."""
    devices = [d for d in list_devices() if (d.inputs if kind == "input" else d.outputs) > 0]
    if not devices:
        raise AudioUnavailable(f"no audio {kind} device found; {SETUP_HINT}")
    if spec is None or spec == "":
        return None
    if spec.isdigit():
        if any(d.index == int(spec) for d in devices):
            return int(spec)
        raise AudioUnavailable(f"{spec} is not an {kind} device index; see `voice-agent talk --list-devices`")
    exact = [d for d in devices if d.name.lower() == spec.lower()]
    partial = [d for d in devices if spec.lower() in d.name.lower()]
    found = exact or partial
    if len(found) == 1 or exact:
        return found[0].index
    if not found:
        raise AudioUnavailable(f"no {kind} device matches {spec!r}; see `voice-agent talk --list-devices`")
    names = ", ".join(repr(d.name) for d in found)
    raise AudioUnavailable(f"{spec!r} matches several {kind} devices ({names}); give the index instead")
