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
from typing import TYPE_CHECKING

from xdsl.utils.exceptions import DiagnosticException, ParseError

from compiler.errors import MoteError, NotImplementedYet

if TYPE_CHECKING:
    from compiler.transforms.compress_embedding import EmbeddingBudget
from compiler.frontend.onnx_model import FrontendError
from compiler.npz_io import NpzError
from compiler.reference.interpreter import ReferenceError
from compiler.reference.weights import WeightFileError

TARGETS = ("host", "rv32imc", "rv32imc-xcv")
DEFAULT_RATIOS = (2, 4, 6, 8, 12, 16)
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
        "--recompute-kv",
        type=int,
        default=0,
        metavar="N",
        help="with --tile-rows: recompute keys and values N rows at a time in every query tile "
        "instead of keeping them whole (less RAM, more compute)",
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

    c.add_argument(
        "--embedding-budget",
        metavar="BYTES|Nx",
        help="compress the largest embedding table (clustered low-rank, MCUBERT) into BYTES of flash, "
        "or N times fewer bytes than its int8 form",
    )
    _compression_options(c)

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

    k = sub.add_parser("compress", help="embedding compression: budget against accuracy (--sweep)")
    k.add_argument("model", type=Path, help="a float .onnx model")
    k.add_argument("--sweep", action="store_true", required=True, help="try a range of budgets")
    k.add_argument("--calib", type=Path, help="calibration inputs (.npz) for quantization")
    k.add_argument("--inputs", type=Path, help="evaluation inputs (.npz)")
    k.add_argument("--seq-len", type=int)
    k.add_argument(
        "--ratios",
        default=",".join(f"{r:g}" for r in DEFAULT_RATIOS),
        help="budgets as ratios to the int8 table (comma-separated)",
    )
    k.add_argument("--judge", help="the output that decides (default: the model's last output)")
    k.add_argument("--min-cosine", type=float, default=0.98)
    k.add_argument("--plot", type=Path, help="draw budget vs cosine (.svg or .png)")
    k.add_argument("--json", type=Path, help="write the sweep's figures")
    _compression_options(k)

    for name, what in (("bench", "benchmarks on the emulated targets"),):
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
                _embedding_budget(args.embedding_budget, args) if args.embedding_budget else None,
                args.recompute_kv,
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
        elif args.command == "compress":
            from compiler.tools.compress_command import compress_command

            compress_command(
                args.model,
                args.calib,
                args.inputs,
                _embedding_budget("1x", args),
                _ratios(args.ratios),
                args.seq_len,
                args.judge,
                args.min_cosine,
                args.plot,
                args.json,
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


def _compression_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--clusters", type=int, default=32, help="embedding compression: vocabulary clusters")
    p.add_argument("--coef-bits", type=int, choices=(0, 4, 8), default=0, help="0: int8 or int4, the better")
    p.add_argument("--compression-seed", type=int, default=0, help="seed of the clustering")
    p.add_argument(
        "--token-freq",
        type=Path,
        metavar="FILE",
        help="token occurrence counts (.npz with `counts`, or one count per line): weight the "
        "reconstruction error by how often tokens occur",
    )
    p.add_argument(
        "--corpus",
        type=Path,
        metavar="FILE.txt",
        help="or count the tokens of a text corpus (one passage a line) with --vocab",
    )
    p.add_argument(
        "--vocab", type=Path, metavar="VOCAB.txt", help="WordPiece vocabulary (default: BERT uncased)"
    )


def _embedding_budget(budget: str, args: argparse.Namespace) -> EmbeddingBudget:
    from compiler.transforms.compress_embedding import EmbeddingBudget

    return EmbeddingBudget(
        budget,
        args.clusters,
        args.compression_seed,
        args.coef_bits,
        frequencies=args.token_freq,
        corpus=args.corpus,
        vocab=args.vocab,
    )


def _ratios(text: str) -> list[float]:
    try:
        ratios = [float(r.strip().rstrip("x")) for r in text.split(",") if r.strip()]
    except ValueError:
        raise MoteError(f"--ratios '{text}': expected numbers like 4,8,12") from None
    if not ratios or min(ratios) <= 0:
        raise MoteError(f"--ratios '{text}': expected positive ratios")
    return ratios


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
