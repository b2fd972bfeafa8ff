"""Float ONNX that mote cannot take is refused explicitly: the message names the file, and for a
node its name, op type and opset; `mote compile` exits with status 1 and prints one line, never
a traceback. Each error path is checked through the CLI once (exit status, message, no
traceback) and, where there are variants, in-process through FrontendError."""

import math

import numpy as np
import pytest
from onnx import helper

from compiler.frontend import import_model
from compiler.frontend.onnx_model import FrontendError
from compiler.npz_io import NpzError
from tests.frontend.float_helpers import FLOAT, INT64, G, mote, padding_mask, randn, save

S, L, D = 4, 8, 32
HEADS, DH = 2, 16


def assert_clean_error(result, *words, status=1):
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("mote: error: "), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def compile_cli(tmp_path, model, calib, *extra):
    path, calib_path = save(tmp_path, model, calib)
    return mote("compile", path, "-o", tmp_path / "out", "--calib", calib_path, *extra)


def import_error(tmp_path, model, calib, seq_len=None) -> str:
    path, calib_path = save(tmp_path, model, calib)
    with pytest.raises(FrontendError) as err:
        import_model(path, calib_path, seq_len)
    assert str(path) in str(err.value)
    return str(err.value)


def x_calib():
    return {"x": randn(S, 1, L, D, scale=2)}


def x_input():
    return [("x", FLOAT, [1, L, D])]


# -- unsupported ops --------------------------------------------------------------------------


def test_unsupported_einsum_names_node_op_and_opset(tmp_path):
    g = G()
    h = g.linear("x", D, D)
    out = g.op("Einsum", h, g.randn(D, D), equation="bld,de->ble")
    r = compile_cli(tmp_path, g.model(x_input(), [out]), x_calib())
    assert_clean_error(r, "model.onnx", "node 'Einsum_2'", "ai.onnx::Einsum", "opset 17", "not supported")
    assert not (tmp_path / "out" / "model.mlir").exists()


@pytest.mark.parametrize("opset", [13, 21])
def test_unsupported_topk_names_node_op_and_opset(tmp_path, opset):
    g = G(opset=opset)
    h = g.linear("x", D, D)
    out = g.op("TopK", h, g.ints(4), n_out=2, axis=-1)
    msg = import_error(tmp_path, g.model(x_input(), [out]), x_calib())
    assert "node 'TopK_2' (ai.onnx::TopK, opset " + str(opset) + ")" in msg and "not supported" in msg


def test_unsupported_op_of_another_domain(tmp_path):
    """onnxruntime's com.microsoft ops (here FastGelu, which ORT's optimizer emits) are
    named with their domain."""
    g = G()
    h = g.linear("x", D, D)
    g.nodes.append(helper.make_node("FastGelu", [h], ["y"], name="fast_gelu", domain="com.microsoft"))
    model = g.model(x_input(), ["y"], check=False)
    model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    msg = import_error(tmp_path, model, x_calib())
    assert "node 'fast_gelu' (com.microsoft::FastGelu, opset 17)" in msg


# -- damaged files and missing inputs ---------------------------------------------------------


def _valid_model_bytes(tmp_path):
    g = G()
    out = g.linear("x", D, D)
    path, _ = save(tmp_path, g.model(x_input(), [out]), x_calib())
    return path.read_bytes()


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_invalid_onnx_file(tmp_path, damage):
    data = _valid_model_bytes(tmp_path)
    bad = data[: len(data) // 2] if damage == "truncated" else b"\x08\x07this is not a model" * 20
    (tmp_path / "bad.onnx").write_bytes(bad)
    np.savez(tmp_path / "c.npz", **x_calib())
    r = mote("compile", tmp_path / "bad.onnx", "-o", tmp_path / "out", "--calib", tmp_path / "c.npz")
    assert_clean_error(r, "bad.onnx", "not a valid ONNX model")


def test_empty_onnx_file(tmp_path):
    """An empty file parses as an empty protobuf: a model without nodes."""
    (tmp_path / "empty.onnx").write_bytes(b"")
    r = mote("compile", tmp_path / "empty.onnx", "-o", tmp_path / "out")
    assert_clean_error(r, "empty.onnx", "no nodes")


def test_float_model_without_calib(tmp_path):
    g = G()
    out = g.linear("x", D, D)
    path, _ = save(tmp_path, g.model(x_input(), [out]), x_calib())
    r = mote("compile", path, "-o", tmp_path / "out")
    assert_clean_error(r, "model.onnx", "float model", "--calib")
    with pytest.raises(FrontendError, match="--calib"):
        import_model(path, None)


def test_calib_that_does_not_fit_the_inputs(tmp_path):
    g = G()
    out = g.linear("x", D, D)
    r = compile_cli(tmp_path, g.model(x_input(), [out]), {"x": randn(S, 1, L, D + 1)})
    assert_clean_error(r, "calib.npz", "input 'x'", f"(1, {L}, {D})")


# -- shapes -----------------------------------------------------------------------------------


def _dynamic_model():
    g = G()
    out = g.linear("x", D, D)
    return g.model([("x", FLOAT, ["batch", "sequence", D])], [out])


def test_dynamic_dimension_that_cannot_be_fixed(tmp_path):
    """No sequence length given and none in the calibration data (its array has another
    rank than the input): the error names the input and the dimension."""
    r = compile_cli(tmp_path, _dynamic_model(), {"x": randn(L, D)})
    assert_clean_error(r, "model.onnx", "input 'x'", "dynamic dimension 'sequence'", "--seq-len")
    # what the message suggests works
    r = compile_cli(tmp_path, _dynamic_model(), {"x": randn(1, L, D)}, "--seq-len", L)
    assert r.returncode == 0, r.stderr


def test_fixed_sequence_length_that_calib_does_not_have(tmp_path):
    """seq_len pins the sequence; calibration inputs of another length are an error."""
    path, calib_path = save(tmp_path, _dynamic_model(), x_calib())
    expected = r"input 'x' has shape \(4, 1, 8, 32\); the model expects \(1, 5, 32\)"
    with pytest.raises(NpzError, match=expected):
        import_model(path, calib_path, seq_len=5)


def test_second_dynamic_dimension_comes_from_the_calibration_data(tmp_path):
    """A dynamic feature dimension besides the sequence is pinned from the representative
    inputs, not from the sequence length."""
    g = G()
    out = g.linear("x", D, D)
    model = g.model([("x", FLOAT, ["batch", "sequence", "features"])], [out])
    r = compile_cli(tmp_path, model, x_calib())
    assert r.returncode == 0, r.stderr
    assert f"x:i16[1, {L}, {D}]" in r.stdout or f"x:i8[1, {L}, {D}]" in r.stdout


# -- attention --------------------------------------------------------------------------------


def _attention_scores(g, x):
    def heads(t):
        return g.op("Transpose", g.op("Reshape", t, g.ints(1, L, HEADS, DH)), perm=[0, 2, 1, 3])

    q, k = heads(g.linear(x, D, D)), heads(g.linear(x, D, D))
    scores = g.op("MatMul", q, g.op("Transpose", k, perm=[0, 1, 3, 2]))
    return g.op("Div", scores, g.c(math.sqrt(DH)))


def test_softmax_with_alibi_bias_is_not_a_mask(tmp_path):
    """ALiBi adds real-valued per-head position penalties to the scores: not a mask (0 or
    a large negative), which is all the integer softmax can apply exactly."""
    g = G()
    slopes = np.array([0.5, 0.25], np.float32)[:, None, None]
    distance = -np.abs(np.arange(L)[:, None] - np.arange(L)[None, :]).astype(np.float32)
    alibi = (slopes * distance)[None]
    p = g.op("Softmax", g.op("Add", _attention_scores(g, "x"), g.c(alibi)), axis=-1)
    r = compile_cli(tmp_path, g.model(x_input(), [p]), x_calib())
    assert_clean_error(r, "node 'Softmax_", "ai.onnx::Softmax", "opset 17", "not a mask")


def _input_mask_bias(g, mask):
    m = g.op("Cast", g.op("Unsqueeze", mask, g.ints(1, 2)), to=FLOAT)
    return g.op("Mul", g.op("Sub", g.c(1.0), m), g.c(-10000.0))


def test_mask_that_depends_on_two_inputs(tmp_path):
    g = G()
    both = g.op("Mul", "mask_a", "mask_b")
    p = g.op("Softmax", g.op("Add", _attention_scores(g, "x"), _input_mask_bias(g, both)), axis=-1)
    inputs = [*x_input(), ("mask_a", INT64, [1, L]), ("mask_b", INT64, [1, L])]
    calib = {**x_calib(), "mask_a": padding_mask(S, L), "mask_b": padding_mask(S, L, seed=9)}
    r = compile_cli(tmp_path, g.model(inputs, [p]), calib)
    assert_clean_error(r, "node 'Softmax_", "ai.onnx::Softmax", "the mask depends on 2 inputs")


def test_mask_that_keeps_the_wrong_positions(tmp_path):
    """m * -10000 (forgetting the 1 - m) masks the tokens the input keeps: refused, since the
    integer mask could not reproduce it."""
    g = G()
    m = g.op("Cast", g.op("Unsqueeze", "attention_mask", g.ints(1, 2)), to=FLOAT)
    bias = g.op("Mul", m, g.c(-10000.0))
    p = g.op("Softmax", g.op("Add", _attention_scores(g, "x"), bias), axis=-1)
    model = g.model([*x_input(), ("attention_mask", INT64, [1, L])], [p])
    msg = import_error(tmp_path, model, {**x_calib(), "attention_mask": padding_mask(S, L)})
    assert "ai.onnx::Softmax" in msg and "does not keep exactly the positions" in msg


# -- single nodes -----------------------------------------------------------------------------


def test_division_by_a_non_constant(tmp_path):
    g = G()
    a, b = g.linear("x", D, D), g.linear("x", D, D)
    out = g.op("Div", a, b)
    r = compile_cli(tmp_path, g.model(x_input(), [out]), x_calib())
    assert_clean_error(r, "node 'Div_4'", "ai.onnx::Div", "opset 17", "division by a positive constant")


def test_division_by_a_negative_constant(tmp_path):
    g = G()
    out = g.op("Div", g.linear("x", D, D), g.c(-2.0))
    msg = import_error(tmp_path, g.model(x_input(), [out]), x_calib())
    assert "node 'Div_2' (ai.onnx::Div, opset 17)" in msg and "positive constant" in msg


def test_gather_on_activations_with_non_constant_indices(tmp_path):
    g = G()
    h = g.linear("x", D, D)
    out = g.op("Gather", h, "positions", axis=1)
    model = g.model([*x_input(), ("positions", INT64, [2])], [out])
    calib = {**x_calib(), "positions": np.tile(np.array([0, 3], np.int64), (S, 1))}
    r = compile_cli(tmp_path, model, calib)
    assert_clean_error(r, "node 'Gather_2'", "ai.onnx::Gather", "opset 17", "one constant index")


def test_gather_on_activations_with_several_constant_indices(tmp_path):
    g = G()
    out = g.op("Gather", g.linear("x", D, D), g.ints(0, 3), axis=1)
    msg = import_error(tmp_path, g.model(x_input(), [out]), x_calib())
    assert "node 'Gather_2' (ai.onnx::Gather, opset 17)" in msg and "one constant index" in msg


def test_gather_of_a_constant_that_is_not_an_embedding_table(tmp_path):
    """A Gather of a constant along axis 1 is no embedding lookup."""
    g = G()
    h = g.op("Gather", g.randn(D, 50), "ids", axis=1)  # [D, 1, L]
    out = g.linear(h, L, D)
    model = g.model([("ids", INT64, [1, L])], [out])
    calib = {"ids": np.random.default_rng(0).integers(0, 50, (S, 1, L))}
    msg = import_error(tmp_path, model, calib)
    assert "node 'Gather_0' (ai.onnx::Gather, opset 17)" in msg and "2-D embedding lookup" in msg


def test_slice_with_a_negative_step(tmp_path):
    """Reversing the sequence (Slice with step -1) on activations is not supported."""
    g = G()
    h = g.linear("x", D, D)
    out = g.op("Slice", h, g.ints(-1), g.ints(-(2**62)), g.ints(1), g.ints(-1))
    r = compile_cli(tmp_path, g.model(x_input(), [out]), x_calib())
    assert_clean_error(r, "node 'Slice_2'", "ai.onnx::Slice", "opset 17", "step -1")


def test_slice_with_non_constant_bounds(tmp_path):
    g = G()
    h = g.linear("x", D, D)
    out = g.op("Slice", h, g.ints(0), "end", g.ints(1))
    model = g.model([*x_input(), ("end", INT64, [1])], [out])
    msg = import_error(tmp_path, model, {**x_calib(), "end": np.full((S, 1), 4, np.int64)})
    assert "node 'Slice_2' (ai.onnx::Slice, opset 17)" in msg and "must be constants" in msg


def test_product_of_integer_input_and_activation(tmp_path):
    """An integer input used as data (not as a mask or ids) has no scale: refused by name."""
    g = G()
    m = g.op("Cast", g.op("Unsqueeze", "weights", g.ints(-1)), to=FLOAT)
    out = g.op("Mul", g.linear("x", D, D), m)
    model = g.model([*x_input(), ("weights", INT64, [1, L])], [out])
    msg = import_error(tmp_path, model, {**x_calib(), "weights": padding_mask(S, L)})
    assert "node 'Cast_" in msg and "ai.onnx::Cast, opset 17" in msg and "not supported" in msg


def test_output_that_is_a_constant(tmp_path):
    g = G()
    out = g.op("Add", g.c(np.ones(D)), g.c(np.ones(D)))
    h = g.linear("x", D, D)
    model = g.model(x_input(), [h, out])
    msg = import_error(tmp_path, model, x_calib())
    assert f"output '{out}' is a constant" in msg
