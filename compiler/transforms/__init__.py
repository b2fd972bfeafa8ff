"""mote's passes, one per file, each registered here under its pipeline name."""

from collections.abc import Callable

from xdsl.passes import ModulePass


def _fuse_requant() -> type[ModulePass]:
    from compiler.transforms.fuse_requant import FuseRequant

    return FuseRequant


def _fuse_linear() -> type[ModulePass]:
    from compiler.transforms.fuse_linear import FuseLinear

    return FuseLinear


def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    return {"fuse-requant": _fuse_requant, "fuse-linear": _fuse_linear}
