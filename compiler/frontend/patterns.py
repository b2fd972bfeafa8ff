"""Recognising what exporters emit: the transformer building blocks in a float ONNX graph.

torch.onnx and HF exporters rarely use fused ops: LayerNorm arrives as ReduceMean/Sub/Pow/
Sqrt/Div, RMSNorm as Pow/ReduceMean/Add/Sqrt/Reciprocal/Mul, GELU as an Erf or Tanh formula,
SiLU as x*Sigmoid(x), attention as MatMul/Div/Add(mask)/Softmax, rotary embeddings as
Slice/Neg/Concat/Mul/Add. Each matcher here finds one such block and claims its nodes; the
quantizer (ptq.py) then emits integer qtfm for the block as a whole.

A general rule covers activation functions: a connected region of elementwise nodes with one
activation input, one output and at least one non-linear op is a function of one variable,
whatever formula the exporter chose; it becomes a 256-entry table (`qtfm.lut`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import onnx

from compiler.frontend.onnx_graph import FloatGraph, Node

ELEMENTWISE = {
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Pow",
    "Sqrt",
    "Reciprocal",
    "Neg",
    "Abs",
    "Erf",
    "Tanh",
    "Sigmoid",
    "Relu",
    "LeakyRelu",
    "Elu",
    "Gelu",
    "HardSigmoid",
    "HardSwish",
    "Exp",
    "Log",
    "Softplus",
    "Clip",
    "Min",
    "Max",
    "Sign",
    "Cos",
    "Sin",
    "Mish",
    "Selu",
    "Celu",
}
NONLINEAR = ELEMENTWISE - {"Add", "Sub", "Mul", "Div", "Neg"}


@dataclass
class Block:
    """A recognised block: `kind`, its activation inputs, its output tensor, parameters."""

    kind: str
    inputs: list[str]
    output: str
    nodes: list[Node]
    params: dict[str, object] = field(default_factory=dict)


class Matcher:
    """Finds blocks in a graph; a node belongs to at most one block."""

    def __init__(self, graph: FloatGraph) -> None:
        self.g = graph
        self.claimed: set[int] = set()
        self.blocks: dict[str, Block] = {}  # by output tensor

    # -- helpers ------------------------------------------------------------------------------

    def free(self, node: Node | None) -> bool:
        return node is not None and id(node) not in self.claimed

    def producer(self, tensor: str) -> Node | None:
        node = self.g.producer.get(tensor)
        return node if self.free(node) else None

    def only_user(self, tensor: str) -> Node | None:
        users = self.g.users(tensor)
        if len(users) != 1 or self.g.is_output(tensor) or not self.free(users[0]):
            return None
        return users[0]

    def scalar(self, tensor: str) -> float | None:
        c = self.g.const(tensor)
        if c is None or c.size != 1:
            return None
        return float(c.reshape(()))

    def other(self, node: Node, tensor: str) -> str | None:
        """The input of a binary node that is not `tensor`."""
        if len(node.inputs) != 2:
            return None
        a, b = node.inputs
        return b if a == tensor else a if b == tensor else None

    def add(self, block: Block) -> None:
        for n in block.nodes:
            self.claimed.add(id(n))
        self.blocks[block.output] = block

    def is_last_axis(self, node: Node, tensor: str) -> bool:
        rank = len(self.g.shapes.get(tensor, ()))
        axes = node.attr("axes")
        if axes is None and len(node.inputs) > 1 and node.inputs[1]:
            c = self.g.const(node.inputs[1])
            axes = None if c is None else c.ravel().tolist()
        if axes is None:
            return False
        return [a % rank for a in axes] == [rank - 1]  # type: ignore[union-attr]

    # -- driver -------------------------------------------------------------------------------

    def run(self) -> dict[str, Block]:
        for node in self.g.nodes:
            if self.free(node) and node.op == "LayerNormalization":
                self.layernorm_op(node)
        for node in self.g.nodes:
            if self.free(node) and node.op == "ReduceMean":
                self.layernorm_decomposed(node) or self.rmsnorm(node)
        for node in self.g.nodes:
            if self.free(node) and node.op == "SimplifiedLayerNormalization":
                self.rmsnorm_op(node)
        for node in self.g.nodes:
            if self.free(node) and node.op == "Softmax":
                self.softmax(node)
        for node in self.g.nodes:
            if self.free(node) and node.op == "Neg":
                self.rope(node)
        for node in self.g.nodes:
            if self.free(node) and node.op == "ReduceSum":
                self.mean_pool(node)
        for node in self.g.nodes:
            if self.free(node) and node.op in ("MatMul", "Gemm"):
                self.linear(node)
        for node in self.g.nodes:
            if self.free(node) and node.op in NONLINEAR:
                self.elementwise_function(node)
        return self.blocks

    # -- norms --------------------------------------------------------------------------------

    def layernorm_op(self, node: Node) -> None:
        x = node.inputs[0]
        rank = len(self.g.shapes.get(x, ()))
        if int(node.attr("axis", -1)) % max(rank, 1) != rank - 1:  # type: ignore[arg-type]
            return
        gamma = self.g.const(node.inputs[1])
        beta = self.g.const(node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else None
        if gamma is None or (len(node.inputs) > 2 and node.inputs[2] and beta is None):
            return
        n = self.g.shapes[x][-1]
        self.add(
            Block(
                "layernorm",
                [x],
                node.outputs[0],
                [node],
                {
                    "gamma": np.broadcast_to(gamma, (n,)).astype(np.float64),
                    "beta": np.zeros(n) if beta is None else np.broadcast_to(beta, (n,)).astype(np.float64),
                    "eps": float(node.attr("epsilon", 1e-5)),  # type: ignore[arg-type]
                },
            )
        )

    def _affine_tail(self, nodes: list[Node], out: str) -> tuple[str, np.ndarray | None, np.ndarray | None]:
        """Optional `* gamma` and `+ beta` after a normalisation."""
        gamma = beta = None
        mul = self.only_user(out)
        if mul is not None and mul.op == "Mul":
            c = self.g.const(self.other(mul, out) or "")
            if c is not None:
                nodes.append(mul)
                gamma, out = c, mul.outputs[0]
        add = self.only_user(out)
        if add is not None and add.op == "Add":
            c = self.g.const(self.other(add, out) or "")
            if c is not None:
                nodes.append(add)
                beta, out = c, add.outputs[0]
        return out, gamma, beta

    def _sqrt_of_mean_plus_eps(self, mean: Node) -> tuple[list[Node], float, Node] | None:
        """ReduceMean -> Add(eps) -> Sqrt; returns the nodes, eps and the Sqrt node."""
        add = self.only_user(mean.outputs[0])
        if add is None or add.op != "Add":
            return None
        eps = self.scalar(self.other(add, mean.outputs[0]) or "")
        sqrt = self.only_user(add.outputs[0])
        if eps is None or sqrt is None or sqrt.op != "Sqrt":
            return None
        return [add, sqrt], eps, sqrt

    def _square_of(self, node: Node) -> str | None:
        """The tensor a Pow(., 2) or Mul(t, t) node squares."""
        if node.op == "Pow" and self.scalar(node.inputs[1]) == 2.0:
            return node.inputs[0]
        if node.op == "Mul" and node.inputs[0] == node.inputs[1]:
            return node.inputs[0]
        return None

    def layernorm_decomposed(self, mean1: Node) -> bool:
        x = mean1.inputs[0]
        if not self.is_last_axis(mean1, x):
            return False
        subs = [
            u for u in self.g.users(mean1.outputs[0]) if u.op == "Sub" and u.inputs == [x, mean1.outputs[0]]
        ]
        if len(subs) != 1 or len(self.g.users(mean1.outputs[0])) != 1:
            return False
        sub = subs[0]
        d = sub.outputs[0]
        users = self.g.users(d)
        sq = next((u for u in users if self._square_of(u) == d), None)
        div = next((u for u in users if u.op == "Div" and u.inputs[0] == d), None)
        if sq is None or div is None or len(users) != 2:
            return False
        mean2 = self.only_user(sq.outputs[0])
        if mean2 is None or mean2.op != "ReduceMean" or not self.is_last_axis(mean2, sq.outputs[0]):
            return False
        tail = self._sqrt_of_mean_plus_eps(mean2)
        if tail is None or div.inputs[1] != tail[2].outputs[0]:
            return False
        nodes = [mean1, sub, sq, mean2, *tail[0], div]
        out, gamma, beta = self._affine_tail(nodes, div.outputs[0])
        n = self.g.shapes[x][-1]
        self.add(
            Block(
                "layernorm",
                [x],
                out,
                nodes,
                {
                    "gamma": np.ones(n) if gamma is None else np.broadcast_to(gamma, (n,)).astype(np.float64),
                    "beta": np.zeros(n) if beta is None else np.broadcast_to(beta, (n,)).astype(np.float64),
                    "eps": tail[1],
                },
            )
        )
        return True

    def rmsnorm(self, mean: Node) -> bool:
        sq = self.producer(mean.inputs[0])
        if sq is None or self.only_user(sq.outputs[0]) is not mean:
            return False
        x = self._square_of(sq)
        if x is None or not self.is_last_axis(mean, sq.outputs[0]):
            return False
        tail = self._sqrt_of_mean_plus_eps(mean)
        if tail is None:
            return False
        nodes = [sq, mean, *tail[0]]
        s = tail[2].outputs[0]
        nxt = self.only_user(s)
        if nxt is not None and nxt.op == "Reciprocal":
            recip = nxt
            mul = self.only_user(recip.outputs[0])
            if mul is None or mul.op != "Mul" or self.other(mul, recip.outputs[0]) != x:
                return False
            nodes += [recip, mul]
            out = mul.outputs[0]
        elif nxt is not None and nxt.op == "Div" and nxt.inputs == [x, s]:
            nodes.append(nxt)
            out = nxt.outputs[0]
        else:
            return False
        out, gamma, beta = self._affine_tail(nodes, out)
        if beta is not None:
            return False
        n = self.g.shapes[x][-1]
        self.add(
            Block(
                "rmsnorm",
                [x],
                out,
                nodes,
                {
                    "gamma": np.ones(n) if gamma is None else np.broadcast_to(gamma, (n,)).astype(np.float64),
                    "eps": tail[1],
                },
            )
        )
        return True

    def rmsnorm_op(self, node: Node) -> None:
        gamma = self.g.const(node.inputs[1]) if len(node.inputs) > 1 else None
        if gamma is None:
            return
        x = node.inputs[0]
        n = self.g.shapes[x][-1]
        self.add(
            Block(
                "rmsnorm",
                [x],
                node.outputs[0],
                [node],
                {
                    "gamma": np.broadcast_to(gamma, (n,)).astype(np.float64),
                    "eps": float(node.attr("epsilon", 1e-5)),  # type: ignore[arg-type]
                },
            )
        )

    # -- attention ----------------------------------------------------------------------------

    def softmax(self, node: Node) -> None:
        t = node.inputs[0]
        rank = len(self.g.shapes.get(t, ()))
        if int(node.attr("axis", -1)) % max(rank, 1) != rank - 1:  # type: ignore[arg-type]
            return
        nodes = [node]
        mask: str | None = None
        prod = self.producer(t)
        if prod is not None and prod.op == "Add" and self.only_user(t) is node:
            for cand in prod.inputs:
                if self.mask_like(cand):
                    mask = cand
                    t = self.other(prod, cand)  # type: ignore[assignment]
                    nodes.append(prod)
                    self.claim_cone(cand)
                    break
        scores, alpha = t, 1.0
        prod = self.producer(t)
        if prod is not None and prod.op in ("Div", "Mul") and self.only_user(t) is not None:
            c = self.scalar(prod.inputs[1])
            if c is not None and c > 0:
                alpha = 1.0 / c if prod.op == "Div" else c
                scores = prod.inputs[0]
                nodes.append(prod)
        inputs = [scores]
        prod = self.producer(scores)
        if (
            prod is not None
            and prod.op == "MatMul"
            and self.only_user(scores) is not None
            and all(self.g.const(i) is None for i in prod.inputs)
        ):
            inputs = list(prod.inputs)
            nodes.append(prod)
        else:
            scores_tensor = scores
            inputs = [scores_tensor]
        self.add(
            Block(
                "softmax",
                inputs,
                node.outputs[0],
                nodes,
                {
                    "alpha": alpha,
                    "mask": mask,
                    "scores": t,
                },
            )
        )

    MASK_OPS = {
        "Cast",
        "Unsqueeze",
        "Reshape",
        "Expand",
        "Sub",
        "Mul",
        "Add",
        "Not",
        "Equal",
        "Where",
        "Neg",
        "Squeeze",
        "Min",
        "Max",
        "Less",
        "Greater",
        "Clip",
        "ReduceSum",
    }

    def mask_like(self, tensor: str) -> bool:
        """A tensor computed from integer graph inputs and constants by a few elementwise and
        shape ops (how exporters turn an attention mask into an additive bias)."""
        if tensor in self.g.consts:
            return True
        seen: set[str] = set()
        stack = [tensor]
        while stack:
            t = stack.pop()
            if t in seen or t in self.g.consts:
                continue
            seen.add(t)
            if t in self.g.inputs:
                if self.g.dtypes.get(t) in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16):
                    return False
                continue
            node = self.g.producer.get(t)
            if node is None or node.op not in self.MASK_OPS or len(seen) > 32:
                return False
            stack.extend(i for i in node.inputs if i)
        return True

    def mean_pool(self, total: Node) -> None:
        """Masked mean pooling: ReduceSum(x * mask) / max(ReduceSum(mask), eps)."""
        mul = self.producer(total.inputs[0])
        if mul is None or mul.op != "Mul" or self.only_user(mul.outputs[0]) is not total:
            return
        mask = next((i for i in mul.inputs if self.mask_like(i) and i not in self.g.consts), None)
        if mask is None:
            return
        x = self.other(mul, mask)
        div = self.only_user(total.outputs[0])
        if x is None or div is None or div.op != "Div" or div.inputs[0] != total.outputs[0]:
            return
        if not self.mask_like(div.inputs[1]) or not self.is_last_axis_free(total, x):
            return
        axes = self._axes(total)
        self.claim_cone(mask)
        self.claim_cone(div.inputs[1])
        self.add(
            Block(
                "mean_pool",
                [x],
                div.outputs[0],
                [mul, total, div],
                {
                    "mask": mask,
                    "axis": axes[0],
                    "keepdims": bool(total.attr("keepdims", 1)),
                },
            )
        )

    def _axes(self, node: Node) -> list[int]:
        axes = node.attr("axes")
        if axes is None and len(node.inputs) > 1 and node.inputs[1]:
            c = self.g.const(node.inputs[1])
            axes = None if c is None else c.ravel().tolist()
        rank = len(self.g.shapes.get(node.inputs[0], ()))
        return [] if axes is None else [int(a) % rank for a in axes]  # type: ignore[union-attr]

    def is_last_axis_free(self, node: Node, x: str) -> bool:
        """A reduction over exactly one axis that is not the last (pooling over tokens)."""
        axes = self._axes(node)
        return len(axes) == 1 and axes[0] < len(self.g.shapes.get(x, ())) - 1

    def claim_cone(self, tensor: str) -> None:
        """Claims the nodes computing a mask from the inputs: the integer program uses the
        input directly (see ptq.py), so these float computations disappear."""
        stack = [tensor]
        while stack:
            node = self.g.producer.get(stack.pop())
            if node is not None and id(node) not in self.claimed:
                self.claimed.add(id(node))
                stack.extend(i for i in node.inputs if i and i not in self.g.consts)

    def rope(self, neg: Node) -> None:
        half2 = self.producer(neg.inputs[0])
        cat = self.only_user(neg.outputs[0])
        if half2 is None or half2.op != "Slice" or cat is None or cat.op != "Concat":
            return
        if len(cat.inputs) != 2 or cat.inputs[0] != neg.outputs[0]:
            return
        half1 = self.producer(cat.inputs[1])
        if half1 is None or half1.op != "Slice" or half1.inputs[0] != half2.inputs[0]:
            return
        x = half1.inputs[0]
        shape = self.g.shapes.get(x)
        if shape is None or int(cat.attr("axis", 0)) % len(shape) != len(shape) - 1:  # type: ignore[arg-type]
            return
        mul_sin = self.only_user(cat.outputs[0])
        if mul_sin is None or mul_sin.op != "Mul":
            return
        sin = self.g.const(self.other(mul_sin, cat.outputs[0]) or "")
        add = self.only_user(mul_sin.outputs[0])
        if sin is None or add is None or add.op != "Add":
            return
        mul_cos = self.producer(self.other(add, mul_sin.outputs[0]) or "")
        if mul_cos is None or mul_cos.op != "Mul" or x not in mul_cos.inputs:
            return
        cos = self.g.const(self.other(mul_cos, x) or "")
        if cos is None or not self._slices_halves(half1, half2, shape[-1]):
            return
        self.add(
            Block(
                "rope",
                [x],
                add.outputs[0],
                [half1, half2, neg, cat, mul_sin, mul_cos, add],
                {"cos": cos.astype(np.float64), "sin": sin.astype(np.float64)},
            )
        )

    def _slices_halves(self, first: Node, second: Node, d: int) -> bool:
        def bounds(n: Node) -> tuple[int, int] | None:
            starts = self.g.const(n.inputs[1]) if len(n.inputs) > 1 else None
            ends = self.g.const(n.inputs[2]) if len(n.inputs) > 2 else None
            if starts is None or ends is None or starts.size != 1:
                return None
            return int(starts.ravel()[0]), int(min(int(ends.ravel()[0]), d))

        return bounds(first) == (0, d // 2) and bounds(second) == (d // 2, d)

    # -- linear layers ------------------------------------------------------------------------

    def linear(self, node: Node) -> None:
        x, w_name = node.inputs[0], node.inputs[1]
        w = self.g.const(w_name)
        if w is None or self.g.const(x) is not None:
            return
        bias = None
        nodes = [node]
        if node.op == "Gemm":
            alpha = float(node.attr("alpha", 1.0))  # type: ignore[arg-type]
            beta = float(node.attr("beta", 1.0))  # type: ignore[arg-type]
            if node.attr("transA", 0):
                return
            w = (w.T if node.attr("transB", 0) else w) * alpha
            if len(node.inputs) > 2 and node.inputs[2]:
                c = self.g.const(node.inputs[2])
                if c is None or c.size != w.shape[1]:
                    return
                bias = c.ravel() * beta
            out = node.outputs[0]
        else:
            if w.ndim != 2:
                return
            out = node.outputs[0]
            add = self.only_user(out)
            if add is not None and add.op == "Add":
                c = self.g.const(self.other(add, out) or "")
                if c is not None and c.size == w.shape[1] and c.shape[-1] == w.shape[1]:
                    bias, out = c.ravel(), add.outputs[0]
                    nodes.append(add)
        self.add(
            Block(
                "linear",
                [x],
                out,
                nodes,
                {
                    "weight": w.astype(np.float64),
                    "bias": None if bias is None else bias.astype(np.float64),
                },
            )
        )

    # -- activation functions -----------------------------------------------------------------

    def elementwise_function(self, anchor: Node) -> None:
        """Grows a one-input, one-output elementwise region around a non-linear node."""
        region: list[Node] = []
        roots: set[str] = set()
        stack = [anchor]
        while stack:
            n = stack.pop()
            if n in region:
                continue
            region.append(n)
            for t in n.inputs:
                if not t or t in self.g.consts:
                    continue
                p = self.producer(t)
                if p is not None and p.op in ELEMENTWISE and self.only_user(t) is not None:
                    stack.append(p)
                else:
                    roots.add(t)
        if len(roots) != 1:
            return
        x = next(iter(roots))
        known = {x, *(o for n in region for o in n.outputs)}
        grown: list[Node] = []
        grew = True
        while grew:
            grew = False
            for t in list(known):
                for u in self.g.users(t):
                    if u in region or not self.free(u) or u.op not in ELEMENTWISE:
                        continue
                    if all(not i or i in known or i in self.g.consts for i in u.inputs):
                        region.append(u)
                        grown.append(u)
                        known.update(u.outputs)
                        grew = True

        def escaping_tensors() -> list[str]:
            internal = {o for n in region for o in n.outputs}
            return [
                t for t in internal if self.g.is_output(t) or any(u not in region for u in self.g.users(t))
            ]

        escaping = escaping_tensors()
        # A grown node that does not depend on the anchor and whose result leaves the region
        # is a separate function of x (Mul(x, c) beside Relu(x) on the same tensor): leave
        # such siblings out rather than give up on the whole region.
        after_anchor = set(anchor.outputs)
        for n in self.g.nodes:
            if n in region and any(i in after_anchor for i in n.inputs):
                after_anchor.update(n.outputs)
        while len(escaping) > 1:
            sibling = next(
                (n for n in grown if not after_anchor & set(n.outputs) and set(n.outputs) & set(escaping)),
                None,
            )
            if sibling is None:
                break
            region.remove(sibling)
            grown.remove(sibling)
            escaping = escaping_tensors()
        if len(escaping) != 1:
            return
        shape = self.g.shapes.get(x)
        if shape is None or self.g.shapes.get(escaping[0]) != shape:
            return
        order = [n for n in self.g.nodes if n in region]
        self.add(Block("function", [x], escaping[0], order, {}))
