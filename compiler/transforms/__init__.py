"""mote's passes, one per file, each registered here under its pipeline name."""

from collections.abc import Callable

from xdsl.passes import ModulePass


def _fuse_requant() -> type[ModulePass]:
    from compiler.transforms.fuse_requant import FuseRequant

    return FuseRequant


def _fuse_linear() -> type[ModulePass]:
    from compiler.transforms.fuse_linear import FuseLinear

    return FuseLinear


def _qtfm_to_tile() -> type[ModulePass]:
    from compiler.transforms.qtfm_to_tile import QtfmToTile

    return QtfmToTile


def _plan_memory() -> type[ModulePass]:
    from compiler.transforms.plan_memory import PlanMemory

    return PlanMemory


def _tile_to_loops() -> type[ModulePass]:
    from compiler.transforms.tile_to_loops import TileToLoops

    return TileToLoops


def _tile_attention_rows() -> type[ModulePass]:
    from compiler.transforms.tile_attention_rows import TileAttentionRows

    return TileAttentionRows


def _tile_embedding_rows() -> type[ModulePass]:
    from compiler.transforms.tile_embedding_rows import TileEmbeddingRows

    return TileEmbeddingRows


def _tile_ffn_rows() -> type[ModulePass]:
    from compiler.transforms.tile_ffn_rows import TileFfnRows

    return TileFfnRows


def _tile_layer_rows() -> type[ModulePass]:
    from compiler.transforms.tile_layer_rows import TileLayerRows

    return TileLayerRows


def _compress_embedding() -> type[ModulePass]:
    from compiler.transforms.compress_embedding import CompressEmbedding

    return CompressEmbedding


def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    return {
        "compress-embedding": _compress_embedding,
        "fuse-requant": _fuse_requant,
        "fuse-linear": _fuse_linear,
        "qtfm-to-tile": _qtfm_to_tile,
        "plan-memory": _plan_memory,
        "tile-to-loops": _tile_to_loops,
        "tile-attention-rows": _tile_attention_rows,
        "tile-embedding-rows": _tile_embedding_rows,
        "tile-ffn-rows": _tile_ffn_rows,
        "tile-layer-rows": _tile_layer_rows,
    }
