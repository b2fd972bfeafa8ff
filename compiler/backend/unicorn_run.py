"""Runs an rv32 program on the unicorn engine: the `unicorn` runner of rv32imc-xcv.

QEMU does not know the CORE-V (Xpulp) instructions that clang-19 emits for rv32imc-xcv, so this
runner loads the ELF's PT_LOAD segments (pyelftools) into the target's memory levels, mapped
in unicorn, and runs it with a small C library (runtime_c/unicorn_hook/mote_unicorn.c, built
with the host cc on first use and cached under build/unicorn_hook/) that executes the CORE-V
instructions when unicorn traps on them, implements the Linux `ecall`s of
runtime_c/rv32/syscalls.c (stdin from a buffer, stdout/stderr into buffers, exit) and counts
executed translation blocks and the edges between them in C (no per-instruction Python). Its
result is run.py's `RunResult`, with blocks, edges, per-function and model instruction counts
computed by run.py's own helpers, so figures from both runners compare directly
(tests/backend/test_unicorn_run.py checks they are identical on code without custom
instructions).
"""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import time
from dataclasses import dataclass
from pathlib import Path

from compiler.backend.build import HOST_CC, RUNTIME_DIR, cached_host_library
from compiler.backend.run import (
    RUN_TIMEOUT_SECONDS,
    Block,
    Edge,
    RunError,
    RunResult,
    _check_status,
    _stack_bytes,
    counted_result,
    image_sizes,
)
from compiler.backend.target import Target
from compiler.errors import MoteError

HOOK_SOURCE = "unicorn_hook/mote_unicorn.c"  # relative to RUNTIME_DIR
HOOK_FLAGS = ("-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC")
PAGE = 4096
# mote_uc_run's results (RUN_* in mote_unicorn.c).
_EXITED, _FAULT, _TIMEOUT, _STOPPED = 0, 1, 2, 3
_EM_RISCV = "EM_RISCV"
_PT_LOAD = "PT_LOAD"
_PF_X, _PF_W = 1, 2


class UnicornUnavailable(MoteError):
    """The unicorn package or the hook library built on it is missing."""


@dataclass(frozen=True)
class UnicornPackage:
    """Where the `unicorn` wheel keeps its shared library and C headers."""

    library: Path
    include: Path


def unicorn_package() -> UnicornPackage:
    """The installed unicorn wheel's libunicorn.so.2 and headers (the Python binding is not used)."""
    spec = importlib.util.find_spec("unicorn")
    if spec is None or spec.origin is None:
        raise UnicornUnavailable(
            "the unicorn runner needs the Python package `unicorn` (its wheel ships libunicorn.so.2); "
            "`make setup` installs it"
        )
    root = Path(spec.origin).parent
    package = UnicornPackage(root / "lib" / "libunicorn.so.2", root / "include")
    if not package.library.is_file() or not (package.include / "unicorn" / "unicorn.h").is_file():
        raise UnicornUnavailable(
            f"the unicorn package at {root} lacks lib/libunicorn.so.2 or include/unicorn/unicorn.h "
            "(mote needs the binary wheel); `make setup` reinstalls it"
        )
    return package


def build_unicorn_hook(package: UnicornPackage | None = None) -> Path:
    """The hook library, compiled with the host's cc on first use and cached under build/ by a
    hash of its source, its command and the unicorn library's size and date (safe when several
    runs race to build it)."""
    package = package or unicorn_package()
    source = RUNTIME_DIR / HOOK_SOURCE
    libdir = package.library.parent.resolve()
    cmd = [*HOST_CC, *HOOK_FLAGS, f"-I{package.include}", "-o", "{out}", str(source)]
    cmd += [f"-L{libdir}", "-l:libunicorn.so.2", f"-Wl,-rpath,{libdir}"]
    stat = package.library.stat()
    lib = cached_host_library(source, cmd, "unicorn_hook", f"{stat.st_size} {stat.st_mtime_ns}")
    if isinstance(lib, str):
        raise UnicornUnavailable(f"building the unicorn hook {source} failed:\n{lib}")
    return lib


@functools.cache
def _load_library(path: Path) -> ctypes.CDLL:
    try:
        lib = ctypes.CDLL(str(path))
    except OSError as err:
        raise UnicornUnavailable(f"cannot load the unicorn hook library {path}: {err}") from None
    p, u32, u64, size = ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint64, ctypes.c_size_t
    lib.mote_uc_new.restype = p
    lib.mote_uc_new.argtypes = [ctypes.c_char_p, size]
    lib.mote_uc_map.restype = ctypes.c_char_p
    lib.mote_uc_map.argtypes = [p, u32, u32, ctypes.c_int, ctypes.c_int]
    lib.mote_uc_load.restype = ctypes.c_int
    lib.mote_uc_load.argtypes = [p, u32, ctypes.c_char_p, u32]
    lib.mote_uc_run.restype = ctypes.c_int
    lib.mote_uc_run.argtypes = [p, u32, u32, ctypes.c_char_p, size, ctypes.c_int, u64]
    lib.mote_uc_exit_status.restype = ctypes.c_int
    lib.mote_uc_exit_status.argtypes = [p]
    lib.mote_uc_message.restype = ctypes.c_char_p
    lib.mote_uc_message.argtypes = [p]
    lib.mote_uc_custom_executed.restype = u64
    lib.mote_uc_custom_executed.argtypes = [p]
    lib.mote_uc_output.restype = ctypes.POINTER(ctypes.c_uint8)
    lib.mote_uc_output.argtypes = [p, ctypes.c_int, ctypes.POINTER(size)]
    lib.mote_uc_block_count.restype = size
    lib.mote_uc_block_count.argtypes = [p]
    lib.mote_uc_blocks.restype = None
    lib.mote_uc_blocks.argtypes = [p, ctypes.POINTER(u32), ctypes.POINTER(u32), ctypes.POINTER(u64)]
    lib.mote_uc_edge_count.restype = size
    lib.mote_uc_edge_count.argtypes = [p]
    lib.mote_uc_edges.restype = None
    lib.mote_uc_edges.argtypes = [p, ctypes.POINTER(u32), ctypes.POINTER(u32), ctypes.POINTER(u64)]
    lib.mote_uc_free.restype = None
    lib.mote_uc_free.argtypes = [p]
    return lib


@dataclass(frozen=True)
class Segment:
    address: int
    data: bytes  # the file bytes; the rest up to `memory_size` is zero
    memory_size: int
    writable: bool
    executable: bool


@dataclass(frozen=True)
class Image:
    entry: int
    segments: tuple[Segment, ...]
    stack_top: int | None  # __mote_stack_top, where crt0 puts sp


def read_image(exe: Path) -> Image:
    """The entry point, PT_LOAD segments and stack top of an rv32 ELF executable."""
    try:
        from elftools.common.exceptions import ELFError
        from elftools.elf.elffile import ELFFile
    except ImportError:
        raise UnicornUnavailable(
            "the unicorn runner needs the Python package `pyelftools` (`make setup`)"
        ) from None
    try:
        with exe.open("rb") as f:
            elf = ELFFile(f)
            if elf.elfclass != 32 or elf["e_machine"] != _EM_RISCV:
                raise MoteError(f"{exe} is not a 32-bit RISC-V executable (the unicorn runner runs rv32)")
            segments = tuple(
                Segment(
                    s["p_vaddr"],
                    s.data(),
                    s["p_memsz"],
                    bool(s["p_flags"] & _PF_W),
                    bool(s["p_flags"] & _PF_X),
                )
                for s in elf.iter_segments()
                if s["p_type"] == _PT_LOAD and s["p_memsz"] > 0
            )
            symbols = elf.get_section_by_name(".symtab")
            found = symbols.get_symbol_by_name("__mote_stack_top") if symbols is not None else None
            stack_top = found[0]["st_value"] if found else None
            return Image(elf["e_entry"], segments, stack_top)
    except (ELFError, OSError) as err:
        raise MoteError(f"{exe}: cannot read it as an ELF executable: {err}") from None


def run_unicorn(
    exe: Path,
    target: Target,
    input_bytes: bytes,
    count: bool = True,
    timeout: float | None = None,
    single_step: bool = False,
) -> RunResult:
    """Runs `exe` once on unicorn with `input_bytes` on stdin, as run.run_model_binary does on
    qemu-user: the same checks of the exit status, stack line and instruction counts.
    `single_step` counts every instruction as a block of its own (a per-instruction hook: much
    slower; the tests use it to check that block counts are exact)."""
    timeout = RUN_TIMEOUT_SECONDS if timeout is None else timeout
    exe = exe.resolve()
    image = read_image(exe)
    lib = _load_library(build_unicorn_hook())
    err = ctypes.create_string_buffer(256)
    handle = lib.mote_uc_new(err, len(err))
    if not handle:
        raise UnicornUnavailable(f"unicorn could not start an RV32 engine: {err.value.decode()}")
    try:
        _map_memory(lib, handle, exe, target, image)
        ram = target.level(target.data_level) if target.data_level else None
        sp = image.stack_top
        if sp is None:
            sp = (ram.origin or 0) + ram.size if ram is not None else 0
        start = time.perf_counter()
        status = lib.mote_uc_run(
            handle,
            image.entry,
            sp,
            input_bytes,
            len(input_bytes),
            (2 if single_step else 1) if count else 0,
            int(timeout * 1e6),
        )
        seconds = time.perf_counter() - start
        stdout, stderr = _output(lib, handle, 1), _output(lib, handle, 2).decode(errors="replace")
        message = lib.mote_uc_message(handle).decode(errors="replace")
        if status == _TIMEOUT:
            raise RunError(f"{exe} did not finish within {timeout:g} s on {target.name}")
        if status != _EXITED:
            shown = f"\n{stderr.strip()}" if stderr.strip() else ""
            raise RunError(f"{exe} on {target.name} (unicorn): {message}{shown}")
        _check_status(exe, target, lib.mote_uc_exit_status(handle), stderr)
        blocks = _blocks(lib, handle) if count else ()
        edges = _edges(lib, handle) if count else ()
    finally:
        lib.mote_uc_free(handle)
    sizes = image_sizes(exe, target)
    if not count:
        return RunResult(stdout, stderr, seconds, sizes, stack_bytes=_stack_bytes(stderr, target))
    return counted_result(exe, target, stdout, stderr, seconds, sizes, blocks, edges)


def _map_memory(lib: ctypes.CDLL, handle: int, exe: Path, target: Target, image: Image) -> None:
    """Maps every memory level with an origin (code levels executable and read-only, RAM levels
    writable) and copies the segments in; a segment outside them is an error."""
    for level in target.memory:
        if level.origin is None:
            continue
        size = -(-level.size // PAGE) * PAGE
        if level.origin % PAGE:
            raise MoteError(
                f"{target.path}: memory {level.name}'s origin {level.origin:#x} is not 4 KiB-aligned"
            )
        ram = level.kind == "ram"
        failure = lib.mote_uc_map(handle, level.origin, size, int(ram), int(not ram))
        if failure is not None:
            raise MoteError(f"unicorn cannot map memory {level.name} of {target.name}: {failure.decode()}")
    for s in image.segments:
        padded = s.data + bytes(s.memory_size - len(s.data))
        if lib.mote_uc_load(handle, s.address, padded, len(padded)) != 0:
            levels = ", ".join(
                f"{m.name} {m.origin:#x}+{m.size:#x}" for m in target.memory if m.origin is not None
            )
            raise MoteError(
                f"{exe}: segment at {s.address:#x} ({s.memory_size} bytes) is outside the memory of "
                f"{target.name} ({levels})"
            )


def _output(lib: ctypes.CDLL, handle: int, fd: int) -> bytes:
    n = ctypes.c_size_t()
    data = lib.mote_uc_output(handle, fd, ctypes.byref(n))
    return ctypes.string_at(data, n.value) if n.value else b""


def _blocks(lib: ctypes.CDLL, handle: int) -> tuple[Block, ...]:
    """Executed blocks, merged by (address, instructions) and sorted as the QEMU plugin writes them."""
    n = lib.mote_uc_block_count(handle)
    address, insns = (ctypes.c_uint32 * n)(), (ctypes.c_uint32 * n)()
    executions = (ctypes.c_uint64 * n)()
    lib.mote_uc_blocks(handle, address, insns, executions)
    merged: dict[tuple[int, int], int] = {}
    for a, i, e in zip(address, insns, executions, strict=True):
        if e:
            merged[(a, i)] = merged.get((a, i), 0) + e
    return tuple(Block(a, i, e) for (a, i), e in sorted(merged.items()))


def _edges(lib: ctypes.CDLL, handle: int) -> tuple[Edge, ...]:
    """Which block followed which, merged by start addresses and sorted (run.py's contract)."""
    n = lib.mote_uc_edge_count(handle)
    source, target, count = (ctypes.c_uint32 * n)(), (ctypes.c_uint32 * n)(), (ctypes.c_uint64 * n)()
    lib.mote_uc_edges(handle, source, target, count)
    merged: dict[tuple[int, int], int] = {}
    for s, t, c in zip(source, target, count, strict=True):
        merged[(s, t)] = merged.get((s, t), 0) + c
    return tuple(Edge(s, t, c) for (s, t), c in sorted(merged.items()))
