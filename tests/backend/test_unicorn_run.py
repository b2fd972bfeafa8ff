"""The unicorn runner (compiler/backend/unicorn_run.py + runtime_c/unicorn_hook/), which runs
rv32imc-xcv programs: on code without custom instructions it agrees exactly with the qemu runner
(outputs, instruction totals, per-function counts, blocks, edges, stack); on CORE-V code its
block counts equal single-stepped counts; the harness's failures and the emulator's own (an
access outside memory, an instruction it does not implement, a timeout, a missing unicorn) are
MoteErrors with a clear message, never a traceback."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from compiler.backend import unicorn_run
from compiler.backend.build import build_model
from compiler.backend.harness_io import input_bytes
from compiler.backend.run import GuardViolation, RunError, StackOverflow, run_model_binary
from compiler.backend.target import load_target
from compiler.errors import MoteError
from compiler.reference.interpreter import entry_function
from compiler.tools.compile_model import compile_model
from compiler.tools.ir_files import read_ir
from tests.deeploy_networks import ROOT

NETWORK = ROOT / "Kernels" / "Integer" / "Attention"
TOY = Path(__file__).parent / "fixtures" / "toy_model"
RV32 = load_target("rv32imc")
XCV = load_target("rv32imc-xcv")
REPO = Path(__file__).resolve().parents[2]


def _first_sample(out: Path, inputs: Path) -> bytes:
    module, _ = read_ir(out / "model.mlir")
    types = list(entry_function(module).function_type.inputs.data)
    data = np.load(inputs)
    first = [
        a[0] if a.ndim > len(t.get_shape()) else a  # type: ignore[attr-defined]
        for a, t in zip((data[k] for k in data.files), types, strict=False)
    ]
    return input_bytes(first, types)


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    """The Deeploy attention network compiled for rv32imc (GCC) and rv32imc-xcv (clang,
    CORE-V): (directory per target, the first input sample as harness bytes)."""
    root = tmp_path_factory.mktemp("attention")
    dirs = {}
    for target in ("rv32imc", "rv32imc-xcv"):
        compile_model(NETWORK / "network.onnx", root / target, target, NETWORK / "inputs.npz", False)
        dirs[target] = root / target
    return dirs, _first_sample(dirs["rv32imc"], NETWORK / "inputs.npz")


def test_qemu_and_unicorn_agree_on_a_gcc_build(network):
    dirs, blob = network
    exe = dirs["rv32imc"] / "model.elf"
    qemu = run_model_binary(exe, RV32, blob)
    uni = run_model_binary(exe, dataclasses.replace(RV32, runner="unicorn"), blob)
    assert uni.output_bytes == qemu.output_bytes and len(qemu.output_bytes) > 0
    assert uni.instructions_total == qemu.instructions_total > 0
    assert uni.instructions_model == qemu.instructions_model
    assert uni.instructions_per_function == qemu.instructions_per_function
    assert uni.blocks == qemu.blocks and uni.edges == qemu.edges
    assert uni.stack_bytes == qemu.stack_bytes and uni.sizes == qemu.sizes


def test_core_v_counts_match_single_stepping(network):
    """Every instruction counted on its own (a per-instruction hook) gives the same totals as
    the block counts, on a build whose executed code includes CORE-V instructions."""
    dirs, blob = network
    exe = dirs["rv32imc-xcv"] / "model.elf"
    blocks = unicorn_run.run_unicorn(exe, XCV, blob)
    stepped = unicorn_run.run_unicorn(exe, XCV, blob, single_step=True)
    assert all(b.instructions == 1 for b in stepped.blocks)
    assert stepped.output_bytes == blocks.output_bytes
    assert stepped.instructions_total == blocks.instructions_total
    assert stepped.instructions_per_function == blocks.instructions_per_function
    # The edges leaving each block add up to its executions (all but the last block of the run).
    leaving: dict[int, int] = {}
    for e in blocks.edges:
        leaving[e.source] = leaving.get(e.source, 0) + e.count
    runs: dict[int, int] = {}
    for b in blocks.blocks:
        runs[b.address] = runs.get(b.address, 0) + b.executions
    assert sum(runs.values()) - sum(leaving.values()) == 1
    # CORE-V instructions did run (single-stepped blocks are single instructions).
    listing = subprocess.run(
        ["llvm-objdump-19", "-d", "--mattr=+xcvsimd,+xcvmac,+xcvmem,+xcvalu,+xcvbi", str(exe)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    custom = {int(a, 16) for a in re.findall(r"^\s*([0-9a-f]+):\s+[0-9a-f]{8}\s+cv\.", listing, re.M)}
    assert custom and sum(b.executions for b in stepped.blocks if b.address in custom) > 1000


def toy(root: Path, n: int = 256, **defines: object) -> Path:
    """A copy of the toy model (tests/backend/fixtures) with TOY_N = n and extra macros."""
    d = root / ("toy" + "".join(f"_{k}{v}" for k, v in sorted(defines.items())))
    shutil.copytree(TOY, d)
    extra = "".join(f"#define {k} {v}\n" for k, v in {"TOY_N": n, **defines}.items())
    header = d / "model.h"
    header.write_text(header.read_text().replace("#define MODEL_H\n", "#define MODEL_H\n" + extra, 1))
    return d


def test_toy_outputs_and_counts_on_xcv(tmp_path):
    exe = build_model(toy(tmp_path), XCV, tmp_path / "toy.elf")
    a = np.arange(256, dtype=np.int64).astype(np.int8)
    b = (np.arange(256, dtype=np.int16) * 37 - 4000).astype(np.int16)
    r = run_model_binary(exe, XCV, a.tobytes() + b.tobytes())
    assert np.array_equal(np.frombuffer(r.output_bytes[:512], np.int16), (2 * (a.astype(np.int16) + b)))
    assert int(np.frombuffer(r.output_bytes[512:], np.int32)[0]) == int(a.astype(np.int64).sum())
    assert r.instructions_per_function["toy_add"] % 256 == 0 and r.instructions_model > 0
    assert r.stack_bytes is not None and r.stack_bytes > 0 and r.sizes is not None
    assert r.edges and sum(b.instructions * b.executions for b in r.blocks) == r.instructions_total
    quiet = run_model_binary(exe, XCV, a.tobytes() + b.tobytes(), count=False)
    assert quiet.output_bytes == r.output_bytes and quiet.instructions_total is None and not quiet.blocks


def test_harness_failures(tmp_path):
    with pytest.raises(GuardViolation, match="past the end of its arena"):
        run_model_binary(build_model(toy(tmp_path, TOY_OVERRUN=1), XCV, tmp_path / "o.elf"), XCV, bytes(768))
    big = build_model(toy(tmp_path, TOY_BIG_STACK=XCV.stack_bytes + 64), XCV, tmp_path / "s.elf")
    with pytest.raises(StackOverflow, match="stack overflow"):
        run_model_binary(big, XCV, bytes(768))
    exe = build_model(toy(tmp_path), XCV, tmp_path / "t.elf")
    with pytest.raises(RunError, match="(?s)status 10.*shorter than MOTE_MODEL_INPUT_BYTES"):
        run_model_binary(exe, XCV, bytes(767))


def test_emulator_failures(tmp_path):
    # The stack far past its reservation, below the RAM: a write to unmapped memory (by a plain
    # store, which unicorn reports, or by a CORE-V post-increment store, which the hook reports).
    far = build_model(toy(tmp_path, TOY_BIG_STACK=64 << 10), XCV, tmp_path / "far.elf")
    outside = r"(UC_ERR_WRITE_UNMAPPED|at 0x[0-9a-f]+ outside the program's writable memory)"
    with pytest.raises(RunError, match=rf"rv32imc-xcv \(unicorn\): .*{outside}.*pc 0x"):
        run_model_binary(far, XCV, bytes(768))
    # An instruction the hook does not implement (xcvbitmanip's cv.cnt a0, a0: 0x4805352b).
    src = toy(tmp_path / "bad")
    model = src / "model.c"
    model.write_text(
        model.read_text().replace(
            "return (int16_t)(a + b);", '__asm__ volatile(".word 0x4805352b");\n    return a + b;'
        )
    )
    with pytest.raises(RunError, match=r"unsupported instruction 0x4805352b at 0x[0-9a-f]+ \(not a CORE-V"):
        run_model_binary(build_model(src, XCV, tmp_path / "bad.elf"), XCV, bytes(768))
    # A program that never ends.
    src = toy(tmp_path / "loop")
    model = src / "model.c"
    model.write_text(model.read_text().replace("int32_t total = 0;", "int32_t total = 0;\n    for (;;) {}"))
    with pytest.raises(RunError, match="did not finish within 0.5 s on rv32imc-xcv"):
        run_model_binary(build_model(src, XCV, tmp_path / "loop.elf"), XCV, bytes(768), timeout=0.5)
    # Not an rv32 ELF at all.
    with pytest.raises(MoteError, match="cannot read it as an ELF"):
        run_model_binary(model, XCV, b"")


def test_missing_unicorn(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "unicorn" else real(name, *a)
    )
    with pytest.raises(MoteError, match=r"needs the Python package `unicorn`.*make setup"):
        unicorn_run.unicorn_package()
    monkeypatch.undo()
    fake = tmp_path / "fake" / "unicorn"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(fake.parent))
    with pytest.raises(MoteError, match=r"lacks lib/libunicorn.so.2 .*binary wheel"):
        unicorn_run.unicorn_package()


def test_missing_unicorn_through_the_cli(network, tmp_path):
    """`mote run` with a unicorn package that has no library: one message, status 1."""
    dirs, _ = network
    fake = tmp_path / "fake" / "unicorn"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(fake.parent), str(REPO)])}
    r = subprocess.run(
        [sys.executable, "-m", "compiler.tools.mote", "run", str(dirs["rv32imc-xcv"]), "--inputs",
         str(NETWORK / "inputs.npz"), "--outputs", str(tmp_path / "o.npz")],
        capture_output=True, text=True, env=env, cwd=REPO,
    )  # fmt: skip
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "lacks lib/libunicorn.so.2" in r.stderr


def test_xcv_target_file():
    assert (XCV.runner, XCV.cc[0], XCV.mabi) == ("unicorn", "clang-19", "ilp32")
    assert XCV.march == "rv32imc_zicsr_xcvsimd_xcvmac_xcvmem_xcvalu_xcvbi"
    assert "-DMOTE_XPULP" in XCV.cflags and "-Werror" in XCV.cflags
    # The same memories, stack and base costs as rv32imc, plus the extension classes.
    assert (XCV.memory, XCV.stack_bytes, XCV.linker_script) == (
        RV32.memory,
        RV32.stack_bytes,
        RV32.linker_script,
    )
    assert {k: XCV.costs[k] for k in RV32.costs} == dict(RV32.costs)
    assert {"simd_dot", "mac", "post_increment_load", "hwloop_setup"} <= set(XCV.costs)
