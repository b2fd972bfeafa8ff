"""Architecture hyper-parameters of the zoo models and the exporter quirks each graph imitates.

`BertConfig` and `LlamaConfig` hold what a Hugging Face `config.json` holds; `BertStyle` picks
between the node patterns that different exporters emit for the same layer (torch.onnx at an
older opset with a decomposed LayerNorm, or an opset-17 / optimum-style graph with the fused
`LayerNormalization` op, as torch.onnx at opset 17 with transformers 5 emits it), so that the
zoo covers both.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BertStyle:
    """Which exporter pattern a BERT graph uses where exporters differ."""

    fused_layernorm: bool
    """`LayerNormalization` (opset >= 17) instead of ReduceMean/Sub/Pow/.../Add."""
    bias_first: bool
    """Linear bias as the first operand of its Add, as torch.onnx emits it."""
    merged_key_transpose: bool
    """K^T as one Transpose perm [0,2,3,1] after the head split, instead of [0,2,1,3] then
    [0,1,3,2] (the unoptimized torch.onnx form)."""
    sliced_position_ids: bool
    """Position ids as a Slice of the [1, max_positions] buffer (torch.onnx) rather than a
    constant [1, L] tensor (constant-folded export)."""
    scale_by_mul: bool
    """Scores scaled by Mul 1/sqrt(d) (transformers 5 `scaling`) instead of Div sqrt(d)."""
    reshape_infer_dim: bool
    """Head-split Reshape to [1, L, -1, d] and merge to [1, L, -1] (transformers 5) instead of
    fully static shapes [1, L, h, d] and [1, L, H]."""


TORCH_STYLE = BertStyle(
    fused_layernorm=False,
    bias_first=True,
    merged_key_transpose=False,
    sliced_position_ids=True,
    scale_by_mul=False,
    reshape_infer_dim=False,
)
"""torch.onnx (TorchScript) at opset < 17 of a transformers 4 BertModel."""
MODERN_STYLE = BertStyle(
    fused_layernorm=True,
    bias_first=False,
    merged_key_transpose=True,
    sliced_position_ids=False,
    scale_by_mul=True,
    reshape_infer_dim=True,
)
"""torch.onnx at opset 17 of a transformers 5 BertModel (its transposes merged and position
ids folded), with the bias Add operands commuted as graph optimizers leave them."""
MINILM_STYLE = BertStyle(
    fused_layernorm=True,
    bias_first=True,
    merged_key_transpose=False,
    sliced_position_ids=True,
    scale_by_mul=False,
    reshape_infer_dim=False,
)
"""torch.onnx at opset 17 of a transformers 4 BertModel."""


@dataclass(frozen=True)
class BertConfig:
    """A BERT encoder (post-LayerNorm, absolute positions, exact Erf GELU)."""

    layers: int
    hidden: int
    heads: int
    ffn: int
    vocab: int = 30522
    max_positions: int = 512
    type_vocab: int = 2
    layer_norm_eps: float = 1e-12
    pooler: bool = True
    """`pooler_output` (first token, dense, Tanh) as a second output."""
    mean_pooling: bool = False
    """`sentence_embedding` (attention-mask-weighted mean of `last_hidden_state`) as an output."""

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads


@dataclass(frozen=True)
class LlamaConfig:
    """A Llama decoder (pre-RMSNorm, rotary positions, SwiGLU, causal mask, no biases)."""

    layers: int
    hidden: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int = 512
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads


BERT_TINY = BertConfig(layers=2, hidden=128, heads=2, ffn=512)
BERT_MINI = BertConfig(layers=4, hidden=256, heads=4, ffn=1024)
MINILM = BertConfig(layers=6, hidden=384, heads=12, ffn=1536, pooler=False, mean_pooling=True)
LLAMA_TINY = LlamaConfig(layers=2, hidden=128, heads=4, ffn=384, vocab=4096)
