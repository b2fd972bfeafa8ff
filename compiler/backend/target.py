"""Targets as data: a board is a `*.target` file (syntax: targets/target.lark), not code.

`load_target("rv32imc")` reads `compiler/backend/targets/rv32imc.target`; any other path to a
`.target` file works too. The file gives the compiler command and flags, the runner, the memory
levels and the instruction costs; this module checks every setting's type and presence and
reports the first problem as `file:line:col: message` (a `TargetError`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import NoReturn

from lark import Lark, Token, Tree, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from compiler.errors import MoteError

TARGETS_DIR = Path(__file__).parent / "targets"
RUNNERS = ("native", "qemu-user", "unicorn")
MEMORY_KINDS = ("ram", "flash")
# Instruction classes every target must cost (a target may add its own, e.g. for extensions).
REQUIRED_COSTS = (
    "alu",
    "load",
    "store",
    "load_use_stall",
    "mul",
    "mulh",
    "div",
    "branch_taken",
    "branch_not_taken",
    "jump",
)
_UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}


class TargetError(MoteError):
    """A target that does not exist or a target file that is not valid."""


@dataclass(frozen=True)
class MemoryLevel:
    """A memory of the target (`L2`, `flash`...), as tile.mem names it."""

    name: str
    kind: str  # "ram" or "flash"
    size: int  # bytes
    origin: int | None  # base address, for targets linked at fixed addresses


@dataclass(frozen=True)
class Target:
    name: str
    description: str
    path: Path  # the .target file
    isa: str
    cores: int
    runner: str  # one of RUNNERS
    emulator: tuple[str, ...]  # command that runs an executable (empty for native)
    cc: tuple[str, ...]  # compiler command
    march: str | None
    mabi: str | None
    cflags: tuple[str, ...]
    ldflags: tuple[str, ...]
    runtime_sources: tuple[str, ...]  # extra sources, relative to runtime_c/
    binutils_prefix: str  # prefix of size/nm/objdump ("" for the host's)
    linker_script: str | None  # relative to runtime_c/; None: the toolchain's default link
    code_level: str | None  # memory level that holds code and constants (linked targets)
    data_level: str | None  # memory level that holds data, bss and the stack (linked targets)
    stack_bytes: int
    memory: tuple[MemoryLevel, ...]
    costs: Mapping[str, int] = field(hash=False)  # cycles per instruction class

    @property
    def bare_metal(self) -> bool:
        """Linked by mote's own start-up code and linker script (no operating system)."""
        return self.linker_script is not None

    def level(self, name: str) -> MemoryLevel:
        for m in self.memory:
            if m.name == name:
                return m
        raise TargetError(f"target {self.name} has no memory level {name!r}")


def available_targets() -> list[str]:
    """Names of the targets shipped with mote."""
    return sorted(p.stem for p in TARGETS_DIR.glob("*.target"))


def load_target(name_or_path: str | Path) -> Target:
    """The target of that name (shipped with mote) or of that `.target` file."""
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith(".target") or "/" in text:
        path = Path(name_or_path)
        if not path.is_file():
            raise TargetError(f"{path}: no such target file")
    else:
        path = TARGETS_DIR / f"{text}.target"
        if not path.is_file():
            raise TargetError(f"unknown target {text!r}; available: {', '.join(available_targets())}")
    return parse_target(path.read_text(), path)


@functools.cache
def _parser() -> Lark:
    return Lark((TARGETS_DIR / "target.lark").read_text(), parser="lalr", propagate_positions=True)


def parse_target(text: str, path: Path) -> Target:
    """Parses and checks the text of a target file; `path` names it in errors."""
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as err:
        raise TargetError(f"{path}:{err.line}:{err.column}: {_syntax_message(err)}") from None
    name_token, block = tree.children
    assert isinstance(name_token, Token) and isinstance(block, Tree)
    top = _Block(path, "target", block)
    if name_token != path.stem:
        top.fail(name_token, f"target '{name_token}' must be in a file named {name_token}.target")
    return _build(str(name_token), path, top)


def _build(name: str, path: Path, top: _Block) -> Target:
    description = top.string("description")
    isa = top.string("isa")
    cores = top.integer("cores", minimum=1)
    runner = top.word("runner", RUNNERS)
    emulator = top.strings("emulator", required=runner == "qemu-user")
    stack = top.size("stack")
    compiler = top.section("compiler")
    cc = compiler.strings("command")
    if not cc:
        compiler.fail(compiler.value_of("command"), "the compiler command must not be empty")
    march = compiler.optional_string("march")
    mabi = compiler.optional_string("mabi")
    cflags = compiler.strings("cflags")
    ldflags = compiler.strings("ldflags")
    runtime = compiler.strings("runtime")
    binutils = compiler.string("binutils")
    compiler.finish()

    memory = tuple(_memory_level(label, b) for label, b in top.labelled_sections("memory"))
    if not any(m.kind == "ram" for m in memory):
        top.fail(top.where, "a target needs at least one `memory NAME { kind = ram ... }`")

    link = top.optional_section("link")
    script = code = data = None
    if link is not None:
        script = link.string("script")
        code = _linked_level(link, "code", memory, "flash")
        data = _linked_level(link, "data", memory, "ram")
        link.finish()

    costs_block = top.section("costs")
    costs = costs_block.all_integers()
    for c in REQUIRED_COSTS:
        if c not in costs:
            costs_block.fail(costs_block.where, f"costs lack `{c}` (required: {', '.join(REQUIRED_COSTS)})")
    top.finish()
    return Target(
        name=name,
        description=description,
        path=path,
        isa=isa,
        cores=cores,
        runner=runner,
        emulator=emulator,
        cc=cc,
        march=march,
        mabi=mabi,
        cflags=cflags,
        ldflags=ldflags,
        runtime_sources=runtime,
        binutils_prefix=binutils,
        linker_script=script,
        code_level=code,
        data_level=data,
        stack_bytes=stack,
        memory=memory,
        costs=MappingProxyType(costs),
    )


def _memory_level(label: Token | None, b: _Block) -> MemoryLevel:
    if label is None:
        b.fail(b.where, "a memory level needs a name: `memory L2 { ... }`")
    kind = b.word("kind", MEMORY_KINDS)
    level = MemoryLevel(str(label), kind, b.size("size"), b.optional_integer("origin"))
    b.finish()
    return level


def _linked_level(link: _Block, key: str, memory: tuple[MemoryLevel, ...], kind: str) -> str:
    name = link.word(key)
    for m in memory:
        if m.name == name:
            if m.kind != kind or m.origin is None:
                link.fail(link.value_of(key), f"`{key}` must be a {kind} memory level with an origin")
            return name
    link.fail(link.value_of(key), f"no memory level {name!r}")


_TOKEN_NAMES = {
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LSQB": "'['",
    "RSQB": "']'",
    "EQUAL": "'='",
    "COMMA": "','",
    "TARGET": "'target'",
    "NAME": "a name",
    "STRING": "a string",
    "INT": "an integer",
    "HEX": "a hex integer",
    "SIZE": "a size such as `16 KiB`",
    "$END": "end of file",
}


def _syntax_message(err: UnexpectedInput) -> str:
    if isinstance(err, UnexpectedCharacters):
        if err.char == '"':
            return "unterminated string"
        return f"unexpected character {err.char!r}"
    expected = sorted({_TOKEN_NAMES.get(t, t) for t in getattr(err, "expected", ()) or ()})
    wanted = f"; expected {' or '.join(expected)}" if expected else ""
    if isinstance(err, UnexpectedEOF):
        return f"unexpected end of file{wanted}"
    assert isinstance(err, UnexpectedToken)
    got = "end of file" if err.token.type == "$END" else repr(str(err.token))
    return f"unexpected {got}{wanted}"


class _Block:
    """The items of one `{ ... }` block, consumed by typed getters; `finish` rejects leftovers."""

    def __init__(self, path: Path, what: str, block: Tree, where: Token | Tree | None = None) -> None:
        self.path = path
        self.what = what
        self.where = where if where is not None else block
        self.read: dict[str, Tree] = {}
        self.settings: dict[str, tuple[Token, Tree]] = {}
        self.sections: list[tuple[Token, Token | None, Tree]] = []
        for item in block.children:
            assert isinstance(item, Tree)
            key = item.children[0]
            assert isinstance(key, Token)
            if item.data == "setting":
                if key in self.settings or any(s[0] == key for s in self.sections):
                    self.fail(key, f"`{key}` is given twice in {what}")
                value = item.children[1]
                assert isinstance(value, Tree)
                self.settings[str(key)] = (key, value)
            else:
                label = item.children[1] if len(item.children) == 3 else None
                body = item.children[-1]
                assert isinstance(body, Tree) and (label is None or isinstance(label, Token))
                if key in self.settings:
                    self.fail(key, f"`{key}` is given twice in {what}")
                self.sections.append((key, label, body))

    def fail(self, where: Token | Tree, message: str) -> NoReturn:
        if isinstance(where, Tree):
            line, col = where.meta.line, where.meta.column
        else:
            line, col = where.line, where.column
        raise TargetError(f"{self.path}:{line}:{col}: {message}")

    def value_of(self, key: str) -> Tree:
        """Where the value of an already-read setting is (for later errors about it)."""
        return self.read[key]

    def _take(self, key: str, kind: str, required: bool) -> Tree | None:
        if key not in self.settings:
            if required:
                self.fail(self.where, f"{self.what} lacks `{key} = <{_KIND_NAMES[kind]}>`")
            return None
        _, value = self.settings.pop(key)
        self.read[key] = value
        if value.data == "bad_size":
            self.fail(value, "sizes are in B, KiB, MiB or GiB")
        if value.data != kind:
            self.fail(value, f"`{key}` must be {_KIND_NAMES[kind]}, not {_KIND_NAMES[str(value.data)]}")
        return value

    def _token(self, key: str, kind: str, required: bool = True) -> Token | None:
        value = self._take(key, kind, required)
        if value is None:
            return None
        token = value.children[0]
        assert isinstance(token, Token)
        return token

    def string(self, key: str) -> str:
        token = self._token(key, "string")
        assert token is not None
        return self._unquote(token)

    def optional_string(self, key: str) -> str | None:
        token = self._token(key, "string", required=False)
        return None if token is None else self._unquote(token)

    def _unquote(self, token: Token) -> str:
        for escape in re.finditer(r"\\(.)", token[1:-1]):
            if escape.group(1) not in '"\\':
                self.fail(token, f'unknown escape {escape.group()!r} in a string (only \\" and \\\\)')
        return re.sub(r"\\(.)", r"\1", token[1:-1])

    def word(self, key: str, choices: tuple[str, ...] | None = None) -> str:
        token = self._token(key, "word")
        assert token is not None
        if choices is not None and token not in choices:
            self.fail(token, f"`{key}` must be one of {', '.join(choices)}, not {token}")
        return str(token)

    def optional_integer(self, key: str, minimum: int = 0) -> int | None:
        token = self._token(key, "integer", required=False)
        if token is None:
            return None
        value = int(token, 0)
        if value < minimum:
            self.fail(token, f"`{key}` must be at least {minimum}")
        return value

    def integer(self, key: str, minimum: int = 0) -> int:
        if key not in self.settings:
            self._take(key, "integer", required=True)
        value = self.optional_integer(key, minimum)
        assert value is not None
        return value

    def size(self, key: str) -> int:
        token = self._token(key, "size")
        assert token is not None
        m = re.fullmatch(r"([0-9]+)[ \t]*(B|KiB|MiB|GiB)", str(token))
        assert m is not None
        if int(m.group(1)) == 0:
            self.fail(token, f"`{key}` must not be zero")
        return int(m.group(1)) * _UNITS[m.group(2)]

    def strings(self, key: str, required: bool = True) -> tuple[str, ...]:
        value = self._take(key, "list", required)
        if value is None:
            return ()
        out = []
        for v in value.children:
            assert isinstance(v, Tree)
            if v.data != "string":
                self.fail(v, f"`{key}` must be a list of strings")
            token = v.children[0]
            assert isinstance(token, Token)
            out.append(self._unquote(token))
        return tuple(out)

    def all_integers(self) -> dict[str, int]:
        """Every remaining setting of this block, each a non-negative integer."""
        out = {}
        for key in list(self.settings):
            out[key] = self.integer(key)
        return out

    def optional_section(self, name: str) -> _Block | None:
        found = self.labelled_sections(name)
        if not found:
            return None
        if len(found) > 1 or found[0][0] is not None:
            self.fail(found[-1][1].where, f"{self.what} takes one unnamed `{name} {{ ... }}` section")
        return found[0][1]

    def section(self, name: str) -> _Block:
        found = self.optional_section(name)
        if found is None:
            self.fail(self.where, f"{self.what} lacks a `{name} {{ ... }}` section")
        return found

    def labelled_sections(self, name: str) -> list[tuple[Token | None, _Block]]:
        taken = [s for s in self.sections if s[0] == name]
        self.sections = [s for s in self.sections if s[0] != name]
        seen: set[str] = set()
        out = []
        for key, label, body in taken:
            if label is not None and label in seen:
                self.fail(label, f"`{name} {label}` is given twice")
            if label is not None:
                seen.add(str(label))
            what = f"`{name}{' ' + label if label else ''}`"
            out.append((label, _Block(self.path, what, body, where=key)))
        return out

    def finish(self) -> None:
        for key, _ in self.settings.values():
            self.fail(key, f"unknown setting `{key}` in {self.what}")
        for key, _, _ in self.sections:
            self.fail(key, f"unknown section `{key}` in {self.what}")


_KIND_NAMES = {
    "string": "a string",
    "word": "a word such as `native`",
    "integer": "an integer",
    "size": "a size such as `16 KiB`",
    "list": 'a list such as `["a", "b"]`',
}
