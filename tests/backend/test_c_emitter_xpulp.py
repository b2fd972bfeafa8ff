"""The C emitter on the xpulp ops that print as plain C or as packing intrinsics: pack/shuffle,
post-increment loads and stores, hardware loops. A hand-written loops-stage module using all of
them is printed, built for the host, rv32imc (portable xpulp.h, qemu) and rv32imc-xcv (CORE-V
asm, unicorn), run, and compared with a Python model of the instructions; the CORE-V build must
contain the packing instructions and clang's own post-increment loads and stores."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from xdsl.parser import Parser

from compiler.backend.build import build_model
from compiler.backend.c_emitter import emit_c
from compiler.backend.run import run_model_binary
from compiler.backend.target import load_target
from compiler.tools.ir_files import mote_context

IR = """
builtin.module {
  func.func @main(%x: memref<64xi8>, %h: memref<8xi16>, %y: memref<16xi8>, %z: memref<4xi32>,
                  %total: memref<1xi32>, %copy: memref<64xi8>) attributes {mote.num_inputs = 2 : i64} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    %c64 = arith.constant 64 : index
    %zero = arith.constant 0 : i32
    %sel = arith.constant 66051 : i32
    xpulp.hwloop %r, count %c4 : index {
      %r4 = arith.muli %r, %c4 : index
      %b0, %i1 = xpulp.load_postinc %x[%r4] step 1 : memref<64xi8>
      %b1, %i2 = xpulp.load_postinc unsigned %x[%i1] step 1 : memref<64xi8>
      %b2, %i3 = xpulp.load_postinc %x[%i2] step 1 : memref<64xi8>
      %b3, %i4 = xpulp.load_postinc %x[%i3] step 1 : memref<64xi8>
      %lo = xpulp.pack_b lo %zero, %b1, %b0 : i32
      %w = xpulp.pack_b hi %lo, %b3, %b2 : i32
      %s = xpulp.shuffle_b %w, %sel : i32
      %s2 = xpulp.shuffle2_b %w, %s, %b0 : i32
      %p4 = xpulp.pack4_b %b0, %b1, %b2, %b3 : i32
      %hw, %hn = xpulp.load_postinc %h[%r] step 2 : memref<8xi16>
      %ph = xpulp.pack_h %hw, %b0 : i32
      %j0 = xpulp.store_postinc %s2, %y[%r4] step 1 : memref<16xi8>
      %j1 = xpulp.store_postinc %p4, %y[%j0] step 1 : memref<16xi8>
      %j2 = xpulp.store_postinc %ph, %y[%j1] step 1 : memref<16xi8>
      %j3 = xpulp.store_postinc %w, %y[%j2] step -3 : memref<16xi8>
      %k = xpulp.store_postinc %s, %z[%r] step 1 : memref<4xi32>
    }
    %sum, %end = scf.for %t = %c0 to %c64 step %c1 iter_args(%acc = %zero, %i = %c0) -> (i32, index) {
      %v, %n = xpulp.load_postinc unsigned %x[%i] step 1 : memref<64xi8>
      %a = arith.addi %acc, %v : i32
      scf.yield %a, %n : i32, index
    }
    memref.store %sum, %total[%c0] : memref<1xi32>
    %last = scf.for %t = %c0 to %c64 step %c1 iter_args(%i = %c0) -> (index) {
      %v, %n = xpulp.load_postinc %x[%i] step 1 : memref<64xi8>
      %d = arith.addi %v, %v : i32
      %o = xpulp.store_postinc %d, %copy[%i] step 1 : memref<64xi8>
      scf.yield %n : index
    }
    func.return
  }
}
"""


def _byte(v: int, i: int) -> int:
    return (v >> (8 * i)) & 0xFF


def _word(lanes: list[int]) -> int:
    return sum((b & 0xFF) << (8 * i) for i, b in enumerate(lanes))


def reference(x: np.ndarray, h: np.ndarray) -> bytes:
    """The module's outputs from the CV32E40P manual's definitions of the instructions."""
    y, z = np.zeros(16, np.uint8), np.zeros(4, np.uint32)
    for r in range(4):
        b0, b1, b2, b3 = int(x[4 * r]), int(x[4 * r + 1]) & 0xFF, int(x[4 * r + 2]), int(x[4 * r + 3])
        w = (_byte(b1, 0) << 8 | _byte(b0, 0)) | _byte(b3, 0) << 24 | _byte(b2, 0) << 16  # packlo.b, packhi.b
        s = _word([_byte(w, _byte(0x00010203, i) & 3) for i in range(4)])  # shuffle.b
        sel = b0 & 0xFFFFFFFF
        s2 = _word([_byte(s if _byte(sel, i) & 4 else w, _byte(sel, i) & 3) for i in range(4)])  # shuffle2.b
        p4 = _word([b3, b2, b1, b0])
        ph = (int(h[r]) & 0xFFFF) << 16 | (b0 & 0xFFFF)  # pack
        y[4 * r : 4 * r + 4] = [_byte(s2, 0), _byte(p4, 0), _byte(ph, 0), _byte(w, 0)]
        z[r] = s
    total = np.array([int(x.view(np.uint8).astype(np.int64).sum())], np.int32)
    copy = (x.astype(np.int32) * 2).astype(np.int8)
    return y.tobytes() + z.tobytes() + total.tobytes() + copy.tobytes()


@pytest.fixture(scope="module")
def c_dir(tmp_path_factory) -> Path:
    module = Parser(mote_context(), IR).parse_module()
    module.verify()
    out = tmp_path_factory.mktemp("xpulp_c")
    emit_c(module, {}, out)
    return out


def test_printed_c(c_dir: Path) -> None:
    text = (c_dir / "model.c").read_text()
    assert '#include "xpulp.h"' in text
    assert "/* xpulp.hwloop: hardware loop 0 (cv.setup) on CORE-V, a counted loop here */" in text
    assert "const int32_t b1 = (int32_t)(uint8_t)x[i1];" in text
    assert "const int32_t w = (int32_t)mote_xp_packhi_b((uint32_t)lo, b3, b2);" in text
    assert "y[j2] = (int8_t)w;" in text
    assert "asm" not in text


@pytest.mark.parametrize("target_name", ["host", "rv32imc", "rv32imc-xcv"])
def test_runs_like_the_model(c_dir: Path, tmp_path: Path, target_name: str) -> None:
    target = load_target(target_name)
    exe = build_model(c_dir, target, tmp_path / "model.elf")
    rng = np.random.default_rng(7)
    x = rng.integers(-128, 128, 64).astype(np.int8)
    x[:8] = [-128, 127, 0, -1, 1, -2, 0x7F, -0x7F]
    h = rng.integers(-(2**15), 2**15, 8).astype(np.int16)
    out = run_model_binary(exe, target, x.tobytes() + h.tobytes()).output_bytes
    want = reference(x, h)
    assert out == want, f"{target_name}: {np.frombuffer(out, np.uint8)} != {np.frombuffer(want, np.uint8)}"
    if target_name != "rv32imc-xcv":
        return
    if shutil.which("llvm-objdump-19") is None:
        pytest.skip("llvm-objdump-19 (`make setup`) decodes CORE-V code")
    listing = subprocess.run(
        [
            "llvm-objdump-19",
            "-d",
            "--no-show-raw-insn",
            "--mattr=+xcvsimd,+xcvmem,+xcvalu,+xcvmac,+xcvbi",
            exe,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    body = listing[listing.index("<mote_model_run>:") :]
    body = body[: body.index("\n\n")]
    mnemonics = set(re.findall(r"\s(cv\.[a-z0-9.]+)\s", body))
    assert {"cv.packlo.b", "cv.packhi.b", "cv.pack", "cv.shuffle.b", "cv.shuffle2.b"} <= mnemonics
    # clang forms the post-increment forms itself from the walking indices
    assert re.search(r"cv\.lbu?\s+\w+, \(\w+\), 0x1\n", body), body
    assert re.search(r"cv\.sb\s+\w+, \(\w+\), 0x1\n", body), body
