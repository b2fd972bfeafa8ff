"""Source locations for parsed ops and verifier errors that point at them.

xDSL's verifier reports an error by dumping the whole module; on a model with thousands of
ops that hides the message. mote parses with `LocatingParser`, which remembers where each
op's text starts, and verifies with `verify_with_locations`, which reports
`file:line:col: error: 'qtfm.op' ...` and the offending op alone, as MLIR tools do.
"""

from __future__ import annotations

from io import StringIO
from typing import Any

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import DiagnosticException, VerifyException
from xdsl.utils.lexer import Span


class LocatingParser(Parser):
    """A parser that records the source position of every operation it builds."""

    def __init__(self, ctx: Context, text: str | bytes, name: str = "<stdin>") -> None:
        super().__init__(ctx, text, name)
        self.spans: dict[int, Span[Any]] = {}

    def parse_operation(self) -> Operation:
        start = self._current_token.span
        try:
            op = super().parse_operation()
        except VerifyException as err:  # raised while building an op of the custom syntax
            self.raise_error(str(err), start.start, start.end)
        self.spans[id(op)] = start
        return op


class OpLocations:
    """Maps ops back to `file:line:col` (ops created by passes have no location)."""

    def __init__(self, name: str, spans: dict[int, Span[Any]] | None = None, line_offset: int = 0):
        self.name = name
        self.spans = spans or {}
        self.line_offset = line_offset

    def of(self, op: Operation) -> str:
        span = self.spans.get(id(op))
        parent = op.parent_op()
        while span is None and parent is not None:
            span, parent = self.spans.get(id(parent)), parent.parent_op()
        if span is None:
            hint = op.results[0].name_hint if op.results else None
            return f"{self.name} (value %{hint})" if hint else self.name
        loc = span.get_location()
        return f"{self.name}:{loc.line + self.line_offset}:{loc.col}"


def _op_text(op: Operation) -> str:
    out = StringIO()
    if op.regions:
        out.write(f'"{op.name}"(...) ({{...}})')
    else:
        Printer(out, print_generic_format=True).print_op(op)
    return out.getvalue()


def verify_with_locations(module: ModuleOp, locations: OpLocations) -> None:
    """Verifies every op, innermost first, raising a located DiagnosticException."""
    for op in module.walk(reverse=False):
        try:
            op.verify(verify_nested_ops=False)
        except DiagnosticException as err:
            message = str(err.args[0]) if err.args else type(err).__name__
            if f"'{op.name}'" not in message:
                message = f"'{op.name}' op {message}"
            raise DiagnosticException(f"{locations.of(op)}: error: {message}\n  {_op_text(op)}") from None
