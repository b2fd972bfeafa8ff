"""Errors that reach the user as one message and an exit status, never as a traceback.

`NotImplementedYet` marks paths the project has not built: they exit with status 2 and say
so, rather than producing a placeholder. Every other user error exits with status 1.
"""

from __future__ import annotations


class MoteError(Exception):
    """A user-facing error: bad input, a model that cannot be compiled, a failed run."""


class NotImplementedYet(MoteError):
    """A capability of the CLI contract that is not built yet (exit status 2)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"not implemented yet: {what}")
