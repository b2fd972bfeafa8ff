"""Small C programs the runtime tests build: a host program against runtime_c's headers and
sources (run, its exit status the verdict), and the model.h of a hand-written "model" that the
ordinary harness builds for an emulated target."""

from __future__ import annotations

import subprocess
from pathlib import Path

RUNTIME_SRC = Path(__file__).resolve().parents[2] / "runtime_c" / "src"
RUNTIME_INCLUDE = RUNTIME_SRC.parent / "include"


def run_host_program(source: str, work: Path) -> subprocess.CompletedProcess[str]:
    """Compiles `source` with the host cc (-Wall -Wextra -Werror, runtime_c on the include
    path) and runs it."""
    src, exe = work / "t.c", work / "t"
    src.write_text(source)
    subprocess.run(
        ["cc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{RUNTIME_SRC}", f"-I{RUNTIME_INCLUDE}"]
        + [str(src), "-o", str(exe)],
        check=True,
    )
    return subprocess.run([str(exe)], capture_output=True, text=True)


def model_h(input_bytes: list[int], output_bytes: list[int]) -> str:
    """The model.h the harness (runtime_c/src/harness_main.c) expects of a program whose
    mote_model_run_io takes inputs and outputs of these sizes."""
    return f"""#ifndef MODEL_H
#define MODEL_H
#include <stddef.h>
#include <stdint.h>
#define MOTE_MODEL_NUM_INPUTS {len(input_bytes)}
#define MOTE_MODEL_NUM_OUTPUTS {len(output_bytes)}
#define MOTE_MODEL_INPUT_BYTES {sum(input_bytes)}
#define MOTE_MODEL_OUTPUT_BYTES {sum(output_bytes)}
#define MOTE_MODEL_ARENA_BYTES 8
extern const size_t mote_model_input_sizes[MOTE_MODEL_NUM_INPUTS];
extern const size_t mote_model_output_sizes[MOTE_MODEL_NUM_OUTPUTS];
void mote_model_run_io(uint8_t *arena, const void *const *inputs, void *const *outputs);
#endif
"""
