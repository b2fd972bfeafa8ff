/* harness_main.c: the `main` that `mote run` links with a generated model.
 *
 * Protocol: read exactly MOTE_MODEL_INPUT_BYTES from stdin (the inputs, concatenated in model
 * order), run the model once, write exactly MOTE_MODEL_OUTPUT_BYTES to stdout (the outputs,
 * concatenated). On bare-metal targets (MOTE_BARE_METAL) it then writes `mote-stack-bytes N`
 * to stderr: the stack the model used below the harness's frame, found by scanning the
 * reservation crt0 painted. Exit statuses are the MOTE_EXIT_* of mote_runtime.h.
 *
 * The arena and every output buffer sit between guard bytes holding a known pattern; a
 * changed guard byte after the run means the model wrote outside its planned memory.
 *
 * This file calls no libc or libgcc function on bare-metal targets (it only uses the mote_sys_*
 * syscalls of rv32/syscalls.c), so every instruction executed outside the harness, crt0 and
 * those syscalls belongs to the model: that is how run.py separates the model's instruction
 * count from the harness's. It does so by name: `_start`, `main` and functions named harness_*
 * or mote_sys_* (and their compiler clones, e.g. harness_put.constprop.0) are the harness's.
 * Loops store position-dependent values so that the compiler cannot turn them into memset
 * calls, and strings carry their length for the same reason (strlen). */
#ifndef MOTE_BARE_METAL
#define _POSIX_C_SOURCE 200809L
#include <unistd.h>
#endif

#include "model.h"
#include "mote_runtime.h"

#ifdef MOTE_BARE_METAL
long mote_sys_read(int fd, void *buf, size_t n);
long mote_sys_write(int fd, const void *buf, size_t n);
/* Bounds of the stack reservation (rv32.ld); crt0 painted it with MOTE_STACK_PAINT. */
extern uint32_t __mote_stack_bottom[];
/* Big buffers go to .noinit: crt0 need not zero them, so its cost does not grow with them. */
#define MOTE_NOINIT __attribute__((section(".noinit")))
#else
static long mote_sys_read(int fd, void *buf, size_t n) { return (long)read(fd, buf, n); }
static long mote_sys_write(int fd, const void *buf, size_t n) { return (long)write(fd, buf, n); }
#define MOTE_NOINIT
#endif

#define NUM_IN_SLOTS (MOTE_MODEL_NUM_INPUTS + (MOTE_MODEL_NUM_INPUTS == 0))
#define NUM_OUT_SLOTS (MOTE_MODEL_NUM_OUTPUTS + (MOTE_MODEL_NUM_OUTPUTS == 0))
#define IN_REGION_BYTES (MOTE_MODEL_INPUT_BYTES + MOTE_MODEL_NUM_INPUTS * MOTE_ARENA_ALIGN)
#define OUT_REGION_BYTES \
    (MOTE_MODEL_OUTPUT_BYTES + MOTE_MODEL_NUM_OUTPUTS * (MOTE_GUARD_BYTES + MOTE_ARENA_ALIGN) + \
     MOTE_GUARD_BYTES)
#define ARENA_REGION_BYTES (MOTE_GUARD_BYTES + MOTE_MODEL_ARENA_BYTES + MOTE_GUARD_BYTES)

static uint8_t in_region[IN_REGION_BYTES + 1] MOTE_NOINIT __attribute__((aligned(MOTE_ARENA_ALIGN)));
static uint8_t out_region[OUT_REGION_BYTES] MOTE_NOINIT __attribute__((aligned(MOTE_ARENA_ALIGN)));
static uint8_t arena_region[ARENA_REGION_BYTES] MOTE_NOINIT __attribute__((aligned(MOTE_ARENA_ALIGN)));

#define PUT(fd, literal) harness_put((fd), (literal), sizeof(literal) - 1)

static void harness_put(int fd, const char *s, size_t n) {
    while (n > 0) {
        long r = mote_sys_write(fd, s, n);
        if (r <= 0) {
            return;
        }
        s += r;
        n -= (size_t)r;
    }
}

static void harness_put_uint(int fd, unsigned long v) {
    char digits[24];
    size_t i = sizeof digits;
    do {
        digits[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    harness_put(fd, digits + i, sizeof digits - i);
}

static int harness_read_exact(uint8_t *p, size_t n) {
    while (n > 0) {
        long r = mote_sys_read(0, p, n);
        if (r <= 0) {
            return -1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int harness_write_exact(const uint8_t *p, size_t n) {
    while (n > 0) {
        long r = mote_sys_write(1, p, n);
        if (r <= 0) {
            return -1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Guard ranges of out_region: [0, G) before the first output, then after each output its
 * padding to MOTE_ARENA_ALIGN and G more bytes. start[k] is output k's offset in the region. */
static size_t harness_output_layout(size_t start[NUM_OUT_SLOTS], size_t end[NUM_OUT_SLOTS]) {
    size_t pos = MOTE_GUARD_BYTES;
    for (size_t k = 0; k < MOTE_MODEL_NUM_OUTPUTS; k++) {
        start[k] = pos;
        end[k] = pos + mote_model_output_sizes[k];
        pos = MOTE_ALIGN_UP(end[k], MOTE_ARENA_ALIGN) + MOTE_GUARD_BYTES;
    }
    return pos;
}

static void harness_fill_guard(uint8_t *region, size_t from, size_t to) {
    for (size_t i = from; i < to; i++) {
        region[i] = mote_guard_byte(i);
    }
}

static int harness_guard_intact(const uint8_t *region, size_t from, size_t to) {
    for (size_t i = from; i < to; i++) {
        if (region[i] != mote_guard_byte(i)) {
            return 0;
        }
    }
    return 1;
}

static int harness_fail(int status, const char *what, size_t n) {
    PUT(2, "mote harness: ");
    harness_put(2, what, n);
    PUT(2, "\n");
    return status;
}

#define FAIL(status, literal) harness_fail((status), (literal), sizeof(literal) - 1)

#ifdef MOTE_BARE_METAL
static uintptr_t harness_stack_pointer(void) {
    uintptr_t sp;
    __asm__ volatile("mv %0, sp" : "=r"(sp));
    return sp;
}

/* Bytes of stack the model used below `sp_at_call`, or -1 when the reservation overflowed. */
static long harness_stack_used(uintptr_t sp_at_call) {
    const uint32_t *w = __mote_stack_bottom;
    if (*w != MOTE_STACK_PAINT) {
        return -1;
    }
    while ((uintptr_t)w < sp_at_call && *w == MOTE_STACK_PAINT) {
        w++;
    }
    return (long)(sp_at_call - (uintptr_t)w);
}
#endif

int main(void) {
    const void *inputs[NUM_IN_SLOTS];
    void *outputs[NUM_OUT_SLOTS];
    size_t out_start[NUM_OUT_SLOTS];
    size_t out_end[NUM_OUT_SLOTS];
    uint8_t *arena = arena_region + MOTE_GUARD_BYTES;

    size_t pos = 0;
    for (size_t k = 0; k < MOTE_MODEL_NUM_INPUTS; k++) {
        if (harness_read_exact(in_region + pos, mote_model_input_sizes[k]) != 0) {
            return FAIL(MOTE_EXIT_BAD_INPUT, "stdin is shorter than MOTE_MODEL_INPUT_BYTES");
        }
        inputs[k] = in_region + pos;
        pos = MOTE_ALIGN_UP(pos + mote_model_input_sizes[k], MOTE_ARENA_ALIGN);
    }
    if (mote_sys_read(0, in_region + IN_REGION_BYTES, 1) != 0) {
        return FAIL(MOTE_EXIT_BAD_INPUT, "stdin is longer than MOTE_MODEL_INPUT_BYTES");
    }

    size_t out_total = harness_output_layout(out_start, out_end);
    harness_fill_guard(out_region, 0, MOTE_GUARD_BYTES);
    for (size_t k = 0; k < MOTE_MODEL_NUM_OUTPUTS; k++) {
        outputs[k] = out_region + out_start[k];
        size_t next = k + 1 < MOTE_MODEL_NUM_OUTPUTS ? out_start[k + 1] : out_total;
        harness_fill_guard(out_region, out_end[k], next);
    }
    harness_fill_guard(arena_region, 0, MOTE_GUARD_BYTES);
    harness_fill_guard(arena_region, MOTE_GUARD_BYTES + MOTE_MODEL_ARENA_BYTES, ARENA_REGION_BYTES);

#ifdef MOTE_BARE_METAL
    uintptr_t sp_at_call = harness_stack_pointer();
#endif
    mote_model_run_io(arena, inputs, outputs);

    /* An overflowing stack runs into the buffers below it: report the cause, not the damage. */
#ifdef MOTE_BARE_METAL
    long stack = harness_stack_used(sp_at_call);
    if (stack < 0) {
        return FAIL(MOTE_EXIT_STACK, "stack overflow: the model used the whole stack reservation");
    }
#endif
    if (!harness_guard_intact(arena_region, 0, MOTE_GUARD_BYTES)) {
        return FAIL(MOTE_EXIT_GUARD, "guard violation: the model wrote below its arena");
    }
    if (!harness_guard_intact(arena_region, MOTE_GUARD_BYTES + MOTE_MODEL_ARENA_BYTES, ARENA_REGION_BYTES)) {
        return FAIL(MOTE_EXIT_GUARD, "guard violation: the model wrote past the end of its arena");
    }
    for (size_t k = 0; k < MOTE_MODEL_NUM_OUTPUTS; k++) {
        size_t before = k == 0 ? 0 : out_end[k - 1];
        size_t after = k + 1 < MOTE_MODEL_NUM_OUTPUTS ? out_start[k + 1] : out_total;
        if (!harness_guard_intact(out_region, before, out_start[k]) ||
            !harness_guard_intact(out_region, out_end[k], after)) {
            PUT(2, "mote harness: guard violation: the model wrote outside output ");
            harness_put_uint(2, (unsigned long)k);
            PUT(2, "\n");
            return MOTE_EXIT_GUARD;
        }
    }

    for (size_t k = 0; k < MOTE_MODEL_NUM_OUTPUTS; k++) {
        if (harness_write_exact(out_region + out_start[k], mote_model_output_sizes[k]) != 0) {
            return FAIL(MOTE_EXIT_IO, "writing the outputs to stdout failed");
        }
    }
#ifdef MOTE_BARE_METAL
    PUT(2, "mote-stack-bytes ");
    harness_put_uint(2, (unsigned long)stack);
    PUT(2, "\n");
#endif
    return MOTE_EXIT_OK;
}
