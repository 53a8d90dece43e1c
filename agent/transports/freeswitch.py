"""FreeSWITCH `mod_audio_fork` with bidirectional streaming (subprotocol `audio.drachtio.org`).

Same wire protocol as jambonz (see `audio_fork`). The first text frame is the `<metadata>`
argument of `uuid_audio_fork` verbatim: JSON with `call_id`, `token` and `sampleRate` by
our convention (a non-JSON string is kept as `metadata_text`, and then credentials come
from the URL query or Basic auth via MOD_AUDIO_BASIC_AUTH_USERNAME/PASSWORD). Without a
stated rate, 8 kHz is assumed. `disconnect` only raises `mod_audio_fork::disconnect`; the
controlling app (ESL, Lua) must hang the channel up. DTMF reaches us only when the app
forwards it with `send_text {"event":"dtmf","dtmf":"5"}`.
"""

from __future__ import annotations

from agent.transports.audio_fork import AudioForkAdapter


class FreeswitchAdapter(AudioForkAdapter):
    """Adapter for FreeSWITCH mod_audio_fork (drachtio or jambonz build) in streaming bidir mode."""

    protocol = "freeswitch"
    subprotocols: tuple[str, ...] = ("audio.drachtio.org", "audio.jambonz.org")
    default_rate = 8000
    metadata_must_be_json = False
