"""Compile one qtfm program through the whole C pipeline and run it on the host: the oracle
harness of the loop-kernel property tests (the reference interpreter is the expected side)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser

from compiler.backend.build import build_model
from compiler.backend.c_emitter import emit_c
from compiler.backend.harness_io import input_bytes, output_arrays
from compiler.backend.memory_check import check_memory
from compiler.backend.run import run_model_binary
from compiler.backend.target import load_target
from compiler.reference.interpreter import Interpreter, entry_function
from compiler.tools.ir_files import mote_context
from compiler.tools.pipeline import LOWERING_PIPELINE, run_pipeline


def parse(src: str) -> ModuleOp:
    module = Parser(mote_context(), src).parse_module()
    module.verify()
    return module


def reference(
    src: str, inputs: list[np.ndarray], weights: dict[str, np.ndarray] | None = None
) -> list[np.ndarray]:
    return Interpreter(parse(src), weights or {}).run(inputs)


def host_c(
    src: str,
    inputs: list[np.ndarray],
    weights: dict[str, np.ndarray] | None = None,
    pipeline: str = LOWERING_PIPELINE,
) -> list[np.ndarray]:
    """The program's outputs computed by its generated C on the host (`pipeline`: the
    lowering, e.g. with the SIMD kernels, whose intrinsics run as portable C there)."""
    module = parse(src)
    f = entry_function(module)
    in_types = list(f.function_type.inputs.data)
    out_types = list(f.function_type.outputs.data)
    run_pipeline(module, pipeline)
    check_memory(module)
    host = load_target("host")
    with tempfile.TemporaryDirectory(prefix="mote-oracle-") as tmp:
        emit_c(module, weights or {}, Path(tmp) / "c")
        exe = build_model(Path(tmp) / "c", host, Path(tmp) / "model")
        data = run_model_binary(exe, host, input_bytes(inputs, in_types)).output_bytes
    return [a.astype(np.int64) for a in output_arrays(data, out_types)]


def assert_same(
    src: str,
    inputs: list[np.ndarray],
    weights: dict[str, np.ndarray] | None = None,
    pipeline: str = LOWERING_PIPELINE,
) -> None:
    want = reference(src, inputs, weights)
    got = host_c(src, inputs, weights, pipeline)
    for w, g in zip(want, got, strict=True):
        np.testing.assert_array_equal(g, w.astype(np.int64))
