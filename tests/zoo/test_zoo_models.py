"""Every zoo model: onnxruntime on the exported float graph agrees with the independent numpy
forward pass; the graphs are valid, deterministic and use the exporter patterns they promise."""

import collections

import numpy as np
import onnx
import pytest

from compiler.frontend.zoo import (
    ZOO_NAMES,
    ZooError,
    build_model,
    example_inputs,
    model_weights,
    save_model,
    zoo_forward,
)
from tests.zoo.zoo_helpers import run_samples, session, zoo_model_bytes

TOLERANCE = 1e-4
SAMPLES = 3


def ops(model: onnx.ModelProto) -> collections.Counter:
    return collections.Counter(n.op_type for n in model.graph.node)


@pytest.mark.parametrize("seq_len", [16, 33])
@pytest.mark.parametrize("name", ZOO_NAMES)
def test_onnxruntime_matches_numpy_forward(name, seq_len):
    model = zoo_model_bytes(name, seq_len)
    inputs = {k: v[:SAMPLES] for k, v in example_inputs(name, seq_len).items()}
    got = run_samples(session(model), inputs)
    want = zoo_forward(name, inputs)
    assert set(got) == set(want)
    for out, value in got.items():
        assert value.dtype == np.float32
        assert value.shape == want[out].shape, out
        diff = float(np.abs(value - want[out]).max())
        assert diff < TOLERANCE, f"{name} L={seq_len} {out}: max abs diff {diff:.3g}"


@pytest.mark.parametrize("name", ["bert-tiny", "llama-tiny"])
def test_optimized_onnxruntime_agrees_too(name):
    """ORT's own fusions (LayerNorm, GELU, attention) see the patterns and keep the results."""
    inputs = {k: v[:2] for k, v in example_inputs(name, 16).items()}
    plain = run_samples(session(zoo_model_bytes(name, 16)), inputs)
    fused = run_samples(session(zoo_model_bytes(name, 16), optimize=True), inputs)
    for out in plain:
        assert np.abs(plain[out] - fused[out]).max() < TOLERANCE


@pytest.mark.parametrize("name", ZOO_NAMES)
def test_interface(name):
    model = onnx.load_from_string(zoo_model_bytes(name, 16))
    assert model.opset_import[0].domain == "" and model.opset_import[0].version == 17
    shapes = {
        v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
        for v in [*model.graph.input, *model.graph.output]
    }
    if name == "llama-tiny":
        assert shapes == {"input_ids": [1, 16], "logits": [1, 16, 4096]}
    else:
        h = {"bert-tiny": 128, "bert-mini": 256, "minilm": 384}[name]
        extra = {"pooler_output": [1, h]} if name != "minilm" else {"sentence_embedding": [1, h]}
        assert shapes == {
            "input_ids": [1, 16],
            "attention_mask": [1, 16],
            "last_hidden_state": [1, 16, h],
            **extra,
        }
    assert all(i.type.tensor_type.elem_type == onnx.TensorProto.INT64 for i in model.graph.input)
    props = {p.key: p.value for p in model.metadata_props}
    assert props["mote.zoo.name"] == name and props["mote.zoo.seq_len"] == "16"


def test_parameter_counts():
    counts = {n: sum(v.size for v in model_weights(n).values()) for n in ZOO_NAMES}
    assert counts == {
        "bert-tiny": 4_385_920,
        "bert-mini": 11_170_560,
        "llama-tiny": 1_475_200,
        "minilm": 22_565_376,
    }


def test_bert_tiny_patterns():
    c = ops(onnx.load_from_string(zoo_model_bytes("bert-tiny", 16)))
    assert "LayerNormalization" not in c
    # 2 LayerNorms per layer + embeddings, decomposed: two ReduceMeans each.
    assert c["ReduceMean"] == 2 * 5 and c["Pow"] == 5 and c["Sqrt"] == 5
    assert c["Erf"] == 2 and c["Softmax"] == 2 and c["Gemm"] == 1 and c["Tanh"] == 1
    assert c["Slice"] == 1 and c["Unsqueeze"] == 2 and c["Cast"] == 1
    assert c["Transpose"] == 2 * 5  # q, k, k^T, v, merge per layer


def test_bert_mini_patterns():
    c = ops(onnx.load_from_string(zoo_model_bytes("bert-mini", 16)))
    assert c["LayerNormalization"] == 1 + 2 * 4 and "ReduceMean" not in c
    assert c["Transpose"] == 4 * 4 and c["Erf"] == 4 and "Slice" not in c


def test_llama_patterns():
    c = ops(onnx.load_from_string(zoo_model_bytes("llama-tiny", 16)))
    assert c["Reciprocal"] == 5 and c["Sigmoid"] == 2 and c["Softmax"] == 2
    assert c["Neg"] == 4 and c["Concat"] == 4 and c["Slice"] == 8
    assert "Erf" not in c and "LayerNormalization" not in c
    model = onnx.load_from_string(zoo_model_bytes("llama-tiny", 16))
    mask = next(onnx.numpy_helper.to_array(t) for t in model.graph.initializer if t.name == "causal_mask")
    assert mask.shape == (1, 1, 16, 16)
    assert (mask[0, 0][np.tril_indices(16)] == 0).all()
    assert (mask[0, 0][np.triu_indices(16, 1)] == np.finfo(np.float32).min).all()


@pytest.mark.parametrize("name", ZOO_NAMES)
def test_deterministic(name, tmp_path):
    first = zoo_model_bytes(name, 16)
    assert build_model(name, 16).SerializeToString() == first
    path = save_model(name, tmp_path / f"{name}.onnx", 16)
    assert path.read_bytes() == first


def test_seed_changes_synthetic_weights_only():
    assert zoo_model_bytes("bert-tiny", 16, seed=1) != zoo_model_bytes("bert-tiny", 16)
    a, b = model_weights("llama-tiny", 0), model_weights("llama-tiny", 1)
    assert not np.array_equal(a["lm_head.weight"], b["lm_head.weight"])


@pytest.mark.parametrize("opset", [13, 18, 21])
def test_other_opsets(opset):
    """ReduceMean's axes move from attribute to input at 18; LayerNormalization needs 17."""
    for name in ("bert-tiny", "bert-mini", "llama-tiny"):
        model = onnx.load_from_string(zoo_model_bytes(name, 8, opset=opset))
        assert model.opset_import[0].version == opset
        if opset < 17:
            assert "LayerNormalization" not in ops(model)
        inputs = {k: v[:1] for k, v in example_inputs(name, 8).items()}
        got = run_samples(session(model), inputs)
        want = run_samples(session(zoo_model_bytes(name, 8)), inputs)
        for out in want:
            assert np.abs(got[out] - want[out]).max() < TOLERANCE


def test_errors():
    with pytest.raises(ZooError, match="unknown zoo model 'gpt2'.*bert-tiny"):
        build_model("gpt2", 16)
    for bad in (0, 513):
        with pytest.raises(ZooError, match="outside 1..512"):
            build_model("bert-tiny", bad)
    with pytest.raises(ZooError, match="opset 12"):
        build_model("llama-tiny", 16, opset=12)
