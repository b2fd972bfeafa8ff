"""`mote`: the driver embedded engineers use: compile a model, run it, read its report.

    mote compile MODEL(.onnx|.mlir) -o DIR [--target host|rv32imc|rv32imc-xcv]
                 [--calib FILE.npz] [--dump-ir] [--ram-budget BYTES | --tile-rows N]
    mote run DIR --inputs FILE.npz --outputs FILE.npz [--reference]
    mote report DIR [--plot FILE.svg|png]
    mote zoo NAME -o FILE.onnx [--seq-len N] [--inputs FILE.npz] [--calib FILE.npz]

A compiled model directory holds `model.mlir`, `model.weights.npz` and `report.json`. Paths
of the contract that are not built yet (benchmarks, compression) exit with
status 2 and say so; user errors exit with status 1 and one message.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from xdsl.utils.exceptions import DiagnosticException, ParseError

from compiler.errors import MoteError, NotImplementedYet
from compiler.frontend.onnx_model import FrontendError
from compiler.npz_io import NpzError
from compiler.reference.interpreter import ReferenceError
from compiler.reference.weights import WeightFileError

TARGETS = ("host", "rv32imc", "rv32imc-xcv")
USER_ERRORS = (
    MoteError,
    FrontendError,
    ReferenceError,
    WeightFileError,
    NpzError,
    ParseError,
    DiagnosticException,
    FileNotFoundError,
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mote", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("compile", help="compile a model into a directory")
    c.add_argument("model", type=Path, help="an .onnx model or a qtfm .mlir file")
    c.add_argument("-o", "--output", type=Path, required=True, help="output directory")
    c.add_argument("--target", choices=TARGETS, default="host")
    c.add_argument("--calib", type=Path, help="representative inputs (.npz)")
    c.add_argument("--dump-ir", action="store_true", help="write the IR of every stage")
    c.add_argument("--seq-len", type=int, help="fix a dynamic sequence length of a float model")
    c.add_argument(
        "--ram-budget",
        type=int,
        metavar="BYTES",
        help="RAM for activations and I/O buffers: the fastest schedule that fits is chosen "
        "(default: the target's RAM less its stack)",
    )
    c.add_argument(
        "--tile-rows", type=int, metavar="N", help="run attention and FFN N sequence rows at a time (0: off)"
    )
    c.add_argument(
        "--precision",
        choices=("mixed", "int8"),
        default="mixed",
        help="float models: int16 activations where they decide accuracy (mixed, the default) "
        "or int8 for every matrix-product activation",
    )
    c.add_argument(
        "--output-bits",
        type=int,
        choices=(16, 8),
        default=16,
        help="float models: width of the model's outputs (8 lets the last layer write the output "
        "in place: less RAM)",
    )

    r = sub.add_parser("run", help="run a compiled model on inputs")
    r.add_argument("dir", type=Path)
    r.add_argument("--inputs", type=Path, required=True)
    r.add_argument("--outputs", type=Path, required=True)
    r.add_argument(
        "--reference", action="store_true", help="run the qtfm program in the reference interpreter instead"
    )

    rep = sub.add_parser("report", help="print a compiled model's report")
    rep.add_argument("dir", type=Path)
    rep.add_argument("--plot", type=Path, help="draw the memory plan (.svg or .png)")

    z = sub.add_parser("zoo", help="write a model of the zoo as float ONNX, with example inputs")
    z.add_argument("name", nargs="?", help="bert-tiny, bert-mini, llama-tiny or minilm (omit to list)")
    z.add_argument("-o", "--output", type=Path, help="the .onnx file to write")
    z.add_argument("--seq-len", type=int, default=128)
    z.add_argument("--seed", type=int, default=0, help="seed of the synthetic weights")
    z.add_argument(
        "--max-positions",
        type=int,
        metavar="N",
        help="synthetic models: length of the position table (default 512), for longer sequences",
    )
    z.add_argument("--inputs", type=Path, help="also write example inputs (.npz) for `mote run`")
    z.add_argument("--calib", type=Path, help="also write calibration inputs (.npz) for --calib")

    for name, what in (
        ("bench", "benchmarks on the emulated targets"),
        ("compress", "embedding compression"),
    ):
        s = sub.add_parser(name, help=f"{what} (not implemented yet)")
        s.add_argument("args", nargs=argparse.REMAINDER)
    return p


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        if args.command == "compile":
            from compiler.tools.compile_model import compile_model

            report = compile_model(
                args.model,
                args.output,
                args.target,
                args.calib,
                args.dump_ir,
                args.seq_len,
                args.precision,
                args.ram_budget,
                args.tile_rows,
                args.output_bits,
            )
            print(f"compiled {args.model} for {args.target} into {args.output}")
            _print_report(report)
        elif args.command == "run":
            from compiler.tools.run_model import run_model

            report = run_model(args.dir, args.inputs, args.outputs, args.reference)
            print(
                f"ran {args.dir} on {report['run']['samples']} sample(s) with the "
                f"{report['run']['runner']} runner; outputs in {args.outputs}"
            )
            _print_run(report["run"])
        elif args.command == "zoo":
            from compiler.tools.zoo_command import zoo_command

            zoo_command(
                args.name, args.output, args.seq_len, args.seed, args.inputs, args.calib, args.max_positions
            )
        elif args.command == "report":
            report = _read_report(args.dir)
            if args.plot is not None:
                from compiler.tools.memory_plot import plot_memory

                plot_memory(report, args.plot)
                print(f"memory plan drawn to {args.plot}")
            else:
                _print_report(report)
        else:
            raise NotImplementedYet(f"`mote {args.command}`")
    except NotImplementedYet as err:
        print(f"mote: {err}", file=sys.stderr)
        sys.exit(2)
    except USER_ERRORS as err:
        print(f"mote: error: {err}", file=sys.stderr)
        sys.exit(1)


def _read_report(directory: Path) -> dict[str, object]:
    path = directory / "report.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise MoteError(f"{path}: no report; is {directory} a compiled model directory?") from None


def _print_run(run: dict[str, object]) -> None:
    keys = (
        "instructions_model",
        "instructions_total",
        "cycles",
        "stack_bytes",
        "peak_ram_bytes",
        "wall_seconds",
    )
    for key in keys:
        if key in run:
            print(f"  {key:20} {run[key]}")


def _print_report(report: dict[str, object]) -> None:
    for key, value in report.items():
        if key == "run" and isinstance(value, dict):
            hidden = ("instructions_per_function", "cycles_per_function", "cycle_breakdown")
            value = {k: v for k, v in value.items() if k not in hidden}
        if key == "arena" and isinstance(value, dict):
            value = {
                level: f"{v['planned_bytes']} bytes planned, lower bound {v['lower_bound_bytes']}, "
                f"{v['buffers']} buffers"
                for level, v in value.items()
            }
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            shown = ", ".join(f"{v['name']}:{v['type']}{v['shape']}" for v in value[:4])
            value = shown + (f", ... ({len(value)} in all)" if len(value) > 4 else "")
        print(f"  {key:16} {value}")


if __name__ == "__main__":
    main()
