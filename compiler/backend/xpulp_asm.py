"""The CORE-V assembly of `xpulp.dot_block`: a register block's reduction as a hardware loop.

clang-19 can neither form hardware loops nor assemble `cv.setup` (it has no xcvhwlp), so the
C emitter prints this op as one inline-asm statement on the rv32imc-xcv target. The loop is

        .balign 4                       cv.setup must sit on a word boundary
        .option norvc                   no compressed instructions in a hardware loop body
        cv.setup 0, n, end              (as .insn: funct3 100, funct4 0111, loop 0)
        cv.lw  w0, (pw), 4              column 0's word, the pointer moves to the next word
        lw     w1, SW-4(pw)             column 1's, at an immediate offset
        cv.lw  a0, (pa), 4              row 0's word
        lw     a1, SA-4(pa) ...         the other rows
        cv.sdotsp.b c00, a0, w0 ...     column 0 against every row
        lw     w0, 2SW-4(pw)            column 2 loaded while column 1 is used: no stall
        ...
    end:                                the last body instruction is a dot product

`rows + cols` loads and `rows * cols` dot products per word, with no increment, compare or
branch: the core jumps back by itself (CV32E40P user manual, "CORE-V Hardware Loop feature",
whose constraints this respects: aligned setup and body, at least 3 instructions, no
compressed instructions, branches or jumps inside). Two registers hold the column words in
turn, so a 4 x 4 block needs 16 + 4 + 2 + 2 pointers + the count = 25 registers.
"""

from __future__ import annotations

from dialects import xpulp

SETUP_OPCODE, SETUP_FUNCT3, SETUP_RD_FIELD = "0x2b", 4, "x14"
"""cv.setup 0, rs1, uimm as `.insn i`: opcode custom-1, funct3 100, and bits 11:7 holding
funct4 0111 and the loop number 0 (01110 = 14, printed as the register x14)."""


def body_lines(op: xpulp.DotBlockOp) -> list[str]:
    """The instructions of one iteration, operands named as in `operand_names`."""
    rows, cols = op.get("rows"), op.get("cols")
    sa, sw = op.get("lhs_stride"), op.get("rhs_stride")
    dot = xpulp.DOT_BLOCK_KINDS[op.kind.data]
    w = [f"%[w{j % 2}]" for j in range(cols)]
    columns = ["cv.lw %[w0], (%[pw]), 4"] + ([f"lw %[w1], {sw - 4}(%[pw])"] if cols > 1 else [])
    rows_ = ["cv.lw %[a0], (%[pa]), 4"] + [f"lw %[a{i}], {i * sa - 4}(%[pa])" for i in range(1, rows)]
    # the first dot product reads a0 and w0: neither may be the word loaded just before it
    lines = columns + rows_ if rows > 1 else rows_ + columns
    for j in range(cols):
        lines += [f"{dot} %[c{i}_{j}], %[a{i}], {w[j]}" for i in range(rows)]
        if j + 2 < cols:
            lines.append(f"lw {w[j]}, {(j + 2) * sw - 4}(%[pw])")
    return lines


def asm_text(op: xpulp.DotBlockOp) -> list[str]:
    """The lines of the asm template: set-up, body, and the assembler options restored."""
    body = body_lines(op)
    end = len(body) + 1  # lpend = address of cv.setup + 4 * end: just past the body
    return [
        ".balign 4",
        ".option push",
        ".option norvc",
        ".option norelax",
        f".insn i {SETUP_OPCODE}, {SETUP_FUNCT3}, {SETUP_RD_FIELD}, %[n], {end}",
        *body,
        ".option pop",
    ]


def operand_names(op: xpulp.DotBlockOp) -> tuple[list[str], list[str], list[str]]:
    """(accumulator names in result order, row word temporaries, column word temporaries)."""
    rows, cols = op.get("rows"), op.get("cols")
    accs = [f"c{i}_{j}" for i in range(rows) for j in range(cols)]
    return accs, [f"a{i}" for i in range(rows)], [f"w{j}" for j in range(min(cols, 2))]
