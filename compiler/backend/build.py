"""Builds a generated model directory (model.c, model.h) into a program that `mote run` runs.

The program is the model's C files and the test harness (runtime_c/src/harness_main.c, which
includes model.h), linked with the rest of the runtime: every other runtime_c/src/*.c (the
kernels) and, for bare-metal targets, the target's start-up code, syscalls and linker script.
The runtime does not depend on the model, and some kernels take seconds to compile (tens under
sanitizers), so it is compiled once per target, flag set and source content into objects
cached under build/runtime/. Command lines depend only on their inputs (sorted file lists,
absolute paths, content hashes), so rebuilding gives a byte-identical program.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from compiler.backend.target import Target
from compiler.errors import MoteError

RUNTIME_DIR = Path(__file__).resolve().parents[2] / "runtime_c"
CACHE_DIR = RUNTIME_DIR.parent / "build"  # gitignored
HARNESS = "src/harness_main.c"  # relative to RUNTIME_DIR; compiled with each model
ICOUNT_PLUGIN = "qemu_plugin/mote_icount.c"
HOST_CC = ("cc",)
SANITIZE_FLAGS = (
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=all",
    "-fno-omit-frame-pointer",
    "-g",
)
BUILD_TIMEOUT_SECONDS = 600
_MAX_SHOWN_STDERR = 20000


def compile_flags(target: Target, sanitize: bool = False) -> list[str]:
    """Compiler command and flags shared by the model, the harness and the runtime objects."""
    if sanitize and target.bare_metal:
        raise MoteError(f"sanitizers need a hosted target (host), not {target.name}")
    cmd = [*target.cc, *target.cflags]
    if target.march is not None:
        cmd.append(f"-march={target.march}")
    if target.mabi is not None:
        cmd.append(f"-mabi={target.mabi}")
    if sanitize:
        cmd += SANITIZE_FLAGS
    return cmd + [f"-I{RUNTIME_DIR / 'include'}"]


def runtime_sources(target: Target) -> list[str]:
    """The runtime files compiled into cached objects, relative to RUNTIME_DIR."""
    src = sorted(p.relative_to(RUNTIME_DIR).as_posix() for p in (RUNTIME_DIR / "src").glob("*.c"))
    return [s for s in src if s != HARNESS] + list(target.runtime_sources)


def runtime_object_dir(target: Target, sanitize: bool = False) -> Path:
    """Where the runtime objects for these flags and this source content are cached."""
    h = hashlib.sha256()
    for part in [*compile_flags(target, sanitize), _compiler_version(target.cc, target.name)]:
        h.update(part.encode() + b"\0")
    headers = sorted((RUNTIME_DIR / "include").glob("*.h")) + sorted((RUNTIME_DIR / "src").glob("*.h"))
    for path in [*headers, *(RUNTIME_DIR / s for s in runtime_sources(target))]:
        h.update(str(path.relative_to(RUNTIME_DIR)).encode() + b"\0" + path.read_bytes() + b"\0")
    variant = f"{target.name}{'-sanitize' if sanitize else ''}"
    return CACHE_DIR / "runtime" / f"{variant}-{h.hexdigest()[:16]}"


def _object_name(source: str) -> str:
    return source.replace("/", "_").rsplit(".", 1)[0] + ".o"


def build_command(c_dir: Path, target: Target, out: Path, sanitize: bool = False) -> list[str]:
    """The command that compiles the model and the harness and links them with the cached
    runtime objects (build_model compiles those first if needed)."""
    c_dir = c_dir.resolve()
    objects = runtime_object_dir(target, sanitize)
    cmd = compile_flags(target, sanitize) + [f"-I{c_dir}"]
    cmd += [str(p) for p in sorted(c_dir.glob("*.c"))] + [str(RUNTIME_DIR / HARNESS)]
    cmd += [str(objects / _object_name(s)) for s in runtime_sources(target)]
    if target.linker_script is not None:
        cmd.append(f"-T{RUNTIME_DIR / target.linker_script}")
        cmd += _link_symbols(target)
    return cmd + [*target.ldflags, "-o", str(out.resolve())]


def _link_symbols(target: Target) -> list[str]:
    """The memory layout of the target file, as the symbols runtime_c/rv32/rv32.ld reads."""
    assert target.code_level is not None and target.data_level is not None
    code, data = target.level(target.code_level), target.level(target.data_level)
    symbols = {
        "__mote_flash_origin": code.origin,
        "__mote_flash_size": code.size,
        "__mote_ram_origin": data.origin,
        "__mote_ram_size": data.size,
        "__mote_stack_size": target.stack_bytes,
    }
    return [f"-Wl,--defsym={name}={value:#x}" for name, value in symbols.items()]


def build_model(c_dir: Path, target: Target, out: Path, sanitize: bool = False) -> Path:
    """Compiles the model in c_dir with the runtime for target into the executable `out`."""
    for name in ("model.c", "model.h"):
        if not (c_dir / name).is_file():
            raise MoteError(f"{c_dir}: no {name}; is it a directory of generated C?")
    cmd = build_command(c_dir, target, out, sanitize)
    build_runtime(target, sanitize)
    out.parent.mkdir(parents=True, exist_ok=True)
    failure = _try(cmd, target.name)
    if failure is not None and ("overflowed" in failure or "do not fit the target" in failure):
        levels = ", ".join(f"{m.name} {m.kind} {m.size} bytes" for m in target.memory)
        raise MoteError(f"{c_dir} does not fit the memory of {target.name} ({levels}):\n{failure}")
    if failure is not None:
        raise MoteError(f"building {c_dir} for {target.name} failed:\n{failure}")
    return out


def build_runtime(target: Target, sanitize: bool = False) -> Path:
    """Compiles the runtime objects for target unless they are cached; returns their directory.
    Safe when several processes build the same directory at once (the first to finish wins)."""
    final = runtime_object_dir(target, sanitize)
    if final.is_dir():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=final.name + ".", dir=final.parent))
    try:
        flags = compile_flags(target, sanitize)
        jobs = [
            ([*flags, "-c", str(RUNTIME_DIR / s), "-o", str(tmp / _object_name(s))], s)
            for s in runtime_sources(target)
        ]
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            results = list(pool.map(lambda job: _try(job[0], target.name), jobs))
        for (_, source), failure in zip(jobs, results, strict=True):
            if failure is not None:
                raise MoteError(f"compiling the runtime file {source} for {target.name} failed:\n{failure}")
        try:
            tmp.rename(final)
        except OSError:
            if not final.is_dir():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def _try(cmd: list[str], target_name: str) -> str | None:
    """Runs a compiler command; None on success, else the command and its stderr."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT_SECONDS)
    except FileNotFoundError:
        raise MoteError(_not_found(cmd[0], target_name)) from None
    except subprocess.TimeoutExpired:
        return f"$ {' '.join(cmd)}\ntook over {BUILD_TIMEOUT_SECONDS} s"
    if proc.returncode != 0:
        return f"$ {' '.join(cmd)}\n{proc.stderr[-_MAX_SHOWN_STDERR:].rstrip()}"
    return None


def _not_found(tool: str, target_name: str) -> str:
    return f"{tool} not found: the {target_name} target needs its toolchain (`make setup` installs it)"


@functools.cache
def _compiler_version(cc: tuple[str, ...], target_name: str) -> str:
    try:
        return subprocess.run([*cc, "--version"], capture_output=True, text=True).stdout
    except FileNotFoundError:
        raise MoteError(_not_found(cc[0], target_name)) from None


def build_icount_plugin() -> Path:
    """The QEMU instruction-count plugin, compiled with the host's cc on first use and cached
    under build/ by a hash of its source and command (safe when several runs race to build it)."""
    source = RUNTIME_DIR / ICOUNT_PLUGIN
    flags = ("-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC")
    lib = cached_host_library(source, [*HOST_CC, *flags, "-o", "{out}", str(source)], "qemu_plugin")
    if isinstance(lib, str):
        raise MoteError(f"building the QEMU plugin {source} failed:\n{lib}")
    return lib


def cached_host_library(source: Path, cmd: list[str], folder: str, key: str = "") -> Path | str:
    """A shared library built from `source` by the host command `cmd` (`{out}` stands for
    the output file), cached under build/`folder` by a hash of the source, the command and
    `key` (safe when several runs race to build it); the compiler's message if it fails."""
    digest = hashlib.sha256(source.read_bytes() + " ".join(cmd).encode() + key.encode()).hexdigest()[:16]
    lib = CACHE_DIR / folder / f"{source.stem}-{digest}.so"
    if lib.is_file():
        return lib
    lib.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=lib.parent)
    os.close(fd)
    try:
        failure = _try([tmp if part == "{out}" else part for part in cmd], "host")
        if failure is not None:
            return failure
        os.replace(tmp, lib)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return lib
