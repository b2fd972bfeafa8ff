/* syscalls.c: the system calls of rv32 programs run under qemu-riscv32 user mode: Linux
 * `ecall`s (a7 = 63 read, 64 write, 93 exit).
 *
 * The harness calls the mote_sys_* functions directly; their names are how run.py tells
 * harness instructions from model instructions. The POSIX-named wrappers below exist only so
 * that picolibc links when a model or kernel uses its stdio or exit/abort (stdin, stdout and
 * stderr are picolibc tinystdio streams on file descriptors 0, 1 and 2); instructions spent in
 * them count as the model's. No heap: __heap_start == __heap_end in rv32.ld, so malloc fails. */
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define SYS_READ 63
#define SYS_WRITE 64
#define SYS_EXIT 93

static long ecall3(long nr, long a0, long a1, long a2) {
    register long r_a0 __asm__("a0") = a0;
    register long r_a1 __asm__("a1") = a1;
    register long r_a2 __asm__("a2") = a2;
    register long r_a7 __asm__("a7") = nr;
    __asm__ volatile("ecall" : "+r"(r_a0) : "r"(r_a1), "r"(r_a2), "r"(r_a7) : "memory");
    return r_a0;
}

long mote_sys_read(int fd, void *buf, size_t n) {
    return ecall3(SYS_READ, fd, (long)(uintptr_t)buf, (long)n);
}

long mote_sys_write(int fd, const void *buf, size_t n) {
    return ecall3(SYS_WRITE, fd, (long)(uintptr_t)buf, (long)n);
}

__attribute__((noreturn)) void mote_sys_exit(int status) {
    for (;;) {
        ecall3(SYS_EXIT, status, 0, 0);
    }
}

ssize_t read(int fd, void *buf, size_t n) {
    return mote_sys_read(fd, buf, n);
}

ssize_t write(int fd, const void *buf, size_t n) {
    return mote_sys_write(fd, buf, n);
}

__attribute__((noreturn)) void _exit(int status) {
    mote_sys_exit(status);
}

static int mote_putc(char c, FILE *f) {
    (void)f;
    return mote_sys_write(1 + (f == stderr), &c, 1) == 1 ? (unsigned char)c : EOF;
}

static int mote_getc(FILE *f) {
    unsigned char c;
    (void)f;
    return mote_sys_read(0, &c, 1) == 1 ? c : EOF;
}

static FILE mote_stdin = FDEV_SETUP_STREAM(NULL, mote_getc, NULL, _FDEV_SETUP_READ);
static FILE mote_stdout = FDEV_SETUP_STREAM(mote_putc, NULL, NULL, _FDEV_SETUP_WRITE);
static FILE mote_stderr = FDEV_SETUP_STREAM(mote_putc, NULL, NULL, _FDEV_SETUP_WRITE);
FILE *const stdin = &mote_stdin;
FILE *const stdout = &mote_stdout;
FILE *const stderr = &mote_stderr;
