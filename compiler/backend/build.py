"""Builds a generated model directory (model.c, model.h) into a program that `mote run` runs.

The program is the model's C files, every runtime_c/src/*.c (kernels and the test harness,
harness_main.c) and, for bare-metal targets, the target's start-up code, syscalls and linker
script. One compiler invocation, with a command line that depends only on the inputs (sorted
file lists, absolute paths), so that rebuilding gives the same program.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from pathlib import Path

from compiler.backend.target import Target
from compiler.errors import MoteError

RUNTIME_DIR = Path(__file__).resolve().parents[2] / "runtime_c"
CACHE_DIR = RUNTIME_DIR.parent / "build"  # gitignored
ICOUNT_PLUGIN_SOURCE = RUNTIME_DIR / "qemu_plugin" / "mote_icount.c"
HOST_CC = ("cc",)
SANITIZE_FLAGS = (
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=all",
    "-fno-omit-frame-pointer",
    "-g",
)
BUILD_TIMEOUT_SECONDS = 600
_MAX_SHOWN_STDERR = 20000


def build_command(c_dir: Path, target: Target, out: Path, sanitize: bool = False) -> list[str]:
    """The compiler command line that build_model runs."""
    if sanitize and target.bare_metal:
        raise MoteError(f"sanitizers need a hosted target (host), not {target.name}")
    c_dir = c_dir.resolve()
    sources = sorted(c_dir.glob("*.c")) + sorted((RUNTIME_DIR / "src").glob("*.c"))
    sources += [RUNTIME_DIR / s for s in target.runtime_sources]
    cmd = [*target.cc, *target.cflags]
    if target.march is not None:
        cmd.append(f"-march={target.march}")
    if target.mabi is not None:
        cmd.append(f"-mabi={target.mabi}")
    if sanitize:
        cmd += SANITIZE_FLAGS
    cmd += [f"-I{c_dir}", f"-I{RUNTIME_DIR / 'include'}", *map(str, sources)]
    if target.linker_script is not None:
        cmd.append(f"-T{RUNTIME_DIR / target.linker_script}")
        cmd += _link_symbols(target)
    cmd += [*target.ldflags, "-o", str(out.resolve())]
    return cmd


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
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT_SECONDS)
    except FileNotFoundError:
        raise MoteError(
            f"{cmd[0]} not found: the {target.name} target needs its toolchain (`make setup` installs it)"
        ) from None
    except subprocess.TimeoutExpired:
        raise MoteError(f"building {c_dir} for {target.name} took over {BUILD_TIMEOUT_SECONDS} s") from None
    if proc.returncode != 0:
        shown = proc.stderr[-_MAX_SHOWN_STDERR:]
        raise MoteError(f"building {c_dir} for {target.name} failed:\n$ {' '.join(cmd)}\n{shown.rstrip()}")
    return out


def build_icount_plugin() -> Path:
    """The QEMU instruction-count plugin, compiled with the host's cc on first use and cached
    under build/ by a hash of its source and command (safe when several runs race to build it)."""
    flags = ("-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC")
    source = ICOUNT_PLUGIN_SOURCE.read_bytes()
    digest = hashlib.sha256(source + " ".join(HOST_CC + flags).encode()).hexdigest()[:16]
    lib = CACHE_DIR / "qemu_plugin" / f"mote_icount-{digest}.so"
    if lib.is_file():
        return lib
    lib.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=lib.parent)
    os.close(fd)
    try:
        proc = subprocess.run(
            [*HOST_CC, *flags, "-o", tmp, str(ICOUNT_PLUGIN_SOURCE)], capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise MoteError(f"building the QEMU plugin {ICOUNT_PLUGIN_SOURCE} failed:\n{proc.stderr}")
        os.replace(tmp, lib)
    except FileNotFoundError:
        raise MoteError(f"{HOST_CC[0]} not found: counting instructions needs a host C compiler") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return lib
