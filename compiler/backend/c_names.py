"""C identifiers for the C emitter: IR names (SSA name hints, weight names, I/O names) made
into valid, readable, collision-free C names.

Generated C lives in one namespace with the C library, <stdint.h> and the runtime headers, so
file-scope names all start with `mote_`, local names never do, and neither ever spells a
keyword or a standard type or macro. Names are chosen in IR order, so the same module always
gets the same names; a name declared inside a C block is free again after it (sibling loops
both count with `i`), and never shadows an enclosing one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

C_KEYWORDS = frozenset(
    """auto break case char const continue default do double else enum extern float for goto if
    inline int long register restrict return short signed sizeof static struct switch typedef
    union unsigned void volatile while _Bool _Complex _Imaginary bool true false asm typeof
    alignas alignof static_assert thread_local nullptr constexpr""".split()
)

C_STANDARD_NAMES = frozenset(
    """int8_t int16_t int32_t int64_t uint8_t uint16_t uint32_t uint64_t intptr_t uintptr_t
    size_t ptrdiff_t NULL main memcpy memset errno assert offsetof
    INT8_MIN INT16_MIN INT32_MIN INT64_MIN INT8_MAX INT16_MAX INT32_MAX INT64_MAX
    UINT8_MAX UINT16_MAX UINT32_MAX UINT64_MAX INT64_C UINT64_C SIZE_MAX""".split()
)

GLOBAL_PREFIX = "mote_"

_NOT_IDENT = re.compile(r"[^A-Za-z0-9_]+")


def sanitize(name: str, fallback: str = "v") -> str:
    """`name` with every run of non-identifier characters replaced by `_`; never empty, never
    starting with a digit or an underscore (C reserves `_X` and `__x`)."""
    ident = _NOT_IDENT.sub("_", name).strip("_")
    if not ident:
        return fallback
    if ident[0].isdigit():
        ident = f"{fallback}{ident}" if fallback[-1:] != "_" else fallback + ident
    return ident


class NameScope:
    """Hands out unique C identifiers inside one scope (a function, or the file scope)."""

    def __init__(self, reserved: Iterable[str] = (), local: bool = True) -> None:
        self._taken: set[str] = set(C_KEYWORDS) | set(C_STANDARD_NAMES) | set(reserved)
        self._counters: dict[str, int] = {}
        self._local = local
        self._blocks: list[tuple[set[str], dict[str, int]]] = []

    def reserve(self, name: str) -> None:
        self._taken.add(name)

    def is_free(self, name: str) -> bool:
        return name not in self._taken

    def named(self, hint: str, fallback: str = "v") -> str:
        """A name from an IR name: `hint` itself when free, else `hint_1`, `hint_2`, ..."""
        base = sanitize(hint, fallback)
        if self._local and base.startswith(GLOBAL_PREFIX):
            base = f"v_{base}"
        if base not in self._taken:
            return self._take(base)
        n = 1
        while f"{base}_{n}" in self._taken:
            n += 1
        return self._take(f"{base}_{n}")

    def numbered(self, prefix: str) -> str:
        """A name for an unnamed value: `prefix0`, `prefix1`, ..."""
        n = self._counters.get(prefix, 0)
        while f"{prefix}{n}" in self._taken:
            n += 1
        self._counters[prefix] = n + 1
        return self._take(f"{prefix}{n}")

    def push(self) -> None:
        """Enters a C block: names taken inside it are free again after `pop`."""
        self._blocks.append((set(), dict(self._counters)))

    def pop(self) -> None:
        names, counters = self._blocks.pop()
        self._taken -= names
        self._counters = counters

    def _take(self, name: str) -> str:
        self._taken.add(name)
        if self._blocks:
            self._blocks[-1][0].add(name)
        return name
