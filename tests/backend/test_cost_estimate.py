"""The static cycle estimate that ranks schedules under a RAM budget
(compiler/backend/cost_estimate.py): counted by hand on a small kernel, and consistent with
what the search reports and chooses."""

from __future__ import annotations

from pathlib import Path

import pytest
from xdsl.dialects.builtin import ModuleOp

from compiler.backend.cost_estimate import estimate_cycles
from compiler.backend.target import load_target
from compiler.errors import MoteError
from compiler.frontend.zoo import save_inputs, save_model
from compiler.tools.compile_model import compile_model
from compiler.tools.pipeline import LOWERING_PIPELINE, run_pipeline
from tests.transforms.c_oracle import parse

LINEAR = """func.func @main(%x: tensor<4x8xi8>, %w: tensor<8x2xi8>) -> tensor<4x2xi32> {
  %y = qtfm.linear %x, %w : (tensor<4x8xi8>, tensor<8x2xi8>) -> tensor<4x2xi32>
  func.return %y : tensor<4x2xi32>
}"""


def test_hand_counted_linear_kernel() -> None:
    """4 x 8 by 8 x 2 is one 4x2 register block (its row and column loops run once and are
    not emitted): 8 reduction steps of 6 loads, 8 multiplications, 8 additions and the loop's
    increment and taken branch (1 + 3 cycles on rv32imc), then 8 stores, and the call of the
    outlined kernel (2 jumps of 2 cycles, 3 arguments): 8 * 26 + 8 + 7 = 223."""
    module = parse(LINEAR)
    run_pipeline(module, LOWERING_PIPELINE)
    assert estimate_cycles(module, load_target("rv32imc")).cycles == 8 * (6 + 8 + 8 + 1 + 3) + 8 + 7


def test_costs_come_from_the_target() -> None:
    """The host's nominal costs (taken branch 1) give a smaller figure for the same program."""
    module = parse(LINEAR)
    run_pipeline(module, LOWERING_PIPELINE)
    rv32 = estimate_cycles(module, load_target("rv32imc")).cycles
    host = estimate_cycles(module, load_target("host")).cycles
    assert host < rv32


def test_a_module_without_functions_is_an_error() -> None:
    with pytest.raises(MoteError, match="defines no function"):
        estimate_cycles(ModuleOp([]), load_target("rv32imc"))


def test_search_reports_the_estimate_of_every_candidate_and_keeps_the_cheapest(tmp_path: Path) -> None:
    seq = 24
    model = save_model("bert-tiny", tmp_path / "m.onnx", seq)
    calib = save_inputs("bert-tiny", tmp_path / "calib.npz", seq, seed=2)
    base = compile_model(model, tmp_path / "a", "host", calib, False, precision="int8")
    qtfm = tmp_path / "a" / "model.mlir"
    # the unscheduled program's arena alone: with its I/O buffers it does not fit, tiles do
    budget = int(base["arena_bytes"])  # type: ignore[arg-type]
    report = compile_model(qtfm, tmp_path / "b", "host", None, False, ram_budget=budget)
    candidates = report["schedule"]["candidates"]  # type: ignore[index]
    assert candidates and all(c["estimated_cycles"] > 0 for c in candidates)
    fitting = [c for c in candidates if c["planned_ram_bytes"] <= budget]
    chosen = report["schedule"]["tile_rows"]  # type: ignore[index]
    cheapest = min(fitting, key=lambda c: c["estimated_cycles"])
    assert chosen == cheapest["tile_rows"]


DATA_DEPENDENT = """func.func @main(%n: memref<1xi32>, %x: memref<8xi32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %v = memref.load %n[%c0] : memref<1xi32>
  %ub = arith.index_cast %v : i32 to index
  scf.for %i = %c0 to %ub step %c1 {
    %y = memref.load %x[%i] : memref<8xi32>
    memref.store %y, %x[%i] : memref<8xi32>
  }TRIPS
  func.return
}"""


def test_a_data_dependent_loop_is_charged_its_expected_trip_count() -> None:
    """A loop whose bound is loaded (a clustered embedding's rank loops) is charged the trip
    count its lowering expects (`mote.trip_count`); without one it cannot be estimated."""
    target = load_target("rv32imc")
    c = target.costs
    module = parse(DATA_DEPENDENT.replace("TRIPS", " {mote.trip_count = 5 : i64}"))
    per_trip = c["load"] + c["store"] + c["alu"] + c["branch_taken"]
    assert estimate_cycles(module, target).cycles == c["load"] + 5 * per_trip
    with pytest.raises(MoteError, match="a loop bound is not a constant"):
        estimate_cycles(parse(DATA_DEPENDENT.replace("TRIPS", "")), target)


def test_clustered_embedding_lookup_is_estimated() -> None:
    """The lowered lookup (a rank loop per column block, a sum of ranks per id) has an estimate
    that grows with the number of ids."""
    src = """func.func @main(%ids: tensor<IDSxi32>) -> tensor<IDSx6xi8> {
      %c = qtfm.weight "c" : tensor<10xui8>
      %o = qtfm.weight "o" : tensor<3xi32>
      %a = qtfm.weight "a" : tensor<20xi8>
      %b = qtfm.weight "b" : tensor<3x6xi8>
      %e = qtfm.clustered_embedding %ids, %c, %o, %a, %b {block = 4 : i64, coef_bits = 4 : i64,
        ranks = array<i64: 2, 1>, muls = array<i64: 3, 1>, shifts = array<i64: 2, 0>}
        : (tensor<IDSxi32>, tensor<10xui8>, tensor<3xi32>, tensor<20xi8>, tensor<3x6xi8>) -> tensor<IDSx6xi8>
      func.return %e : tensor<IDSx6xi8>
    }"""
    cycles = []
    for n in (2, 4):
        module = parse(src.replace("IDS", str(n)))
        run_pipeline(module, LOWERING_PIPELINE)
        cycles.append(estimate_cycles(module, load_target("rv32imc")).cycles)
    assert 0 < cycles[0] < cycles[1]


XPULP_LOOP = """func.func @main(%buf: memref<64xi8>, %h: memref<32xi16>, %acc: i32) -> i32 {
  %n = arith.constant 8 : index
  %i0 = arith.constant 0 : index
  xpulp.hwloop %k, count %n : index {
    %w = xpulp.load_word %buf[%k] : memref<64xi8>
    %u, %next = xpulp.load_postinc unsigned %h[%k] step 1 : memref<32xi16>
    %lo = xpulp.sra_h %w {shift = 8 : i64} : i32
    %p = xpulp.pack_h %lo, %u : i32
    %b = xpulp.pack4_b %p, %p, %p, %p : i32
    %d = xpulp.sdotusp_h %acc, %b, %lo : i32
    %next2 = xpulp.store_postinc %d, %buf[%k] step 4 : memref<64xi8>
  }
  func.return %acc : i32
}"""


def test_xpulp_ops_and_hardware_loops_are_charged_their_classes() -> None:
    """A hardware loop costs its setup once and its body per iteration, with no increment or
    branch; packs, shuffles and packed shifts are `simd_alu` (pack4_b two of them), the
    post-increment forms their own classes, 16-bit dot products `simd_dot`."""
    target = load_target("rv32imc-xcv")
    c = target.costs
    simd_alu = c.get("simd_alu", c["alu"])
    body = (
        c["load"]
        + c.get("post_increment_load", c["load"])
        + simd_alu * (1 + 1 + 2)
        + c["simd_dot"]
        + c.get("post_increment_store", c["store"])
    )
    assert estimate_cycles(parse(XPULP_LOOP), target).cycles == c["hwloop_setup"] + 8 * body


DOT_BLOCK = """func.func @main(%a: memref<256xi8>, %w: memref<256xi8>, %i: index, %z: i32) -> i32 {
  %acc:8 = xpulp.dot_block %a[%i], %w[%i] init(%z, %z, %z, %z, %z, %z, %z, %z)
    {kind = "sdotsp_b", rows = 2 : i64, cols = 4 : i64, lhs_stride = 64 : i64, rhs_stride = 64 : i64,
     words = 16 : i64} : memref<256xi8>, memref<256xi8> -> i32, i32, i32, i32, i32, i32, i32, i32
  func.return %acc#0 : i32
}"""


def test_a_dot_block_is_a_hardware_loop_of_loads_and_dot_products() -> None:
    """2 x 4: per word 6 post-increment or offset loads and 8 dot products, 16 words, and the
    loop's set-up; no increment or branch."""
    target = load_target("rv32imc-xcv")
    c = target.costs
    per_word = 6 * c.get("post_increment_load", c["load"]) + 8 * c["simd_dot"]
    assert estimate_cycles(parse(DOT_BLOCK), target).cycles == c["hwloop_setup"] + 16 * per_word
