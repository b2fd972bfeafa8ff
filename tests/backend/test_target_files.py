"""Target files: every shipped target parses and makes sense; a bad file is an error naming the
file, line and column of the problem, never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.backend.target import (
    REQUIRED_COSTS,
    TARGETS_DIR,
    MemoryLevel,
    TargetError,
    available_targets,
    load_target,
    parse_target,
)
from compiler.errors import MoteError

RV32 = (TARGETS_DIR / "rv32imc.target").read_text()
LOCATED = re.compile(r"^(?P<file>[^:]+):(?P<line>[0-9]+):(?P<col>[0-9]+): (?P<msg>.+)$", re.DOTALL)


def test_shipped_targets_parse():
    names = available_targets()
    assert {"host", "rv32imc"} <= set(names)
    for name in names:
        t = load_target(name)
        assert t.name == name and t.description and t.cores >= 1
        assert set(REQUIRED_COSTS) <= set(t.costs)
        assert any(m.kind == "ram" for m in t.memory)
        assert t.stack_bytes > 0 and t.cc


def test_rv32imc_contents():
    t = load_target("rv32imc")
    assert t.runner == "qemu-user" and t.emulator[0] == "qemu-riscv32"
    assert (t.march, t.mabi, t.isa) == ("rv32imc", "ilp32", "rv32imc")
    assert t.bare_metal and t.linker_script == "rv32/rv32.ld"
    assert t.level("L2") == MemoryLevel("L2", "ram", 2 << 20, 0x10000000)
    assert t.level("flash") == MemoryLevel("flash", "flash", 32 << 20, 0x10000)
    assert (t.code_level, t.data_level, t.stack_bytes) == ("flash", "L2", 16 << 10)
    assert t.costs["mulh"] == 5 and t.costs["branch_taken"] == 3
    for flag in ("-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-ffunction-sections"):
        assert flag in t.cflags
    assert "-DPICOLIBC_INTEGER_PRINTF_SCANF" in t.cflags and "-Wl,--gc-sections" in t.ldflags
    host = load_target("host")
    assert host.runner == "native" and not host.bare_metal and host.emulator == ()


def test_load_by_path_and_unknown_name(tmp_path):
    path = tmp_path / "myboard.target"
    path.write_text(RV32.replace("target rv32imc", "target myboard").replace("2 MiB", "512 KiB"))
    board = load_target(path)
    assert board.name == "myboard" and board.level("L2").size == 512 << 10
    assert load_target(str(path)) == board
    with pytest.raises(TargetError, match="unknown target 'nope'; available: .*host.*rv32imc"):
        load_target("nope")
    with pytest.raises(TargetError, match="no such target file"):
        load_target(tmp_path / "missing.target")
    assert issubclass(TargetError, MoteError)
    with pytest.raises(MoteError):
        board.level("L1")


def _at(text: str, marker: str) -> tuple[int, int]:
    """1-based line and column of the first occurrence of marker in text."""
    offset = text.index(marker)
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


# (edit of rv32imc.target: old -> new, where the error points (a string of the edited text), message)
BAD = [
    ("cores = 1", "cores = 1 @", "@", "unexpected character '@'"),
    ("cores = 1", 'cores = "1"', '"1"', "`cores` must be an integer, not a string"),
    ("cores = 1", "cores = 0", "0\n", "`cores` must be at least 1"),
    ("cores = 1", "cores = 1\n    cores = 2", "cores = 2", "`cores` is given twice"),
    ("cores = 1", "cores = 1\n    colour = blue", "colour", "unknown setting `colour` in target"),
    ("runner = qemu-user", "runner = qemu", "qemu\n", "`runner` must be one of native, qemu-user, unicorn"),
    ("stack = 16 KiB", "stack = 16 KB", "16 KB", "sizes are in B, KiB, MiB or GiB"),
    ("size = 2 MiB", "size = 2 MB", "2 MB", "sizes are in B, KiB, MiB or GiB"),
    ("stack = 16 KiB", "stack = 0 KiB", "0 KiB", "`stack` must not be zero"),
    ("kind = flash", "kind = rom", "rom", "`kind` must be one of ram, flash, not rom"),
    ("memory L2 {", "memory {", "memory {", "a memory level needs a name"),
    ("memory flash", "memory L2", "L2 { kind = flash", "`memory L2` is given twice"),
    ("data = L2", "data = L3", "L3", "no memory level 'L3'"),
    ("data = L2", "data = flash", "flash\n    }", "`data` must be a ram memory level with an origin"),
    ('"-cpu", "rv32"', '"-cpu", rv32', "rv32]", "`emulator` must be a list of strings"),
    ('command = ["riscv64-unknown-elf-gcc"]', "command = []", "[]", "compiler command must not be empty"),
    ('isa = "rv32imc"', 'isa = "rv32\\imc"', '"rv32\\', "unknown escape '\\\\i'"),
    ('isa = "rv32imc"', 'isa = "rv32imc', '"rv32imc\n', "unterminated string"),
    ("stack = 16 KiB", "stack = 16 KiB\n    link { }", "link { }", "takes one unnamed `link { ... }`"),
    ("div = 35", "div = 3 KiB", "3 KiB", "`div` must be an integer, not a size"),
    ("target rv32imc", "target rv32", "rv32 {", "must be in a file named rv32.target"),
    ("    cores = 1\n", "    cores = 1\n    }\n", "runner", "unexpected 'runner'; expected end of file"),
    ("memory L2 { kind", "memory L2 { = kind", "= kind", "unexpected '='; expected '}' or a name"),
]


@pytest.mark.parametrize(("old", "new", "where", "message"), BAD, ids=[b[3][:40] for b in BAD])
def test_bad_file_points_at_the_problem(old, new, where, message):
    assert old in RV32
    text = RV32.replace(old, new, 1)
    with pytest.raises(TargetError) as err:
        parse_target(text, Path("boards/rv32imc.target"))
    m = LOCATED.match(str(err.value))
    assert m is not None, str(err.value)
    assert m["file"] == "boards/rv32imc.target"
    assert (int(m["line"]), int(m["col"])) == _at(text, where), str(err.value)
    assert message in m["msg"]


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        ('    isa = "rv32imc"\n', "target lacks `isa = <a string>`"),
        ("        div = 35\n", "costs lack `div`"),
        ('        binutils = "riscv64-unknown-elf-"\n', "lacks `binutils = <a string>`"),
    ],
)
def test_missing_setting_points_at_its_block(drop, message):
    text = RV32.replace(drop, "")
    with pytest.raises(TargetError, match=re.escape(message)) as err:
        parse_target(text, Path("rv32imc.target"))
    assert LOCATED.match(str(err.value))


def test_empty_and_truncated_files():
    for text in ("", "# nothing\n", RV32[: RV32.index("compiler {")]):
        with pytest.raises(TargetError, match=r"^x/rv32imc.target:[0-9]+:[0-9]+: unexpected end of file"):
            parse_target(text, Path("x/rv32imc.target"))


def test_values_and_units():
    text = RV32.replace("stack = 16 KiB", "stack = 512 B").replace("size = 32 MiB", "size = 1 GiB")
    text = text.replace('isa = "rv32imc"', 'isa = "rv32\\"imc\\\\"').replace("mulh = 5", "mulh = 0x10")
    t = parse_target(text, Path("rv32imc.target"))
    assert t.stack_bytes == 512 and t.level("flash").size == 1 << 30
    assert t.isa == 'rv32"imc\\' and t.costs["mulh"] == 16


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_edit_parses_or_reports_a_location(data):
    """Deleting, duplicating or inserting characters anywhere never escapes as another exception."""
    text = RV32
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(text)))
        j = data.draw(st.integers(i, min(len(text), i + 8)))
        insert = data.draw(
            st.sampled_from(["", "{", "}", "=", "[", "]", ",", '"', "x", "1", " KiB", "\n", "#"])
        )
        text = text[:i] + insert + text[j:]
    try:
        parse_target(text, Path("rv32imc.target"))
    except TargetError as err:
        m = LOCATED.match(str(err))
        assert m is not None, str(err)
        assert 1 <= int(m["line"]) <= text.count("\n") + 1
