"""`mote-opt`: the opt-style driver for compiler developers.

It is xDSL's opt main with every upstream dialect, pass and target plus mote's own (found
through the `xdsl.universe` entry point, or registered here when running from a source tree),
with two changes that matter on real models: verifier errors name the failing op with
`file:line:col` instead of dumping the module, and user errors (bad IR, a missing file, an
unknown pass) are one message and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import IO

from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.exceptions import ArgSpecParseError, DiagnosticException, ParseError
from xdsl.xdsl_opt_main import xDSLOptMain

from compiler.errors import MoteError
from compiler.reference.weights import WeightFileError
from compiler.tools.diagnostics import LocatingParser, OpLocations, verify_with_locations
from compiler.universe import get_mote_dialects, get_mote_passes, get_mote_targets


class MoteOptMain(xDSLOptMain):
    version_format = "mote-opt (xDSL {xdsl_version})"
    _locations: OpLocations

    def __init__(self, args: Sequence[str] | None = None) -> None:
        self._locations = OpLocations("<stdin>")
        super().__init__(description="mote modular optimizer driver", args=args)

    def register_all_dialects(self) -> None:
        super().register_all_dialects()
        for name, factory in get_mote_dialects().items():
            if name not in self.ctx.registered_dialect_names:
                self.ctx.register_dialect(name, factory)

    def register_all_passes(self) -> None:
        super().register_all_passes()
        for name, factory in get_mote_passes().items():
            self.available_passes.setdefault(name, factory)

    def register_all_targets(self) -> None:
        super().register_all_targets()
        for name, factory in get_mote_targets().items():
            self.available_targets.setdefault(name, factory)

    def register_all_frontends(self) -> None:
        super().register_all_frontends()
        self.available_frontends["mlir"] = self._parse_mlir

    def _parse_mlir(self, io: IO[bytes]) -> ModuleOp:
        parser = LocatingParser(self.ctx, io.read(), self.get_input_name())
        module = parser.parse_module(not self.args.no_implicit_module)
        self._locations = OpLocations(self.get_input_name(), parser.spans, self._line_offset)
        return module

    def parse_chunk(self, chunk: IO[bytes], file_extension: str, start_offset: int = 0) -> ModuleOp | None:
        self._line_offset = start_offset
        return super().parse_chunk(chunk, file_extension, start_offset)

    def apply_passes(self, prog: ModuleOp) -> None:
        if not self.args.disable_verify:
            verify_with_locations(prog, self._locations)
        super().apply_passes(prog)


def _fail(message: str) -> int:
    print(message.rstrip("\n"), file=sys.stderr)
    return 1


def run(args: Sequence[str] | None = None) -> int:
    """Runs mote-opt and returns its exit status."""
    try:
        MoteOptMain(args=args).run()
    except ParseError as err:
        return _fail(f"error: {err}")
    except DiagnosticException as err:
        notes = "".join(getattr(err, "__notes__", []))
        return _fail(f"{err}\n{notes}" if not str(err).startswith("<") else str(err))
    except (
        OSError,
        ValueError,
        argparse.ArgumentError,
        ArgSpecParseError,
        MoteError,
        WeightFileError,
    ) as err:
        return _fail(f"mote-opt: error: {err}")
    return 0


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
