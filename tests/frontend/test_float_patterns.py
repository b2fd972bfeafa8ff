"""Float ONNX with post-training quantization: every exporter pattern the frontend recognises,
each in a minimal graph. Every test checks (a) the structure: which qtfm ops the pattern
became, and (b) the accuracy: the integer program on the reference interpreter, dequantized,
against onnxruntime's float output on the calibration inputs (cosine >= 0.99)."""

import math

import numpy as np
import pytest
from onnx import helper
from xdsl.ir import BlockArgument

from compiler.frontend.onnx_graph import load_float_graph
from compiler.frontend.onnx_model import load_onnx
from tests.frontend.float_helpers import (
    FLOAT,
    INT64,
    INT64_MAX,
    G,
    cosine,
    mote,
    onnxruntime_outputs,
    padding_mask,
    quantize_and_run,
    randn,
    save,
)

S, L, D = 6, 8, 32  # calibration samples, sequence length, hidden size
HEADS, DH = 2, 16


@pytest.fixture(params=["mixed", "int8"])
def precision(request):
    """Both quantization plans of `mote compile --precision`: int16 activations where they
    decide accuracy (mixed) and int8 for every matrix-product operand."""
    return request.param


def check_accuracy(result, at_least=0.99):
    """Cosine >= 0.99 with onnxruntime; and since a cosine does not see a wrong output scale,
    the dequantized values must also be within 10% (relative L2 error) of the float ones."""
    for got, want in zip(result.outputs, result.reference, strict=True):
        assert got.shape == want.shape
        assert cosine(got, want) >= at_least, result.cosines()
        assert np.linalg.norm(got - want) <= 0.1 * np.linalg.norm(want)


def x_model(g, *outputs):
    """The model of `g` with one float input x: [1, L, D]."""
    return g.model([("x", FLOAT, [1, L, D])], list(outputs))


def hidden(scale=2.0, seed=1):
    """Calibration data for an [1, L, D] float input (a residual stream with offsets)."""
    x = randn(S, 1, L, D, seed=seed, scale=scale)
    return x + np.linspace(-1, 1, D, dtype=np.float32)


# -- norms ------------------------------------------------------------------------------------


def test_layernormalization_op(tmp_path, precision):
    g = G()
    y = g.op(
        "LayerNormalization", "x", g.c(1 + randn(D, seed=3) * 0.1), g.c(randn(D, seed=4) * 0.1), epsilon=1e-5
    )
    out = g.linear(y, D, D)
    r = quantize_and_run(tmp_path, x_model(g, out), {"x": hidden()}, precision=precision)
    assert r.ops["qtfm.layernorm"] == 1 and r.ops["qtfm.linear"] == 1
    check_accuracy(r)


@pytest.mark.parametrize("opset", [13, 17, 18, 21])
@pytest.mark.parametrize("square", ["Pow", "Mul"])
def test_decomposed_layernorm(tmp_path, precision, opset, square):
    """ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul/Add (torch.onnx before opset 17), with
    ReduceMean's axes as an attribute (opsets 13, 17) or an input (opsets 18, 21), and the
    square as Pow(d, 2) or Mul(d, d)."""
    g = G(opset=opset)
    mean = g.reduce_mean("x", [-1])
    d = g.op("Sub", "x", mean)
    sq = g.op("Pow", d, g.c(2.0)) if square == "Pow" else g.op("Mul", d, d)
    var = g.reduce_mean(sq, [-1])
    std = g.op("Sqrt", g.op("Add", var, g.c(1e-12)))
    y = g.op("Div", d, std)
    y = g.op("Add", g.op("Mul", y, g.c(1 + randn(D, seed=3) * 0.1)), g.c(randn(D, seed=4) * 0.1))
    out = g.linear(y, D, D)
    r = quantize_and_run(tmp_path, x_model(g, out), {"x": hidden()}, precision=precision)
    assert r.ops["qtfm.layernorm"] == 1
    # nothing of the decomposition is left: no table (Sqrt), no elementwise arithmetic
    assert not {"qtfm.lut", "qtfm.mul", "qtfm.add"} & set(r.ops)
    check_accuracy(r)


@pytest.mark.parametrize("variant", ["Reciprocal", "Div", "MulSquare", "SimplifiedLayerNormalization"])
def test_rmsnorm(tmp_path, precision, variant):
    """Llama's RMSNorm: Pow/ReduceMean/Add/Sqrt/Reciprocal/Mul, the Div variant, the square
    as Mul(x, x), and onnxruntime's fused SimplifiedLayerNormalization."""
    g = G()
    gamma = g.c(1 + randn(D, seed=3) * 0.1)
    if variant == "SimplifiedLayerNormalization":
        y = g.op(variant, "x", gamma, epsilon=1e-6)
    else:
        sq = g.op("Mul", "x", "x") if variant == "MulSquare" else g.op("Pow", "x", g.c(2.0))
        var = g.reduce_mean(sq, [-1])
        std = g.op("Sqrt", g.op("Add", var, g.c(1e-6)))
        y = g.op("Div", "x", std) if variant == "Div" else g.op("Mul", "x", g.op("Reciprocal", std))
        y = g.op("Mul", y, gamma)
    out = g.linear(y, D, D)
    model = g.model([("x", FLOAT, [1, L, D])], [out], check=variant != "SimplifiedLayerNormalization")
    r = quantize_and_run(tmp_path, model, {"x": hidden()}, precision=precision)
    assert r.ops["qtfm.rmsnorm"] == 1
    assert not {"qtfm.lut", "qtfm.mul", "qtfm.add", "qtfm.layernorm"} & set(r.ops)
    check_accuracy(r)


# -- activation functions ---------------------------------------------------------------------


def _gelu_erf(g, x):
    erf = g.op("Erf", g.op("Div", x, g.c(math.sqrt(2))))
    return g.op("Mul", g.op("Mul", x, g.op("Add", erf, g.c(1.0))), g.c(0.5))


def _gelu_tanh(g, x):
    cube = g.op("Pow", x, g.c(3.0))
    inner = g.op("Mul", g.op("Add", x, g.op("Mul", cube, g.c(0.044715))), g.c(math.sqrt(2 / math.pi)))
    return g.op("Mul", g.op("Mul", g.c(0.5), x), g.op("Add", g.c(1.0), g.op("Tanh", inner)))


ACTIVATIONS = {
    "gelu_erf": (17, _gelu_erf),
    "gelu_tanh_formula": (17, _gelu_tanh),
    "Gelu_op": (20, lambda g, x: g.op("Gelu", x)),
    "Gelu_op_tanh": (20, lambda g, x: g.op("Gelu", x, approximate="tanh")),
    "silu": (17, lambda g, x: g.op("Mul", x, g.op("Sigmoid", x))),
    "Tanh": (17, lambda g, x: g.op("Tanh", x)),
    "Sigmoid": (17, lambda g, x: g.op("Sigmoid", x)),
    "Relu": (17, lambda g, x: g.op("Relu", x)),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_function_in_mlp(tmp_path, precision, name):
    """Linear -> activation -> Linear: the activation, whatever formula the exporter chose,
    becomes one table lookup (qtfm.lut) between the two linear layers."""
    opset, act = ACTIVATIONS[name]
    g = G(opset=opset)
    h = act(g, g.linear("x", D, 4 * D))
    out = g.linear(h, 4 * D, D)
    r = quantize_and_run(tmp_path, x_model(g, out), {"x": hidden()}, precision=precision)
    assert r.ops["qtfm.lut"] == 1 and r.ops["qtfm.linear"] == 2
    assert r.ops["qtfm.mul"] == 0  # the formula's products are inside the table
    check_accuracy(r)


def test_swiglu(tmp_path, precision):
    """Llama's MLP: SiLU(gate) * up, two activations multiplied."""
    g = G()
    gate = g.op("MatMul", "x", g.randn(D, 2 * D, scale=D**-0.5))
    up = g.op("MatMul", "x", g.randn(D, 2 * D, scale=D**-0.5))
    h = g.op("Mul", g.op("Mul", gate, g.op("Sigmoid", gate)), up)
    out = g.op("MatMul", h, g.randn(2 * D, D, scale=(2 * D) ** -0.5))
    r = quantize_and_run(tmp_path, x_model(g, out), {"x": hidden()}, precision=precision)
    assert r.ops["qtfm.lut"] == 1 and r.ops["qtfm.mul"] == 1 and r.ops["qtfm.linear"] == 3
    check_accuracy(r)


# -- attention --------------------------------------------------------------------------------


def _split_heads(g, t):
    """[1, L, D] -> [1, H, L, dh] (Reshape/Transpose as exporters emit)."""
    return g.op("Transpose", g.op("Reshape", t, g.ints(1, L, HEADS, DH)), perm=[0, 2, 1, 3])


def _attention(g, x, scaling="Div", mask=None, rope=None):
    """Self-attention: projections, head split, scaled scores, optional additive mask,
    Softmax, P.V, head merge, output projection."""
    q, k, v = (_split_heads(g, g.linear(x, D, D)) for _ in range(3))
    if rope is not None:
        q, k = rope(g, q), rope(g, k)
    scores = g.op("MatMul", q, g.op("Transpose", k, perm=[0, 1, 3, 2]))
    if scaling == "Div":
        scores = g.op("Div", scores, g.c(math.sqrt(DH)))
    else:
        scores = g.op("Mul", scores, g.c(1 / math.sqrt(DH)))
    if mask is not None:
        scores = g.op("Add", scores, mask)
    p = g.op("Softmax", scores, axis=-1)
    ctx = g.op("MatMul", p, v)
    merged = g.op("Reshape", g.op("Transpose", ctx, perm=[0, 2, 1, 3]), g.ints(1, L, D))
    return g.linear(merged, D, D)


def test_softmax_of_activations(tmp_path, precision):
    """A Softmax not fed by a matrix product (a classifier head): the input requantized to
    int16 scores, then qtfm.softmax."""
    g = G()
    logits = g.op("Div", g.linear("x", D, 16), g.c(2.0))
    out = g.op("Softmax", logits, axis=-1)
    r = quantize_and_run(tmp_path, x_model(g, out), {"x": hidden()}, precision=precision)
    assert r.ops["qtfm.softmax"] == 1 and r.ops["qtfm.matmul"] == 0
    check_accuracy(r)


def _softmax_ops(r):
    (sm,) = r.ops_of("qtfm.softmax")
    return sm


@pytest.mark.parametrize("scaling", ["Div", "Mul"])
def test_attention_scaled_softmax(tmp_path, precision, scaling):
    """Softmax(Q.K^T / sqrt(d)) and Softmax(Q.K^T * (1/sqrt(d))): the scaling folds into the
    requantization of the score matmul; Reshape/Transpose split and merge the heads."""
    g = G()
    out = _attention(g, "x", scaling)
    r = quantize_and_run(tmp_path, x_model(g, out), {"x": hidden()}, precision=precision)
    assert r.ops["qtfm.softmax"] == 1 and r.ops["qtfm.matmul"] == 2 and r.ops["qtfm.linear"] == 4
    assert r.ops["qtfm.reshape"] >= 4 and r.ops["qtfm.transpose"] >= 5
    assert _softmax_ops(r).mask is None
    check_accuracy(r)


def test_attention_mask_from_int64_input(tmp_path, precision):
    """HF BERT's extended attention mask: (1 - Cast(Unsqueeze(mask))) * -10000 added to the
    scores; the integer program applies the input mask to qtfm.softmax exactly."""
    g = G()
    m = g.op("Unsqueeze", "attention_mask", g.ints(1, 2))
    m = g.op("Cast", m, to=FLOAT)
    bias = g.op("Mul", g.op("Sub", g.c(1.0), m), g.c(-10000.0))
    out = _attention(g, "x", mask=bias)
    model = g.model([("x", FLOAT, [1, L, D]), ("attention_mask", INT64, [1, L])], [out])
    r = quantize_and_run(
        tmp_path, model, {"x": hidden(), "attention_mask": padding_mask(S, L)}, precision=precision
    )
    sm = _softmax_ops(r)
    assert sm.mask is not None and sm.mask.type.get_shape() == (1, 1, 1, L)
    assert sm.mask.owner.name == "qtfm.reshape" and isinstance(sm.mask.owner.operands[0], BlockArgument)
    assert r.ops["qtfm.lut"] == 0  # the mask arithmetic is gone, not tabulated
    check_accuracy(r)


@pytest.mark.parametrize("masked", [-10000.0, float(np.finfo(np.float32).min)])
def test_attention_constant_causal_mask(tmp_path, precision, masked):
    """A decoder's causal mask as a constant bias (0 on and below the diagonal)."""
    g = G()
    causal = np.triu(np.full((L, L), masked, np.float32), k=1)[None, None]
    out = _attention(g, "x", mask=g.c(causal))
    r = quantize_and_run(tmp_path, x_model(g, out), {"x": hidden()}, precision=precision)
    keep = r.weight_of(_softmax_ops(r).mask)
    np.testing.assert_array_equal(keep.reshape(L, L), np.tril(np.ones((L, L))))
    check_accuracy(r)


def test_attention_with_causal_and_padding_mask_from_input(tmp_path, precision):
    """The padding mask computed from the input through Where/Equal (another exporter
    spelling), added to the scaled scores."""
    g = G()
    m = g.op("Unsqueeze", "attention_mask", g.ints(1, 2))
    bias = g.op("Where", g.op("Equal", m, g.c(0, np.int64)), g.c(-1e9), g.c(0.0))
    out = _attention(g, "x", mask=bias)
    model = g.model([("x", FLOAT, [1, L, D]), ("attention_mask", INT64, [1, L])], [out])
    r = quantize_and_run(
        tmp_path, model, {"x": hidden(), "attention_mask": padding_mask(S, L)}, precision=precision
    )
    assert _softmax_ops(r).mask is not None
    check_accuracy(r)


# -- rotary embeddings ------------------------------------------------------------------------


def _rope_tables():
    inv = 1.0 / 10000 ** (np.arange(0, DH, 2) / DH)
    freqs = np.outer(np.arange(L), inv)
    emb = np.concatenate([freqs, freqs], axis=-1)
    return np.cos(emb).astype(np.float32), np.sin(emb).astype(np.float32)


def _rope(g, x):
    """x * cos + rotate_half(x) * sin, rotate_half = Concat(-x[..., d/2:], x[..., :d/2])."""
    cos, sin = _rope_tables()
    x1 = g.op("Slice", x, g.ints(0), g.ints(DH // 2), g.ints(-1), g.ints(1))
    x2 = g.op("Slice", x, g.ints(DH // 2), g.ints(INT64_MAX), g.ints(-1), g.ints(1))
    rotated = g.op("Concat", g.op("Neg", x2), x1, axis=-1)
    return g.op("Add", g.op("Mul", x, g.c(cos[None, None])), g.op("Mul", rotated, g.c(sin[None, None])))


def test_rotary_embedding(tmp_path, precision):
    """Slice/Neg/Concat/Mul/Add with cos/sin tables: x*cos + swap_halves(x)*sin' in integers
    (qtfm.slice, qtfm.concat, two qtfm.mul, one qtfm.add)."""
    g = G()
    q = _rope(g, _split_heads(g, g.linear("x", D, D)))
    out = g.op("Reshape", g.op("Transpose", q, perm=[0, 2, 1, 3]), g.ints(1, L, D))
    r = quantize_and_run(tmp_path, x_model(g, out), {"x": hidden()}, precision=precision)
    assert r.ops["qtfm.slice"] == 2 and r.ops["qtfm.concat"] == 1
    assert r.ops["qtfm.mul"] == 2 and r.ops["qtfm.add"] == 1
    assert r.ops["qtfm.lut"] == 0
    check_accuracy(r)


def test_attention_with_rotary_embeddings_and_causal_mask(tmp_path, precision):
    """A Llama attention block: rotary q and k, causal mask, Softmax."""
    g = G()
    causal = np.triu(np.full((L, L), -np.inf, np.float32), k=1)[None, None]
    out = _attention(g, "x", mask=g.c(causal), rope=_rope)
    r = quantize_and_run(tmp_path, x_model(g, out), {"x": hidden()}, precision=precision)
    assert r.ops["qtfm.softmax"] == 1 and r.ops["qtfm.concat"] == 2 and r.ops["qtfm.mul"] == 4
    assert _softmax_ops(r).mask is not None
    check_accuracy(r)


# -- embeddings, linear layers, pooling -------------------------------------------------------

VOCAB = 50


def test_gather_embeddings(tmp_path, precision):
    """Word embeddings (Gather on int64 ids) plus position embeddings (a Gather of constants,
    folded) and LayerNormalization: a BERT embedding block."""
    g = G()
    words = g.op("Gather", g.randn(VOCAB, D), "input_ids", axis=0)
    pos = g.op("Gather", g.randn(L + 4, D), g.c(np.arange(L)[None], np.int64), axis=0)
    e = g.op("Add", words, pos)
    out = g.op("LayerNormalization", e, g.c(np.ones(D)), g.c(np.zeros(D)), epsilon=1e-12)
    ids = np.random.default_rng(5).integers(0, VOCAB, size=(S, 1, L))
    model = g.model([("input_ids", INT64, [1, L])], [out])
    r = quantize_and_run(tmp_path, model, {"input_ids": ids}, precision=precision)
    (emb,) = r.ops_of("qtfm.embedding")
    assert emb.results[0].type.get_shape() == (1, L, D)
    assert r.ops["qtfm.layernorm"] == 1 and r.ops["qtfm.add"] == 1
    check_accuracy(r)


def test_matmul_with_bias(tmp_path, precision):
    """MatMul + Add(bias) is one qtfm.linear (bias in int32 at the accumulator scale); the
    bias may come first in the Add."""
    g = G()
    h = g.op("MatMul", "x", g.randn(D, 48, scale=D**-0.5))
    h = g.op("Add", g.randn(48, scale=0.5), h)
    out = g.linear(h, 48, D)
    r = quantize_and_run(tmp_path, x_model(g, out), {"x": hidden()}, precision=precision)
    assert r.ops["qtfm.linear"] == 2 and r.ops["qtfm.add"] == 0
    assert all(len(op.operands) == 3 for op in r.ops_of("qtfm.linear"))  # x, weight, bias
    check_accuracy(r)


@pytest.mark.parametrize("trans_b", [0, 1])
def test_gemm_with_bias(tmp_path, precision, trans_b):
    """Gemm(transB=1) as torch exports nn.Linear on 2-D inputs (and transB=0)."""
    g = G()
    w = randn(16, D, seed=7) * D**-0.5
    out = g.op("Gemm", "x", g.c(w if trans_b else w.T), g.randn(16, scale=0.3), transB=trans_b)
    model = g.model([("x", FLOAT, [1, D])], [out])
    r = quantize_and_run(tmp_path, model, {"x": randn(S, 1, D, seed=8, scale=2)}, precision=precision)
    (lin,) = r.ops_of("qtfm.linear")
    assert len(lin.operands) == 3
    check_accuracy(r)


def test_tanh_pooler(tmp_path, precision):
    """BERT's pooler: hidden[:, 0] (Gather index 0 on axis 1), Gemm(transB=1), Tanh."""
    g = G()
    h = g.linear("x", D, D)
    first = g.op("Gather", h, g.c(0, np.int64), axis=1)
    dense = g.op("Gemm", first, g.randn(D, D, scale=D**-0.5), g.randn(D, scale=0.1), transB=1)
    out = g.op("Tanh", dense)
    r = quantize_and_run(tmp_path, x_model(g, out), {"x": hidden()}, precision=precision)
    assert r.ops["qtfm.slice"] == 1 and r.ops["qtfm.linear"] == 2 and r.ops["qtfm.lut"] == 1
    assert r.outputs[0].shape == (S, 1, D)
    check_accuracy(r)


def _mean_pool(g, h, mask, out=None):
    """sentence-transformers' mean pooling as exported."""
    m = g.op("Unsqueeze", mask, g.ints(-1))
    m = g.op("Cast", g.op("Expand", m, g.op("Shape", h)), to=FLOAT)
    axes = g.ints(1)
    total = g.op("ReduceSum", g.op("Mul", h, m), axes, keepdims=0)
    count = g.op("Clip", g.op("ReduceSum", m, axes, keepdims=0), g.c(1e-9))
    return g.op("Div", total, count, out=out)


def test_masked_mean_pooling(tmp_path, precision):
    """Unsqueeze/Expand/Cast/Mul/ReduceSum/Clip/Div over the tokens the mask keeps is one
    qtfm.mean with the input mask."""
    g = G()
    h = g.linear("x", D, D)
    out = _mean_pool(g, h, "attention_mask")
    model = g.model([("x", FLOAT, [1, L, D]), ("attention_mask", INT64, [1, L])], [out])
    r = quantize_and_run(
        tmp_path, model, {"x": hidden(), "attention_mask": padding_mask(S, L)}, precision=precision
    )
    (mean,) = r.ops_of("qtfm.mean")
    assert mean.mask is not None and mean.results[0].type.get_shape() == (1, D)
    assert r.ops["qtfm.mul"] == 0 and r.ops["qtfm.lut"] == 0
    check_accuracy(r)


# -- shapes -----------------------------------------------------------------------------------


def _dynamic_model():
    """A model with dynamic batch and sequence dimensions whose head split reshapes with a
    shape computed at run time: Shape -> Gather -> Unsqueeze -> Concat -> Reshape."""
    g = G()
    h = g.linear("x", D, D)
    shape = g.op("Shape", h)
    batch = g.op("Unsqueeze", g.op("Gather", shape, g.c(0, np.int64), axis=0), g.ints(0))
    seq = g.op("Unsqueeze", g.op("Gather", shape, g.c(1, np.int64), axis=0), g.ints(0))
    new_shape = g.op("Concat", batch, seq, g.ints(HEADS, DH), axis=0)
    heads = g.op("Transpose", g.op("Reshape", h, new_shape), perm=[0, 2, 1, 3])
    act = g.op("Tanh", heads)
    merged = g.op("Reshape", g.op("Transpose", act, perm=[0, 2, 1, 3]), g.ints(0, 0, D))
    out = g.linear(merged, D, D)
    return g.model([("x", FLOAT, ["batch", "sequence", D])], [out])


def test_constant_folding_of_shape_chain(tmp_path):
    """With the dimensions pinned, the Shape/Gather/Unsqueeze/Concat chain folds into a
    constant and only the computation on activations remains."""
    model = _dynamic_model()
    path, _ = save(tmp_path, model, {"x": hidden()})
    graph = load_float_graph(load_onnx(path), seq_len=L)
    ops = [n.op for n in graph.nodes]
    assert not {"Shape", "Gather", "Unsqueeze", "Concat"} & set(ops)
    assert ops.count("Reshape") == 2 and ops.count("Transpose") == 2
    assert graph.shapes[graph.outputs[0]] == (1, L, D)
    reshape = next(n for n in graph.nodes if n.op == "Reshape")
    assert graph.consts[reshape.inputs[1]].tolist() == [1, L, HEADS, DH]


@pytest.mark.parametrize("seq_len", [None, L], ids=["inferred_from_calib", "given"])
def test_dynamic_sequence_length(tmp_path, precision, seq_len):
    """A dynamic sequence dimension is fixed by seq_len, or inferred from the calibration
    inputs; the batch dimension becomes 1."""
    r = quantize_and_run(tmp_path, _dynamic_model(), {"x": hidden()}, seq_len=seq_len, precision=precision)
    f_inputs = r.module.body.block.first_op.function_type.inputs.data
    assert f_inputs[0].get_shape() == (1, L, D)
    assert r.ops["qtfm.lut"] == 1 and r.ops["qtfm.reshape"] >= 2
    check_accuracy(r)


def test_dynamic_sequence_length_other_than_calibrated(tmp_path, precision):
    """seq_len wins over the calibration inputs' length: those must then have that length."""
    model = _dynamic_model()
    short = hidden()[:, :, : L // 2]
    r = quantize_and_run(tmp_path, model, {"x": short}, seq_len=L // 2, precision=precision)
    assert r.outputs[0].shape == (S, 1, L // 2, D)
    check_accuracy(r)


def test_identity_dropout_and_float_cast_pass_through(tmp_path, precision):
    """Inference-time no-ops exporters leave in (Identity, Dropout, Cast to float) vanish."""
    g = G()
    h = g.op("Dropout", g.op("Identity", g.linear("x", D, D)), n_out=1)
    out = g.linear(g.op("Cast", h, to=FLOAT), D, D)
    r = quantize_and_run(tmp_path, x_model(g, out), {"x": hidden()}, precision=precision)
    assert set(r.ops) == {"qtfm.weight", "qtfm.linear", "func.return"}
    check_accuracy(r)


def test_constant_nodes_and_multiple_outputs(tmp_path, precision):
    """Constant nodes (as torch.onnx emits scalars) and a model with two outputs, each
    dequantized with its own scale."""
    g = G()
    half = g.op("Constant", value=helper.make_tensor("v", FLOAT, [], [0.5]))
    h = g.linear("x", D, D)
    a = g.op("Mul", h, half, out="scaled")
    b = g.op("Relu", h, out="relu")
    r = quantize_and_run(tmp_path, x_model(g, a, b), {"x": hidden()}, precision=precision)
    assert len(r.outputs) == 2
    check_accuracy(r)


# -- whole models -----------------------------------------------------------------------------


def test_cli_compiles_and_runs_an_encoder_with_dynamic_sequence(tmp_path, precision):
    """`mote compile --calib` then `mote run` on a small encoder as torch.onnx exports it
    (dynamic batch and sequence, embeddings, masked attention, decomposed LayerNorm, GELU,
    mean pooling): the run writes dequantized floats close to onnxruntime's."""
    g = G()
    e = g.op("Gather", g.randn(VOCAB, D), "input_ids", axis=0)
    m = g.op("Cast", g.op("Unsqueeze", "attention_mask", g.ints(1, 2)), to=FLOAT)
    ext = g.op("Mul", g.op("Sub", g.c(1.0), m), g.c(-10000.0))
    h = g.op("Add", e, _attention(g, e, mask=ext))
    mean = g.reduce_mean(h, [-1])
    d = g.op("Sub", h, mean)
    std = g.op("Sqrt", g.op("Add", g.reduce_mean(g.op("Pow", d, g.c(2.0)), [-1]), g.c(1e-12)))
    h = g.op("Div", d, std)
    h = g.op("Add", h, g.linear(_gelu_erf(g, g.linear(h, D, 2 * D)), 2 * D, D), out="last_hidden_state")
    pooled = _mean_pool(g, h, "attention_mask", out="sentence_embedding")
    dyn = ["batch", "sequence"]
    model = g.model([("input_ids", INT64, dyn), ("attention_mask", INT64, dyn)], [h, pooled])
    calib = {
        "input_ids": np.random.default_rng(5).integers(0, VOCAB, size=(S, 1, L)),
        "attention_mask": padding_mask(S, L),
    }
    path, calib_path = save(tmp_path, model, calib)
    r = mote("compile", path, "-o", tmp_path / "out", "--calib", calib_path, "--precision", precision)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    r = mote("run", tmp_path / "out", "--inputs", calib_path, "--outputs", tmp_path / "o.npz")
    assert r.returncode == 0, r.stderr
    got = np.load(tmp_path / "o.npz")
    want = onnxruntime_outputs(model, calib)
    assert sorted(got.files) == ["last_hidden_state", "sentence_embedding"]
    for name, ref in zip(["last_hidden_state", "sentence_embedding"], want, strict=True):
        assert got[name].dtype == np.float32 and got[name].shape == ref.shape
        assert cosine(got[name], ref) >= 0.99


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bert-tiny", {"qtfm.embedding": 1, "qtfm.layernorm": 5, "qtfm.softmax": 2, "qtfm.lut": 3}),
        ("llama-tiny", {"qtfm.embedding": 1, "qtfm.rmsnorm": 5, "qtfm.softmax": 2, "qtfm.concat": 4}),
    ],
)
def test_zoo_models_are_recognised_and_accurate(tmp_path, precision, name, expected):
    """The exporter-shaped zoo models: every block recognised (the counts of the qtfm ops
    they become), the outputs within cosine 0.99 of onnxruntime."""
    from compiler.frontend.zoo import build_model, example_inputs

    r = quantize_and_run(
        tmp_path, build_model(name, 16), example_inputs(name, 16, n_samples=4), precision=precision
    )
    for op, count in expected.items():
        assert r.ops[op] == count, r.ops
    assert all(sm.mask is not None for sm in r.ops_of("qtfm.softmax"))
    check_accuracy(r)
