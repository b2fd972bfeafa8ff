"""The C emitter on hand-written loops-stage modules: the C it prints compiles warning-free
(gcc, clang, rv32 gcc and clang), computes what numpy computes from MLIR's semantics, is
byte-identical run to run, and modules it cannot print get an error naming the op."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser

from compiler.backend.c_emitter import (
    MODEL_C,
    MODEL_H,
    WEIGHTS_C,
    WEIGHTS_H,
    CEmitError,
    CEmitNotImplemented,
    c_sources,
    emit_c,
    model_c,
)
from compiler.backend.c_types import array_initializer
from compiler.tools.ir_files import mote_context

CFLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"]
RV32_GCC = "riscv64-unknown-elf-gcc"
RV32_FLAGS = ["-march=rv32imc", "-mabi=ilp32", "-misa-spec=2.2", "--specs=picolibc.specs"]
CLANG = "clang-19"


def parse(text: str) -> ModuleOp:
    module = Parser(mote_context(), text).parse_module()
    module.verify()
    return module


# ------------------------------------------------------------------------------------------
# IR of the test models


def matmul_ir(m: int, k: int, n: int, mult: int, shift: int) -> str:
    """y = clamp((x @ w + b) * mult + 2^(shift-1) >> shift) with 4x2 register blocks: an i32
    accumulator per output of the block (iter_args), the requant in i64."""
    assert m % 4 == 0 and n % 2 == 0
    accs = [(i, j) for i in range(4) for j in range(2)]
    body = []
    for i in range(4):
        body.append(f"%x{i} = memref.load %x[%m{i}, %k] : memref<{m}x{k}xi8>")
        body.append(f"%e{i} = arith.extsi %x{i} : i8 to i32")
    for j in range(2):
        body.append(f"%w{j} = memref.load %w[%k, %n{j}] : memref<{k}x{n}xi8>")
        body.append(f"%f{j} = arith.extsi %w{j} : i8 to i32")
    for i, j in accs:
        body.append(f"%p{i}{j} = arith.muli %e{i}, %f{j} : i32")
        body.append(f"%s{i}{j} = arith.addi %a{i}{j}, %p{i}{j} : i32")
    yields = ", ".join(f"%s{i}{j}" for i, j in accs)
    inits = ", ".join(f"%a{i}{j} = %zero" for i, j in accs)
    types = ", ".join(["i32"] * 8)
    epilogue = []
    for idx, (i, j) in enumerate(accs):
        q = f"%q{i}{j}"
        epilogue += [
            f"%b{i}{j} = memref.load %b[%n{j}] : memref<{n}xi32>",
            f"{q}a = arith.addi %acc#{idx}, %b{i}{j} : i32",
            f"{q}w = arith.extsi {q}a : i32 to i64",
            f"{q}m = arith.muli {q}w, %mult : i64",
            f"{q}r = arith.addi {q}m, %round : i64",
            f"{q}s = arith.shrsi {q}r, %shift : i64",
            f"{q}l = arith.maxsi {q}s, %lo : i64",
            f"{q}h = arith.minsi {q}l, %hi : i64",
            f"{q}t = arith.trunci {q}h : i64 to i8",
            f"memref.store {q}t, %y[%m{i}, %n{j}] : memref<{m}x{n}xi8>",
        ]
    nl = "\n          "
    return f"""
builtin.module attributes {{qtfm.weights = "mm.npz"}} {{
  func.func @matmul(%x: memref<{m}x{k}xi8>, %y: memref<{m}x{n}xi8>)
      attributes {{mote.num_inputs = 1 : i64}} {{
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %c4 = arith.constant 4 : index
    %cm = arith.constant {m} : index
    %cn = arith.constant {n} : index
    %ck = arith.constant {k} : index
    %zero = arith.constant 0 : i32
    %mult = arith.constant {mult} : i64
    %round = arith.constant {1 << (shift - 1)} : i64
    %shift = arith.constant {shift} : i64
    %lo = arith.constant -128 : i64
    %hi = arith.constant 127 : i64
    %w = tile.weight "l0.w" : memref<{k}x{n}xi8>
    %b = tile.weight "l0.b" : memref<{n}xi32>
    scf.for %m0 = %c0 to %cm step %c4 {{
      %m1 = arith.addi %m0, %c1 : index
      %m2 = arith.addi %m0, %c2 : index
      %m3 = arith.addi %m0, %c3 : index
      scf.for %n0 = %c0 to %cn step %c2 {{
        %n1 = arith.addi %n0, %c1 : index
        %acc:8 = scf.for %k = %c0 to %ck step %c1 iter_args({inits}) -> ({types}) {{
          {nl.join(body)}
          scf.yield {yields} : {types}
        }}
        {nl[2:].join(epilogue)}
      }}
    }} {{mote.note = "qtfm.linear %x, %w, %b"}}
    func.return
  }}
}}
"""


def requant_ref(acc: np.ndarray, mult: int, shift: int) -> np.ndarray:
    q = (acc.astype(np.int64) * mult + (1 << (shift - 1))) >> shift
    return np.clip(q, -128, 127).astype(np.int8)


ELEMENTWISE_IR = """
builtin.module attributes {qtfm.weights = "ew.npz"} {
  func.func @elementwise(%a: memref<4x8xi8>, %u: memref<8xui8>, %sum: memref<4x8xi8>, %looked: memref<8xi16>)
      attributes {mote.num_inputs = 2 : i64, mote.input_names = ["a", "u-8"],
                  mote.output_names = ["sum", "looked up"]} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    %c8 = arith.constant 8 : index
    %lo = arith.constant -128 : i32
    %hi = arith.constant 127 : i32
    %bias = tile.weight "bias" : memref<8xi8>
    %lut = tile.constant dense<[-7, 300, 2, 3, 4, 5, -32768, 32767]> : tensor<8xi16> -> memref<8xi16>
    %ones = tile.constant dense<1> : tensor<8xi16> -> memref<8xi16>
    %tmp = tile.alloc #tile.mem<L2> offset 8 : memref<4x8xi32>
    scf.for %i = %c0 to %c4 step %c1 {
      scf.for %j = %c0 to %c8 step %c1 {
        %x = memref.load %a[%i, %j] : memref<4x8xi8>
        %b = memref.load %bias[%j] : memref<8xi8>
        %xw = arith.extsi %x : i8 to i32
        %bw = arith.extsi %b : i8 to i32
        %s = arith.addi %xw, %bw : i32
        memref.store %s, %tmp[%i, %j] : memref<4x8xi32>
      }
    } {mote.note = "qtfm.add %a, %bias (broadcast)"}
    %flat = tile.view %tmp : memref<4x8xi32> to memref<32xi32>
    %out = tile.view %sum : memref<4x8xi8> to memref<32xi8>
    %c32 = arith.constant 32 : index
    scf.for %i = %c0 to %c32 step %c1 {
      %s = memref.load %flat[%i] : memref<32xi32>
      %l = arith.maxsi %s, %lo : i32
      %h = arith.minsi %l, %hi : i32
      %t = arith.trunci %h : i32 to i8
      memref.store %t, %out[%i] : memref<32xi8>
    } {mote.note = "saturate"}
    scf.for %i = %c0 to %c8 step %c1 {
      %v = memref.load %u[%i] : memref<8xui8>
      %vw = arith.extui %v : ui8 to i32
      %seven = arith.constant 7 : i32
      %r = arith.andi %vw, %seven : i32
      %ri = arith.index_cast %r : i32 to index
      %e = memref.load %lut[%ri] : memref<8xi16>
      %one = memref.load %ones[%i] : memref<8xi16>
      %o = arith.addi %e, %one : i16
      memref.store %o, %looked[%i] : memref<8xi16>
    }
    func.return
  }
}
"""


def elementwise_ref(a: np.ndarray, u: np.ndarray, bias: np.ndarray) -> list[np.ndarray]:
    s = np.clip(a.astype(np.int32) + bias.astype(np.int32), -128, 127).astype(np.int8)
    lut = np.array([-7, 300, 2, 3, 4, 5, -32768, 32767], dtype=np.int16)
    looked = (lut[u & 7].astype(np.int32) + 1).astype(np.int16)  # i16 add wraps
    return [s, looked]


CALLS_IR = """
builtin.module {
  func.func private @mote_test_scale(memref<16xi8>, memref<16xi8>, i32, i64)
  func.func private @row_total(%row: memref<16xi8>) -> i32 {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c16 = arith.constant 16 : index
    %z = arith.constant 0 : i32
    %t = scf.for %i = %c0 to %c16 step %c1 iter_args(%acc = %z) -> (i32) {
      %v = memref.load %row[%i] : memref<16xi8>
      %w = arith.extsi %v : i8 to i32
      %n = arith.addi %acc, %w : i32
      scf.yield %n : i32
    }
    func.return %t : i32
  }
  func.func @calls(%x: memref<4x16xi8>, %y: memref<4x16xi8>, %totals: memref<4xi32>)
      attributes {mote.num_inputs = 1 : i64} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    %c16 = arith.constant 16 : index
    %three = arith.constant 3 : i32
    %big = arith.constant 123456789012 : i64
    %buf = tile.alloc #tile.mem<L1> offset 0 : memref<64xi8>
    %xf = tile.view %x : memref<4x16xi8> to memref<64xi8>
    scf.for %r = %c0 to %c4 step %c1 {
      %off = arith.muli %r, %c16 : index
      %row = tile.window %xf[%off] : memref<64xi8> to memref<16xi8>
      %dst = tile.window %buf[%off] : memref<64xi8> to memref<16xi8>
      func.call @mote_test_scale(%row, %dst, %three, %big) : (memref<16xi8>, memref<16xi8>, i32, i64) -> ()
      %t = func.call @row_total(%dst) : (memref<16xi8>) -> i32
      memref.store %t, %totals[%r] : memref<4xi32>
    } {mote.note = "a kernel per row"}
    %yf = tile.view %y : memref<4x16xi8> to memref<64xi8>
    %c64 = arith.constant 64 : index
    scf.for %i = %c0 to %c64 step %c1 {
      %v = memref.load %buf[%i] : memref<64xi8>
      memref.store %v, %yf[%i] : memref<64xi8>
    }
    func.return
  }
}
"""

KERNELS_H = """#include <stdint.h>
void mote_test_scale(const int8_t *in, int8_t *out, int32_t factor, int64_t tag);
"""
KERNELS_C = """#include "mote_kernels.h"
void mote_test_scale(const int8_t *in, int8_t *out, int32_t factor, int64_t tag) {
  for (int i = 0; i < 16; i++) out[i] = (int8_t)(in[i] * factor + (tag == 123456789012LL ? 1 : 0));
}
"""


def calls_ref(x: np.ndarray) -> list[np.ndarray]:
    y = (x.astype(np.int32) * 3 + 1).astype(np.int8)
    return [y, y.astype(np.int32).sum(axis=1).astype(np.int32)]


SEMANTICS_IR = """
builtin.module {
  func.func @semantics(%a: memref<16xi32>, %b: memref<16xi32>, %out: memref<24x16xi32>)
      attributes {mote.num_inputs = 2 : i64} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c16 = arith.constant 16 : index
    %k3 = arith.constant 3 : i32
    %k1 = arith.constant 1 : i64
    %k3w = arith.constant 3 : i64
    scf.for %i = %c0 to %c16 step %c1 {
      %x = memref.load %a[%i] : memref<16xi32>
      %y = memref.load %b[%i] : memref<16xi32>
      %r0 = arith.divsi %x, %y : i32
      %r1 = arith.remsi %x, %y : i32
      %r2 = arith.floordivsi %x, %y : i32
      %r3 = arith.ceildivsi %x, %y : i32
      %r4 = arith.divui %x, %y : i32
      %r5 = arith.remui %x, %y : i32
      %r6 = arith.shli %x, %k3 : i32
      %r7 = arith.shrsi %x, %k3 : i32
      %r8 = arith.shrui %x, %k3 : i32
      %m = arith.xori %x, %y : i32
      %r9 = arith.ori %m, %k3 : i32
      %lt = arith.cmpi ult, %x, %y : i32
      %r10 = arith.extui %lt : i1 to i32
      %ge = arith.cmpi sge, %x, %y : i32
      %r11 = arith.extsi %ge : i1 to i32
      %r12 = arith.maxui %x, %y : i32
      %r13 = arith.minui %x, %y : i32
      %r14 = arith.select %lt, %x, %y : i32
      %x8 = arith.trunci %x : i32 to i8
      %y8 = arith.trunci %y : i32 to i8
      %p8 = arith.muli %x8, %y8 : i8
      %r15 = arith.extsi %p8 : i8 to i32
      %s8 = arith.subi %x8, %y8 : i8
      %r16 = arith.extui %s8 : i8 to i32
      %x64 = arith.extsi %x : i32 to i64
      %y64 = arith.extui %y : i32 to i64
      %p64 = arith.muli %x64, %y64 : i64
      %big = arith.shli %k1, %k1 : i64
      %q64 = arith.addi %p64, %big : i64
      %h64 = arith.shrui %q64, %k3w : i64
      %r17 = arith.trunci %h64 : i64 to i32
      %yi = arith.index_cast %y : i32 to index
      %yi2 = arith.addi %yi, %c16 : index
      %r18 = arith.index_cast %yi2 : index to i32
      %sle = arith.cmpi sle, %x8, %y8 : i8
      %r19 = arith.extui %sle : i1 to i32
      %bits = arith.cmpi ne, %x, %y : i32
      %both = arith.andi %bits, %lt : i1
      %r20 = arith.extui %both : i1 to i32
      %r21, %r22 = scf.if %lt -> (i32, i32) {
        %d = arith.subi %y, %x : i32
        scf.yield %d, %x : i32, i32
      } else {
        scf.yield %y, %k3 : i32, i32
      }
      %r23 = arith.minsi %x, %y : i32
STORES
    }
    func.return
  }
}
"""


# ------------------------------------------------------------------------------------------
# Building and running the emitted C on the host


def _c_array(name: str, data: np.ndarray) -> str:
    raw = np.ascontiguousarray(data).view(np.uint8).reshape(-1)
    return f"static const uint8_t {name}[{max(raw.size, 1)}] = {{{','.join(str(b) for b in raw)}}};\n"


def _test_main(inputs: list[np.ndarray], output_bytes: list[int]) -> str:
    text = '#include <stdio.h>\n#include "model.h"\n'
    for i, x in enumerate(inputs):
        text += _c_array(f"in{i}", x)
    for i, n in enumerate(output_bytes):
        text += f"static uint64_t out{i}[{(n + 7) // 8}];\n"
    text += "static uint64_t arena[(MOTE_MODEL_ARENA_BYTES + 7) / 8 + 1];\n"
    ins = ", ".join(f"in{i}" for i in range(len(inputs)))
    outs = ", ".join(f"out{i}" for i in range(len(output_bytes)))
    text += "int main(void) {\n"
    text += f"  const void *inputs[] = {{{ins}}};\n  void *outputs[] = {{{outs}}};\n"
    text += "  mote_model_run_io((uint8_t *)arena, inputs, outputs);\n"
    for i, n in enumerate(output_bytes):
        text += f"  fwrite(out{i}, 1, {n}, stdout);\n"
    text += "  return 0;\n}\n"
    return text


def build_and_run(
    tmp: Path,
    module: ModuleOp,
    weights: dict[str, np.ndarray],
    inputs: list[np.ndarray],
    outputs: list[np.ndarray],
    extra: dict[str, str] | None = None,
) -> list[np.ndarray]:
    """Emits C for `module`, compiles it with a main that runs it on `inputs`, and returns the
    outputs (shaped and typed like `outputs`)."""
    files = emit_c(module, weights, tmp)
    sources = [str(p) for p in files if p.suffix == ".c"]
    for name, text in (extra or {}).items():
        (tmp / name).write_text(text)
        if name.endswith(".c"):
            sources.append(str(tmp / name))
    (tmp / "main.c").write_text(_test_main(inputs, [o.nbytes for o in outputs]))
    exe = tmp / "model"
    sanitize = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
    cmd = ["cc", *CFLAGS, *sanitize, f"-I{tmp}", *sources, str(tmp / "main.c"), "-o", str(exe)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    raw = subprocess.run([str(exe)], check=True, capture_output=True).stdout
    results, pos = [], 0
    for o in outputs:
        results.append(np.frombuffer(raw[pos : pos + o.nbytes], dtype=o.dtype).reshape(o.shape))
        pos += o.nbytes
    assert pos == len(raw)
    return results


def cross_compile(tmp: Path, files: list[Path]) -> None:
    """The emitted C compiles warning-free for rv32 with gcc and clang."""
    sources = [str(p) for p in files if p.suffix == ".c"]
    if shutil.which(RV32_GCC):
        for src in sources:
            cmd = [RV32_GCC, *RV32_FLAGS, *CFLAGS, f"-I{tmp}", "-c", src, "-o", str(tmp / "rv.o")]
            subprocess.run(cmd, check=True, capture_output=True, text=True)
    if shutil.which(CLANG):
        for src in sources:
            cmd = [CLANG, "--target=riscv32", "-march=rv32imc", *CFLAGS, f"-I{tmp}", "-c", src]
            subprocess.run([*cmd, "-o", str(tmp / "clang.o")], check=True, capture_output=True, text=True)
            host = [CLANG, *CFLAGS, f"-I{tmp}", "-c", src, "-o", str(tmp / "host.o")]
            subprocess.run(host, check=True, capture_output=True, text=True)


# ------------------------------------------------------------------------------------------
# Tests


def test_blocked_matmul_with_requant_matches_numpy(tmp_path: Path) -> None:
    m, k, n, mult, shift = 8, 32, 6, 1518500250, 38
    module = parse(matmul_ir(m, k, n, mult, shift))
    rng = np.random.default_rng(1)
    x = rng.integers(-128, 128, (m, k)).astype(np.int8)
    w = rng.integers(-128, 128, (k, n)).astype(np.int8)
    b = rng.integers(-5000, 5000, n).astype(np.int32)
    weights = {"l0.w": w, "l0.b": b}
    expected = requant_ref(x.astype(np.int32) @ w.astype(np.int32) + b, mult, shift)
    (y,) = build_and_run(tmp_path, module, weights, [x], [expected])
    np.testing.assert_array_equal(y, expected)
    assert len(np.unique(expected)) > 10  # the requant does not saturate everything
    cross_compile(tmp_path, [tmp_path / MODEL_C, tmp_path / WEIGHTS_C])


def test_blocked_matmul_inner_loop_reads_like_hand_written_c() -> None:
    text = model_c(parse(matmul_ir(8, 16, 4, 3, 2)))
    assert "a00 += e0 * f0;" in text
    # rows and columns of a block are constant offsets from one index (gcc keeps one pointer)
    assert "const int32_t e1 = (int32_t)x[m0 * 16 + k + 16];" in text
    assert "const int32_t f1 = (int32_t)mote_w_l0_w[k * 4 + n0 + 1];" in text
    assert "m1" not in text
    assert "for (int32_t k = 0; k < 16; k++) {" in text
    assert "/* qtfm.linear %x, %w, %b */" in text
    assert "((int64_t)(acc + mote_w_l0_b[n0]) * 3 + 2) >> 2" not in text  # iter names, not results
    assert "((int64_t)(a00 + mote_w_l0_b[n0]) * 3 + 2) >> 2" in text


def test_elementwise_broadcast_tables_and_unsigned(tmp_path: Path) -> None:
    module = parse(ELEMENTWISE_IR)
    rng = np.random.default_rng(2)
    a = rng.integers(-128, 128, (4, 8)).astype(np.int8)
    u = np.array([0, 1, 255, 6, 7, 130, 14, 9], dtype=np.uint8)
    bias = rng.integers(-128, 128, 8).astype(np.int8)
    expected = elementwise_ref(a, u, bias)
    got = build_and_run(tmp_path, module, {"bias": bias}, [a, u], expected)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(g, e)
    header = (tmp_path / MODEL_H).read_text()
    params = "uint8_t *arena, const int8_t *a, const uint8_t *u_8, int8_t *sum, int16_t *looked_up"
    assert f"void mote_model_run({params});" in " ".join(header.split()).replace("( ", "(")
    assert "#define MOTE_MODEL_ARENA_BYTES 136" in header  # offset 8 + 4x8 i32
    assert "#define MOTE_MODEL_INPUT_BYTES 40" in header
    code = (tmp_path / MODEL_C).read_text()
    assert "static const int16_t mote_table_lut[8] = {\n  -7,300,2,3,4,5,-32768,32767,\n};" in code
    assert "looked_up[i] = (int16_t)(mote_table_lut[(int32_t)u_8[i] & 7] + 1);" in code
    assert "mote_table_ones" not in code  # the splat table is folded into its loads
    assert "for (int32_t i = 0; i < 32; i++) {" in code  # sibling loops reuse names
    cross_compile(tmp_path, [tmp_path / MODEL_C, tmp_path / WEIGHTS_C])


def test_calls_to_runtime_kernels_and_private_helpers(tmp_path: Path) -> None:
    module = parse(CALLS_IR)
    x = np.random.default_rng(3).integers(-40, 40, (4, 16)).astype(np.int8)
    expected = calls_ref(x)
    extra = {"mote_kernels.h": KERNELS_H, "kernels.c": KERNELS_C}
    got = build_and_run(tmp_path, module, {}, [x], expected, extra)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(g, e)
    code = (tmp_path / MODEL_C).read_text()
    assert '#include "mote_kernels.h"' in code
    assert "mote_test_scale(row, dst, 3, INT64_C(123456789012));" in code
    assert "static int32_t mote_row_total(const int8_t *row) {" in code
    assert "const int32_t t = mote_row_total(dst);" in code
    assert "void mote_model_run(uint8_t *arena, const int8_t *x, int8_t *y, int32_t *totals) {" in code
    cross_compile(tmp_path, [tmp_path / MODEL_C, tmp_path / "kernels.c"])


def _semantics_ref(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    def wrap32(v: int) -> int:
        return (v + (1 << 31)) % (1 << 32) - (1 << 31)

    rows = []
    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        ux, uy = x % (1 << 32), y % (1 << 32)
        q = abs(x) // abs(y) * (1 if (x < 0) == (y < 0) else -1)
        x8, y8 = wrap32(x) & 0xFF, y & 0xFF
        sx8, sy8 = x8 - 256 * (x8 > 127), y8 - 256 * (y8 > 127)
        p8 = (sx8 * sy8) & 0xFF
        lt = ux < uy
        p64 = x * uy + 2
        rows.append(
            [
                q,
                x - q * y,
                x // y,
                -((-x) // y),
                wrap32(ux // uy),
                wrap32(ux % uy),
                wrap32(x << 3),
                x >> 3,
                ux >> 3,
                (x ^ y) | 3,
                int(lt),
                -int(x >= y),
                wrap32(max(ux, uy)),
                wrap32(min(ux, uy)),
                x if lt else y,
                p8 - 256 * (p8 > 127),
                (sx8 - sy8) & 0xFF,
                wrap32((p64 % (1 << 64)) >> 3),
                y + 16,
                int(sx8 <= sy8),
                int(x != y and lt),
                y - x if lt else y,
                x if lt else 3,
                min(x, y),
            ]
        )
    return np.array(rows, dtype=np.int64).T.astype(np.int32)


def _semantics_ir() -> str:
    stores = "\n".join(
        f"      %o{r} = arith.constant {r} : index\n"
        f"      memref.store %r{r}, %out[%o{r}, %i] : memref<24x16xi32>"
        for r in range(24)
    )
    return SEMANTICS_IR.replace("STORES", stores)


def test_arith_semantics_match_mlir(tmp_path: Path) -> None:
    module = parse(_semantics_ir())
    a = np.array(
        [7, -7, 7, -7, 100, -100, 2**31 - 1, -(2**31), 5, 0, -1, 1, 255, -256, 12345678, -3], np.int32
    )
    b = np.array([2, 2, -2, -2, 7, 7, 3, 5, -1, 3, 1, -1, 255, 3, -98765, 4], np.int32)
    expected = _semantics_ref(a, b)
    (got,) = build_and_run(tmp_path, module, {}, [a, b], [expected])
    for row, (g, e) in enumerate(zip(got, expected, strict=True)):
        np.testing.assert_array_equal(g, e, err_msg=f"result %r{row}")
    code = (tmp_path / MODEL_C).read_text()
    assert "static inline int32_t mote_floordiv_i32(int32_t a, int32_t b) {" in code
    cross_compile(tmp_path, [tmp_path / MODEL_C])


def test_loop_carried_values_are_assigned_in_parallel(tmp_path: Path) -> None:
    """A loop that swaps and rotates its carried values needs temporaries: a Fibonacci pair."""
    module = parse(
        """
builtin.module {
  func.func @fib(%x: memref<1xi32>, %y: memref<2xi32>) attributes {mote.num_inputs = 1 : i64} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c10 = arith.constant 10 : index
    %one = arith.constant 1 : i32
    %start = memref.load %x[%c0] : memref<1xi32>
    %r:2 = scf.for %i = %c0 to %c10 step %c1 iter_args(%a = %start, %b = %one) -> (i32, i32) {
      %s = arith.addi %a, %b : i32
      scf.yield %b, %s : i32, i32
    }
    memref.store %r#0, %y[%c0] : memref<2xi32>
    memref.store %r#1, %y[%c1] : memref<2xi32>
    func.return
  }
}
"""
    )
    a, b = 0, 1
    for _ in range(10):
        a, b = b, a + b
    expected = np.array([a, b], dtype=np.int32)
    (got,) = build_and_run(tmp_path, module, {}, [np.array([0], np.int32)], [expected])
    np.testing.assert_array_equal(got, expected)
    code = (tmp_path / MODEL_C).read_text()
    assert "const int32_t b_next = a + b;" in code
    assert "a = b;" in code


def test_output_is_deterministic(tmp_path: Path) -> None:
    text = matmul_ir(8, 16, 4, 1000, 12)
    w = {"l0.w": np.arange(64, dtype=np.int8).reshape(16, 4), "l0.b": np.arange(4, dtype=np.int32)}
    first = emit_c(parse(text), w, tmp_path / "a")
    second = emit_c(parse(text), w, tmp_path / "b")
    assert [p.name for p in first] == [MODEL_H, MODEL_C, WEIGHTS_H, WEIGHTS_C]
    for p, q in zip(first, second, strict=True):
        assert p.read_bytes() == q.read_bytes()


def test_weight_names_are_sanitised_and_disambiguated() -> None:
    module = parse(
        """
builtin.module {
  func.func @w(%x: memref<1xi8>, %y: memref<4xi8>) attributes {mote.num_inputs = 1 : i64} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %a = tile.weight "l0.wq" : memref<2xi8>
    %b = tile.weight "l0_wq" : memref<2xi8>
    %c = tile.weight "9/x" : memref<2xi8>
    %va = memref.load %a[%c0] : memref<2xi8>
    %vb = memref.load %b[%c0] : memref<2xi8>
    %vc = memref.load %c[%c1] : memref<2xi8>
    memref.store %va, %y[%c0] : memref<4xi8>
    memref.store %vb, %y[%c1] : memref<4xi8>
    memref.store %vc, %y[%c2] : memref<4xi8>
    func.return
  }
}
"""
    )
    weights = {n: np.array([1, 2], np.int8) for n in ("l0.wq", "l0_wq", "9/x")}
    sources = c_sources(module, weights)
    header = sources[WEIGHTS_H]
    assert 'extern const int8_t mote_w_w9_x[2]; /* "9/x": memref<2xi8> */' in header
    assert 'extern const int8_t mote_w_l0_wq[2]; /* "l0.wq": memref<2xi8> */' in header
    assert 'extern const int8_t mote_w_l0_wq_1[2]; /* "l0_wq": memref<2xi8> */' in header
    assert "const int8_t mote_w_l0_wq_1[2] __attribute__((aligned(4))) = {\n  1,2,\n};" in sources[WEIGHTS_C]
    assert "(void)x;" in sources[MODEL_C]


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros(4, np.int16), "is int16 but its buffer memref<2x2xi8> needs int8"),
        (np.zeros(5, np.int8), "has 5 elements but its buffer memref<2x2xi8> has 4"),
        (None, 'tile.weight "w" is not in the weight file'),
    ],
)
def test_weights_must_match_their_buffers(array: np.ndarray | None, message: str) -> None:
    module = parse(
        """
builtin.module {
  func.func @f(%x: memref<4xi8>, %y: memref<2x2xi8>) attributes {mote.num_inputs = 1 : i64} {
    %c0 = arith.constant 0 : index
    %w = tile.weight "w" : memref<2x2xi8>
    %v = memref.load %w[%c0, %c0] : memref<2x2xi8>
    memref.store %v, %y[%c0, %c0] : memref<2x2xi8>
    func.return
  }
}
"""
    )
    with pytest.raises(CEmitError, match=message):
        c_sources(module, {} if array is None else {"w": array})


_ERROR_BODY = """
builtin.module {{
  func.func @f(%x: memref<4xi8>, %y: memref<4xi8>) attributes {{mote.num_inputs = 1 : i64}} {{
    {body}
    func.return
  }}
}}
"""


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        (
            'tile.kernel "qtfm.requant" ins(%x : memref<4xi8>) outs(%y : memref<4xi8>) '
            "{params = #qtfm.requant<mul = 3, add = 0, shift = 2, levels = 256, signed>}",
            CEmitError,
            r"'tile.kernel' \(qtfm.requant\) in @f cannot be emitted as C: run tile-to-loops first",
        ),
        (
            "tile.copy %x, %y : memref<4xi8>, memref<4xi8>",
            CEmitError,
            "'tile.copy' in @f cannot be emitted as C: run tile-to-loops first",
        ),
        (
            "%b = tile.alloc #tile.mem<L2> : memref<4xi8>",
            CEmitError,
            "'tile.alloc' in @f has no offset: run plan-memory first",
        ),
        (
            '"test.op"() : () -> ()',
            CEmitError,
            "'test.op' in @f cannot be emitted as C",
        ),
        (
            "%b = tile.alloc #tile.mem<L2> offset 0 : memref<4xi8>\n"
            "    %c = tile.alloc #tile.mem<L1> offset 0 : memref<4xi8>",
            CEmitNotImplemented,
            "not implemented yet: buffers in more than one memory level",
        ),
        (
            "%b = tile.alloc #tile.mem<L2> offset 2 : memref<4xi32>",
            CEmitError,
            "not aligned to its 4-byte elements",
        ),
    ],
)
def test_unlowered_and_unsupported_ops_are_errors(body: str, error: type[Exception], message: str) -> None:
    module = parse(_ERROR_BODY.format(body=body))
    with pytest.raises(error, match=message):
        c_sources(module, None)


def test_entry_point_errors() -> None:
    no_entry = parse("builtin.module {\n  func.func private @f() {\n    func.return\n  }\n}")
    with pytest.raises(CEmitError, match="exactly one public func.func"):
        c_sources(no_entry, None)
    no_count = parse(_ERROR_BODY.format(body="").replace("attributes {mote.num_inputs = 1 : i64}", ""))
    with pytest.raises(CEmitError, match="needs an integer attribute mote.num_inputs"):
        c_sources(no_count, None)
    arena = parse(
        _ERROR_BODY.format(body="%b = tile.alloc #tile.mem<L2> offset 0 : memref<16xi8>").replace(
            "builtin.module {", 'builtin.module attributes {tile.arena_bytes = {"L2" = 8 : i64}} {'
        )
    )
    with pytest.raises(CEmitError, match="tile.arena_bytes states 8 bytes but the buffers need 16"):
        c_sources(arena, None)


def test_stated_arena_size_is_used() -> None:
    module = parse(
        _ERROR_BODY.format(body="%b = tile.alloc #tile.mem<L2> offset 0 : memref<16xi8>").replace(
            "builtin.module {", 'builtin.module attributes {tile.arena_bytes = {"L2" = 100 : i64}} {'
        )
    )
    assert "#define MOTE_MODEL_ARENA_BYTES 104 " in c_sources(module, None)[MODEL_H]


def test_large_weight_tables_print_fast() -> None:
    table = np.random.default_rng(4).integers(-128, 128, (30522, 128)).astype(np.int8)
    start = time.perf_counter()
    text = array_initializer(table, 32)
    elapsed = time.perf_counter() - start
    assert elapsed < 4.0, f"{elapsed:.2f} s"
    lines = text.splitlines()
    assert len(lines) == 30522 * 4
    assert lines[0] == "  " + ",".join(str(v) for v in table.reshape(-1)[:32]) + ","
    wide = np.array([-(2**63), 2**63 - 1, -(2**31), 2**31, 0], dtype=np.int64)
    assert (
        array_initializer(wide, 16)
        == "  INT64_MIN,INT64_C(9223372036854775807),(-2147483647 - 1),INT64_C(2147483648),0,\n"
    )
    assert array_initializer(np.array([4294967295, 1], np.uint32), 16) == "  4294967295u,1,\n"


def test_c_target_prints_the_files_and_weights_on_request(tmp_path: Path) -> None:
    (tmp_path / "m.mlir").write_text(matmul_ir(4, 8, 2, 3, 2).replace("mm.npz", "m.npz"))
    from compiler.reference.weights import save_weights

    save_weights(tmp_path / "m.npz", {"l0.w": np.ones((8, 2), np.int8), "l0.b": np.zeros(2, np.int32)})

    def opt(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(Path(__file__).parents[2] / ".venv/bin/mote-opt"), "m.mlir", *args]
        return subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, check=False)

    plain = opt("-t", "c")
    assert plain.returncode == 0, plain.stderr
    banners = [line for line in plain.stdout.splitlines() if line.startswith("/* ----- ")]
    assert banners == [
        "/* ----- model.h ----- */",
        "/* ----- model_weights.h ----- */",
        "/* ----- model.c ----- */",
    ]
    full = opt("-t", "c{weights=true}")
    assert full.returncode == 0, full.stderr
    assert "/* ----- model_weights.c ----- */" in full.stdout
    table = "const int8_t mote_w_l0_w[16] __attribute__((aligned(4))) = {\n  " + "1," * 16 + "\n};"
    assert table in full.stdout
    (tmp_path / "m.npz").unlink()
    assert opt("-t", "c").returncode == 0  # without the weight file: extern declarations only
    missing = opt("-t", "c{weights=true}")
    assert missing.returncode != 0 and "weight file" in missing.stderr and "Traceback" not in missing.stderr


def _innermost_loop(disassembly: str) -> list[str]:
    """The instructions of the labelled block with the most multiplies (the k loop), up to
    its first branch (the back edge)."""
    blocks: list[list[str]] = [[]]
    for line in disassembly.splitlines():
        if line.endswith(">:"):
            blocks.append([])
        elif "\t" in line:
            blocks[-1].append(line.split("\t", 1)[1].strip())
    loops = []
    for block in blocks:
        end = next((i for i, insn in enumerate(block) if insn.split()[0].startswith(("b", "j"))), len(block))
        loops.append(block[: end + 1])
    return max(loops, key=lambda b: sum(i.split()[0] == "mul" for i in b))


@pytest.mark.skipif(shutil.which(RV32_GCC) is None, reason="needs riscv64-unknown-elf-gcc")
def test_blocked_matmul_inner_loop_is_tight_on_rv32(tmp_path: Path) -> None:
    """4x2 blocks: 6 loads, 8 mul, 8 add, 2 pointer increments and the branch per k step, i.e.
    about 3 instructions per multiply-accumulate, as for hand-written C."""
    w = {"l0.w": np.zeros((64, 64), np.int8), "l0.b": np.zeros(64, np.int32)}
    emit_c(parse(matmul_ir(16, 64, 64, 1518500250, 38)), w, tmp_path)
    obj = tmp_path / "model.o"
    cmd = [RV32_GCC, *RV32_FLAGS, *CFLAGS, "-c", str(tmp_path / MODEL_C), "-o", str(obj)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    dump = subprocess.run(
        ["riscv64-unknown-elf-objdump", "-d", "--no-show-raw-insn", str(obj)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    loop = _innermost_loop(dump)
    muls = [i for i in loop if i.split()[0] == "mul"]
    assert len(muls) == 8
    assert len(loop) / len(muls) <= 3.25, "\n".join(loop)


def test_helpers_get_the_arena_and_const_correct_pointers(tmp_path: Path) -> None:
    """A helper that allocates gets the arena; one that hands a buffer to a runtime kernel
    takes it non-const, so a weight passed to it is cast."""
    module = parse(
        """
builtin.module {
  func.func private @mote_test_use(memref<16xi8>, memref<16xi8>)
  func.func private @stage(%w: memref<16xi8>) {
    %tmp = tile.alloc #tile.mem<L2> offset 32 : memref<16xi8>
    func.call @mote_test_use(%w, %tmp) : (memref<16xi8>, memref<16xi8>) -> ()
    func.return
  }
  func.func @main(%x: memref<16xi8>, %y: memref<16xi8>) attributes {mote.num_inputs = 1 : i64} {
    %w = tile.weight "w" : memref<16xi8>
    func.call @stage(%w) : (memref<16xi8>) -> ()
    func.call @stage(%y) : (memref<16xi8>) -> ()
    func.return
  }
}
"""
    )
    files = emit_c(module, {"w": np.arange(16, dtype=np.int8)}, tmp_path)
    code = (tmp_path / MODEL_C).read_text()
    assert "static void mote_stage(uint8_t *arena, int8_t *w) {" in code
    assert "  int8_t *const tmp = (int8_t *)(arena + 32);" in code
    assert "mote_stage(arena, (int8_t *)mote_w_w);" in code
    assert "mote_stage(arena, y);" in code
    assert "(void)x;" in code
    assert "#define MOTE_MODEL_ARENA_BYTES 48 " in (tmp_path / MODEL_H).read_text()
    (tmp_path / "mote_kernels.h").write_text(
        "#include <stdint.h>\nvoid mote_test_use(const int8_t *in, int8_t *out);\n"
    )
    cross_compile(tmp_path, files)
