"""Building a model directory with the C runtime and running it (compiler/backend/build.py and
run.py), on the hand-written toy model of fixtures/toy_model: outputs, exact instruction
counts, the harness's own cost kept out of the model's, guard and stack checks, sizes."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from compiler.backend import run as run_module
from compiler.backend.build import RUNTIME_DIR, build_command, build_model
from compiler.backend.run import (
    GuardViolation,
    RunError,
    StackOverflow,
    is_harness_function,
    run_model_binary,
)
from compiler.backend.target import load_target
from compiler.errors import MoteError

FIXTURE = Path(__file__).parent / "fixtures" / "toy_model"
HOST = load_target("host")
RV32 = load_target("rv32imc")
MODEL_FUNCTIONS = {"mote_model_run_io", "toy_add"}


def toy_dir(root: Path, n: int = 256, **defines: object) -> Path:
    """A copy of the toy model with TOY_N = n and the given extra macros."""
    name = f"toy{n}" + "".join(f"_{k}{v}" for k, v in sorted(defines.items()))
    d = root / name
    shutil.copytree(FIXTURE, d)
    extra = "".join(f"#define {k} {v}\n" for k, v in {"TOY_N": n, **defines}.items())
    header = d / "model.h"
    header.write_text(header.read_text().replace("#define MODEL_H\n", "#define MODEL_H\n" + extra, 1))
    return d


def toy_inputs(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(-128, 128, n, dtype=np.int8), rng.integers(-9000, 9000, n, dtype=np.int16)


def check_outputs(out: bytes, a: np.ndarray, b: np.ndarray) -> None:
    n = len(a)
    assert len(out) == 2 * n + 4
    expected = (2 * (a.astype(np.int16) + b)).astype(np.int16)
    np.testing.assert_array_equal(np.frombuffer(out[: 2 * n], np.int16), expected)
    assert int(np.frombuffer(out[2 * n :], np.int32)[0]) == int(a.astype(np.int64).sum())


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Executables built once per module: (target name, TOY_N, variant) -> path."""
    root = tmp_path_factory.mktemp("toy")
    cache: dict[tuple, Path] = {}

    def get(target: str, n: int = 256, sanitize: bool = False, **defines: object) -> Path:
        key = (target, n, sanitize, tuple(sorted(defines.items())))
        if key not in cache:
            src = toy_dir(root / f"{target}{'-asan' if sanitize else ''}", n, **defines)
            cache[key] = build_model(src, load_target(target), src / "model.elf", sanitize=sanitize)
        return cache[key]

    return get


@pytest.mark.parametrize("sanitize", [False, True], ids=["host", "host-sanitizers"])
def test_host_outputs(built, sanitize):
    a, b = toy_inputs(256)
    result = run_model_binary(built("host", sanitize=sanitize), HOST, a.tobytes() + b.tobytes())
    check_outputs(result.output_bytes, a, b)
    assert result.instructions_total is None and result.stack_bytes is None
    assert result.sizes is not None and result.sizes.text > 0


def test_rv32_outputs_counts_and_sizes(built):
    a, b = toy_inputs(256, seed=1)
    exe = built("rv32imc")
    first = run_model_binary(exe, RV32, a.tobytes() + b.tobytes())
    check_outputs(first.output_bytes, a, b)
    # Reproducible to the instruction, and independent of the input values (no data-dependent branches).
    again = run_model_binary(exe, RV32, bytes(3 * 256))
    assert again.blocks == first.blocks and again.instructions_per_function == first.instructions_per_function

    per_function = first.instructions_per_function
    assert sum(per_function.values()) == first.instructions_total
    assert sum(b.instructions * b.executions for b in first.blocks) == first.instructions_total
    # Everything outside the harness is the model's own code: the harness calls no library function.
    assert {f for f in per_function if not is_harness_function(f)} == MODEL_FUNCTIONS
    assert first.instructions_model == sum(per_function[f] for f in MODEL_FUNCTIONS)
    assert per_function["toy_add"] == 256 * 4  # four instructions, once per element

    assert first.stack_bytes is not None and 8 <= first.stack_bytes <= 256
    sizes = first.sizes
    assert sizes is not None and sizes.text > 0 and sizes.rodata > 0 and sizes.stack == RV32.stack_bytes
    assert sizes.static_ram == sizes.data + sizes.tdata + sizes.tbss + sizes.bss > 3 * 256
    assert sizes.flash == sizes.text + sizes.rodata + sizes.data + sizes.tdata


def test_rv32_counts_match_single_stepping(built):
    """With one instruction per translation block QEMU counts every instruction on its own:
    the per-block counts must add up to exactly the same total."""
    exe = built("rv32imc")
    normal = run_model_binary(exe, RV32, bytes(3 * 256))
    single = dataclasses.replace(RV32, emulator=(*RV32.emulator, "-singlestep"))
    stepped = run_model_binary(exe, single, bytes(3 * 256))
    assert all(b.instructions == 1 for b in stepped.blocks)
    assert stepped.instructions_total == normal.instructions_total
    assert stepped.instructions_per_function == normal.instructions_per_function


def test_model_count_excludes_the_harness(built):
    """The model's count is affine in TOY_N, exactly; the harness's does not grow with the model
    (it moves by a few instructions where linker relaxation or a larger size constant changes
    how an address or size is materialized)."""
    sizes = (64, 256, 320)
    runs = [run_model_binary(built("rv32imc", n), RV32, bytes(3 * n)) for n in sizes]
    harness = [r.instructions_total - r.instructions_model for r in runs]
    assert max(harness) - min(harness) <= 8
    model = [r.instructions_model for r in runs]
    per_element = (model[1] - model[0]) // (sizes[1] - sizes[0])
    assert model[1] - model[0] == per_element * (sizes[1] - sizes[0])
    assert model[2] - model[1] == per_element * (sizes[2] - sizes[1])
    # Each element costs toy_add's four instructions plus the loop bodies of mote_model_run_io.
    for r, n in zip(runs, sizes, strict=True):
        assert r.instructions_per_function["toy_add"] == 4 * n
    assert per_element > 4


@pytest.mark.parametrize("target", ["host", "rv32imc"])
def test_arena_overrun_is_a_guard_violation(built, target):
    exe = built(target, TOY_OVERRUN=1)
    with pytest.raises(GuardViolation, match="past the end of its arena"):
        run_model_binary(exe, load_target(target), bytes(3 * 256))


def test_stack_measure_and_overflow(built):
    deep = run_model_binary(built("rv32imc", TOY_BIG_STACK=2000), RV32, bytes(3 * 256))
    assert 2000 <= deep.stack_bytes <= 2000 + 128
    with pytest.raises(StackOverflow, match="stack overflow"):
        run_model_binary(built("rv32imc", TOY_BIG_STACK=RV32.stack_bytes + 64), RV32, bytes(3 * 256))
    # Far past the reservation and below the RAM: a crash, reported as such.
    with pytest.raises(RunError, match="killed by SIGSEGV"):
        run_model_binary(built("rv32imc", TOY_BIG_STACK=64 << 10), RV32, bytes(3 * 256))


@pytest.mark.parametrize("target", ["host", "rv32imc"])
def test_input_of_the_wrong_size(built, target):
    exe, t = built(target), load_target(target)
    with pytest.raises(RunError, match="shorter than MOTE_MODEL_INPUT_BYTES") as err:
        run_model_binary(exe, t, bytes(3 * 256 - 1))
    assert "status 10" in str(err.value)
    with pytest.raises(RunError, match="longer than MOTE_MODEL_INPUT_BYTES"):
        run_model_binary(exe, t, bytes(3 * 256 + 1))


def test_exit_statuses_match_the_runtime_header():
    header = (RUNTIME_DIR / "include" / "mote_runtime.h").read_text()
    found = dict(re.findall(r"#define MOTE_EXIT_([A-Z_]+) ([0-9]+)", header))
    assert {k: int(v) for k, v in found.items()} == {
        "OK": 0,
        "BAD_INPUT": run_module.EXIT_BAD_INPUT,
        "IO": run_module.EXIT_IO,
        "GUARD": run_module.EXIT_GUARD,
        "STACK": run_module.EXIT_STACK,
    }


def test_build_is_deterministic(built, tmp_path):
    src = toy_dir(tmp_path)
    first = build_model(src, RV32, tmp_path / "a" / "model.elf")
    second = build_model(src, RV32, tmp_path / "b" / "model.elf")
    assert first.read_bytes() == second.read_bytes()
    assert build_command(src, RV32, first) == build_command(src, RV32, first)


def test_build_errors(tmp_path):
    src = toy_dir(tmp_path)
    (src / "model.c").write_text((src / "model.c").read_text() + "\nstatic int unused_thing;\n")
    with pytest.raises(MoteError, match=r"(?s)failed:.*unused_thing.*-Werror"):
        build_model(src, RV32, tmp_path / "x.elf")
    with pytest.raises(MoteError, match="sanitizers need a hosted target"):
        build_model(src, RV32, tmp_path / "x.elf", sanitize=True)
    with pytest.raises(MoteError, match="no model.c"):
        build_model(tmp_path / "empty", HOST, tmp_path / "x")
    with pytest.raises(MoteError, match=r"(?s)does not fit the memory of rv32imc.*region `ram' overflowed"):
        big = toy_dir(tmp_path / "big", 800 << 10)  # 2.4 MiB of inputs, arena and outputs
        build_model(big, RV32, tmp_path / "big.elf")
    missing = dataclasses.replace(HOST, cc=("no-such-cc-mote",))
    with pytest.raises(MoteError, match="no-such-cc-mote not found"):
        build_model(toy_dir(tmp_path / "m"), missing, tmp_path / "x")


def test_timeout_and_signals(tmp_path):
    def script(name: str, body: str) -> Path:
        path = tmp_path / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)
        return path

    with pytest.raises(RunError, match="did not finish within 0.2 s"):
        run_model_binary(script("slow", "exec sleep 5"), HOST, b"", timeout=0.2)
    with pytest.raises(RunError, match="(?s)killed by SIGSEGV.*oops"):
        run_model_binary(script("crash", "echo oops >&2; kill -SEGV $$"), HOST, b"")
    with pytest.raises(RunError, match="exited with status 3"):
        run_model_binary(script("fails", "exit 3"), HOST, b"")
