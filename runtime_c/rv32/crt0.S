/* crt0.S: start-up code for generated models on rv32 under qemu-riscv32 user mode (and any
 * loader that maps the ELF's PT_LOAD segments as they are).
 *
 * picolibc's own crt0 writes mtvec, which traps in user mode, so mote brings this one: set the
 * global pointer, the stack pointer and the thread pointer (picolibc's errno is TLS), zero
 * .tbss and .bss, paint the stack reservation with MOTE_STACK_PAINT so that the harness can
 * measure the high-water mark, call main and exit with its return value. The segments are
 * loaded at their run addresses, so there is no .data copy. Constructors are not run: C
 * models and the harness have none. */
#include "mote_runtime.h"

    /* Name this file in the symbol table (otherwise the assembler names the compiler's temporary
     * preprocessed file, and no two builds are byte-identical). */
    .file "crt0.S"

    .section .text._start, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    la sp, __mote_stack_top
    la tp, __mote_tls_base

    /* Zero .tbss and .bss (both word-aligned by rv32.ld). */
    la t0, __mote_tbss_start
    la t1, __mote_tbss_end
1:  bgeu t0, t1, 2f
    sw zero, 0(t0)
    addi t0, t0, 4
    j 1b
2:  la t0, __mote_bss_start
    la t1, __mote_bss_end
3:  bgeu t0, t1, 4f
    sw zero, 0(t0)
    addi t0, t0, 4
    j 3b

    /* Paint the whole stack reservation; nothing lives on it yet. */
4:  la t0, __mote_stack_bottom
    li t2, MOTE_STACK_PAINT
5:  bgeu t0, sp, 6f
    sw t2, 0(t0)
    addi t0, t0, 4
    j 5b

6:  li a0, 0
    li a1, 0
    li a2, 0
    call main
    call mote_sys_exit
    .size _start, . - _start
