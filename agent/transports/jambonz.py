"""jambonz `listen` verb with `bidirectionalAudio.streaming` (subprotocol `audio.jambonz.org`).

Same wire protocol as FreeSWITCH mod_audio_fork (see `audio_fork`). jambonz always sends
JSON metadata (`sampleRate`, `callSid`, ... with the verb's `metadata` merged in); our
`call_id`/`token` come from there (top level or a nested `metadata` object), or the shared
secret from the `wsAuth` Basic credentials. The rate we send back is the verb's
`bidirectionalAudio.sampleRate`, which jambonz does not repeat in the metadata: pass it
as `out_sample_rate` in the metadata (or the URL query), else the inbound rate is used.
`disconnect` ends only the listen verb; the jambonz app's next verb runs (put a `hangup`).
"""

from __future__ import annotations

from agent.transports.audio_fork import AudioForkAdapter


class JambonzAdapter(AudioForkAdapter):
    """Adapter for jambonz `listen` with bidirectional streaming audio."""

    protocol = "jambonz"
    subprotocols: tuple[str, ...] = ("audio.jambonz.org",)
    default_rate = 8000  # jambonz's listen default; it always states sampleRate anyway
    metadata_must_be_json = True
