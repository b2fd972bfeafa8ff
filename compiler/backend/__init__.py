"""Code generation: the `-t` targets that `mote-opt` and `mote compile` emit through."""

from collections.abc import Callable

from xdsl.utils.target import Target


def _c_target() -> type[Target]:
    from compiler.backend.c_target import CTarget

    return CTarget


def get_all_targets() -> dict[str, Callable[[], type[Target]]]:
    return {"c": _c_target}
