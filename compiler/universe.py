"""Registers mote's dialects, passes and targets with xDSL, so that `mote-opt` (and plain
`xdsl-opt`, through the `xdsl.universe` entry point) knows them."""

from collections.abc import Callable

from xdsl.ir import Dialect
from xdsl.passes import ModulePass
from xdsl.universe import Universe
from xdsl.utils.target import Target


def _qtfm() -> Dialect:
    from dialects.qtfm import QTFM

    return QTFM


def _tile() -> Dialect:
    from dialects.tile import TILE

    return TILE


def _xpulp() -> Dialect:
    from dialects.xpulp import XPULP

    return XPULP


def get_mote_dialects() -> dict[str, Callable[[], Dialect]]:
    return {"qtfm": _qtfm, "tile": _tile, "xpulp": _xpulp}


def get_mote_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    from compiler.transforms import get_all_passes

    return get_all_passes()


def get_mote_targets() -> dict[str, Callable[[], type[Target]]]:
    from compiler.backend import get_all_targets

    return get_all_targets()


MOTE_UNIVERSE = Universe(
    all_dialects=get_mote_dialects(),
    all_passes=get_mote_passes(),
    all_targets=get_mote_targets(),
)
