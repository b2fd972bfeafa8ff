"""Code generation: the `-t` targets that `mote-opt` and `mote compile` emit through."""

from collections.abc import Callable

from xdsl.utils.target import Target


def get_all_targets() -> dict[str, Callable[[], type[Target]]]:
    return {}
