"""How a call socket ends: the WebSocket close codes the runtime uses, and `Refused`.

A leaf module (it imports nothing from the project), so the runtime, the socket runner
and the adapters can all name the same codes without importing each other.
"""

from __future__ import annotations

CLOSE_NORMAL = 1000  # the call ended
CLOSE_UNSUPPORTED = 1003  # data the endpoint cannot accept (malformed or unknown messages)
CLOSE_POLICY = 1008  # policy violation: credentials, sequence, budgets
CLOSE_TOO_BIG = 1009  # a message or a field over its limit
CLOSE_ERROR = 1011  # an internal error (a bug: it is logged with its traceback)
CLOSE_TRY_AGAIN = 1013  # overloaded or the store is unavailable


class Refused(Exception):
    """The call may not run (bad credentials, gate refusal, store down); closes with `code`."""

    def __init__(self, message: str, code: int = CLOSE_POLICY) -> None:
        super().__init__(message)
        self.code = code
