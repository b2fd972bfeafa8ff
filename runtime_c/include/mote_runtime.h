/* mote_runtime.h: the few constants and inline helpers that generated models, the test
 * harness (harness_main.c) and the rv32 start-up code (crt0.S) must agree on.
 *
 * Kept deliberately small: no allocation, no I/O, nothing that executes unless called. The
 * part outside `#ifndef __ASSEMBLER__` is plain macros so that crt0.S can include it. */
#ifndef MOTE_RUNTIME_H
#define MOTE_RUNTIME_H

/* Alignment of the arena and of every input/output buffer the harness hands to a model. */
#define MOTE_ARENA_ALIGN 8

/* Guard bytes the harness keeps on both sides of the arena and of every output buffer. */
#define MOTE_GUARD_BYTES 64

/* Word crt0 paints over the stack reservation; the harness scans for the lowest word that
 * no longer holds it to find the stack high-water mark. ("mote" in ASCII.) */
#define MOTE_STACK_PAINT 0x6d6f7465

/* Exit statuses of the harness. mote's runner (compiler/backend/run.py) mirrors them. */
#define MOTE_EXIT_OK 0
#define MOTE_EXIT_BAD_INPUT 10     /* stdin was shorter or longer than MOTE_MODEL_INPUT_BYTES */
#define MOTE_EXIT_IO 11            /* writing the outputs failed */
#define MOTE_EXIT_GUARD 12         /* the model wrote outside its arena or an output buffer */
#define MOTE_EXIT_STACK 13         /* the stack reservation was exhausted (bottom word overwritten) */

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

/* Rounds n up to a multiple of a (a power of two). */
#define MOTE_ALIGN_UP(n, a) (((n) + ((a) - 1)) & ~(size_t)((a) - 1))

/* The byte that guard position i holds while intact. Position-dependent, so that a model
 * storing one constant value (0, 0xff, ...) past its buffer is caught as surely as any other. */
static inline uint8_t mote_guard_byte(size_t i) {
    return (uint8_t)(0xa5u ^ (uint8_t)(i * 0x3bu));
}
#endif

#endif /* MOTE_RUNTIME_H */
