"""Host builds of the runtime kernels for tests: compiles runtime_c's kernels_*.c into a shared
library and executes `KernelCall`s on numpy arrays the way the C backend emits them (one call
per index of `outer`, pointers offset by the call's strides)."""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import numpy as np

from compiler.backend.runtime_kernels import INCLUDE_DIR, KernelCall, kernel_sources

CFLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"]
DTYPES: dict[str, type[np.integer]] = {
    "i8": np.int8,
    "ui8": np.uint8,
    "i16": np.int16,
    "ui16": np.uint16,
    "i32": np.int32,
}


def host_cc() -> str:
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    assert cc, "no host C compiler"
    return cc


CACHE = INCLUDE_DIR.parents[1] / "build" / "test_runtime_kernels"
"""Built libraries and passed cross-compilations, keyed by a hash of everything they depend
on (compiler version, flags, sources), so that unchanged kernels are not rebuilt."""


def sh(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True)


def compile_all(commands: Sequence[list[str]]) -> list[subprocess.CompletedProcess[str]]:
    """Runs compiler commands concurrently (the kernel files compile independently)."""
    with ThreadPoolExecutor() as pool:
        return list(pool.map(sh, commands))


def check_compiled(results: Sequence[subprocess.CompletedProcess[str]]) -> None:
    for r in results:
        assert r.returncode == 0, f"{' '.join(r.args)}\n{r.stderr}"


@cache
def _version(compiler: str) -> str:
    return subprocess.run([compiler, "--version"], capture_output=True, text=True).stdout


def cache_key(compiler: str, flags: Sequence[str], sources: Sequence[Path]) -> str:
    """A hash of the compiler's version, the flags and every source and header involved."""
    h = hashlib.sha256(_version(compiler).encode())
    h.update("\0".join(flags).encode())
    headers = sorted(INCLUDE_DIR.glob("*.h")) + sorted((INCLUDE_DIR.parent / "src").glob("*.h"))
    for path in [*sources, *headers]:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:24]


@cache
def build(*defines: str) -> ctypes.CDLL:
    """The kernels as a host shared library, built once per set of -D flags and sources."""
    cc = host_cc()
    flags = [*CFLAGS, "-fPIC", *[f"-D{d}" for d in defines], f"-I{INCLUDE_DIR}"]
    out = CACHE / f"libmote_kernels_{cache_key(cc, flags, kernel_sources())}.so"
    if not out.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="tmp_", dir=CACHE))
        sources = kernel_sources()
        objects = [work / f"{src.stem}.o" for src in sources]
        check_compiled(
            compile_all([[cc, *flags, "-c", str(s), "-o", str(work / f"{s.stem}.o")] for s in sources])
        )
        check_compiled([sh([cc, "-shared", *map(str, objects), "-o", str(work / "lib.so")])])
        os.replace(work / "lib.so", out)  # atomic: concurrent test runs never see half a file
        shutil.rmtree(work, ignore_errors=True)
    return ctypes.CDLL(str(out))


@cache
def build_shim(code: str) -> ctypes.CDLL:
    """A shared library of `code`, which may include the private kernels_common.h."""
    work = Path(tempfile.mkdtemp(prefix="mote_shim_"))
    (work / "shim.c").write_text(code)
    cmd = [host_cc(), *CFLAGS, "-fPIC", "-shared", f"-I{INCLUDE_DIR}", f"-I{INCLUDE_DIR.parent / 'src'}"]
    check_compiled([sh([*cmd, str(work / "shim.c"), "-o", str(work / "shim.so")])])
    return ctypes.CDLL(str(work / "shim.so"))


def run(
    lib: ctypes.CDLL,
    call: KernelCall,
    operands: Sequence[np.ndarray],
    out_shape: tuple[int, ...],
    out_elem: str,
) -> np.ndarray:
    """Executes `call` on `operands` (the input pointers in C order: inputs, then the mask),
    converted to C-contiguous arrays of their element types, into a new result array."""
    y = np.zeros(out_shape, DTYPES[out_elem])
    arrays = [np.ascontiguousarray(a) for a in operands] + [y]
    fn = getattr(lib, call.function)
    fn.restype = None
    fn.argtypes = [ctypes.c_void_p] * len(arrays) + [
        ctypes.c_int32 if width == 32 else ctypes.c_int64 for _, width in call.scalars
    ]
    scalars = [v for v, _ in call.scalars]
    strides = call.strides or tuple(() for _ in arrays)
    assert len(strides) == len(arrays)
    for idx in np.ndindex(*call.outer):
        ptrs = [
            a.ctypes.data + a.itemsize * sum(i * s for i, s in zip(idx, st, strict=True))
            for a, st in zip(arrays, strides, strict=True)
        ]
        fn(*ptrs, *scalars)
    return y
