"""Every valid .mlir file under tests/ round-trips through mote-opt: custom form -> print ->
parse -> print is identical, and the generic form parses back to the same module. (Files
that test diagnostics are skipped: they are meant not to parse or verify.)"""

import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
FILES = sorted(
    p
    for p in TESTS.rglob("*.mlir")
    if "Output" not in p.parts and "diagnostics" not in p.read_text() and "not mote-opt" not in p.read_text()
)


def _opt(*args: str, stdin: str | None = None) -> str:
    r = subprocess.run(
        [sys.executable, "-m", "compiler.tools.mote_opt", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_there_are_files_to_check() -> None:
    assert len(FILES) >= 4


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(TESTS)))
def test_custom_and_generic_forms_round_trip(path: Path) -> None:
    once = _opt(str(path), "--split-input-file")
    assert _opt("--split-input-file", stdin=once) == once
    generic = _opt(str(path), "--split-input-file", "--print-op-generic")
    assert _opt("--split-input-file", stdin=generic) == once
