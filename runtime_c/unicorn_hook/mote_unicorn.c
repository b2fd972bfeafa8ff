/* mote_unicorn.c: runs an rv32 program of mote's rv32imc-xcv target on the unicorn engine,
 * executing the CORE-V (Xpulp) instructions that unicorn does not know, and counting executed
 * instructions exactly per translation block. Loaded by compiler/backend/unicorn_run.py through
 * ctypes; built with the host cc against the libunicorn.so.2 and headers of the `unicorn` wheel.
 *
 * - Memory: the caller maps each memory level of the target (mote_uc_map) with host buffers
 *   (uc_mem_map_ptr), so that the hooks below reach guest memory without unicorn calls.
 * - UC_HOOK_BLOCK: one call per executed translation block with its start address and size in
 *   bytes; the instruction count of a block is decoded once (RVC instructions are 2 bytes, the
 *   rest 4) and executions are counted in a hash table keyed by (address, size), as QEMU's
 *   TCG plugin counts them (runtime_c/qemu_plugin/mote_icount.c). One difference is evened out:
 *   QEMU 7.2 ends a block before an instruction that starts in the last halfword of a 4 KiB
 *   page (only the first instruction of its blocks may cross a page; its look-ahead check,
 *   `pc_next + len` on the next page, also catches a 2-byte instruction that ends exactly
 *   there), unicorn's older QEMU does not; such a block is reported as QEMU makes it, as two
 *   (the head, and that last instruction alone), so that blocks and edges, not only totals,
 *   are identical to qemu-user's. Which block followed which
 *   (edges between block start addresses) is counted too: two successors cached in each
 *   block's record, any others in a second hash table (the contract is in run.py's docstring).
 * - UC_HOOK_INTR: every custom-0/1/2/3 opcode raises intno 2 (illegal instruction) with the PC
 *   already advanced past it (unicorn adds 4); the hook reads the word at pc - 4, executes it
 *   (writes rd, and rs1 for post-increment forms; sets the PC for taken cv.beqimm/cv.bneimm)
 *   and returns. The translation block that ends with it has already counted it. `ecall`
 *   (intno 8, 9 or 11) implements the Linux system calls of runtime_c/rv32/syscalls.c:
 *   63 read (stdin from a buffer), 64 write (fds 1 and 2 to buffers), 93/94 exit.
 * Implemented: xcvmem, xcvbi, xcvalu, xcvmac, xcvhwlp (bodies that end in a CORE-V
 * instruction: see "Hardware loops" below) and xcvsimd except the complex-number and
 * .div2/4/8 forms; anything else stops the run with a message naming the word and its address.
 * Semantics: CV32E40P user manual ("CORE-V Instruction Set Extensions") and its RTL; encodings
 * as LLVM 19 emits them (CV32E40Pv2). runtime_c/include/xpulp.h has a portable C twin of the
 * instructions mote emits on purpose; tests/runtime/test_xpulp.py compares the two. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>

#define MAX_REGIONS 8
#define SYS_READ 63
#define SYS_WRITE 64
#define SYS_EXIT 93
#define SYS_EXIT_GROUP 94
#define ENOSYS_ 38
#define EBADF_ 9
#define EFAULT_ 14

enum { RUN_EXITED = 0, RUN_FAULT = 1, RUN_TIMEOUT = 2, RUN_STOPPED = 3 };

struct region {
    uint32_t base;
    uint32_t size;
    uint8_t *host;
    int writable;
};

struct block {
    uint32_t address;
    uint32_t size;  /* bytes */
    uint32_t insns; /* instructions (of the head only, for a split block) */
    uint32_t tail;  /* 0, or the address of a last instruction split off as QEMU 7.2 does */
    uint32_t used;
    uint64_t executions;
    uint32_t next[2]; /* start addresses of the first two successors seen, */
    uint32_t n_next;  /* how many of next[] are set */
    uint64_t next_count[2];
};

/* Successors beyond a block's first two, by (source, target) start address. */
struct edge {
    uint32_t from, to;
    uint64_t count; /* 0: free slot */
};

struct buffer {
    uint8_t *data;
    size_t len, cap;
};

typedef struct mote_uc {
    uc_engine *uc;
    struct region regions[MAX_REGIONS];
    int n_regions;
    struct block *table;  /* open addressing, power-of-two capacity */
    size_t table_cap, table_used;
    struct block *last;   /* the previous block: loops hit it again */
    struct edge *edges;   /* open addressing, power-of-two capacity */
    size_t edges_cap, edges_used;
    int count_edges;
    const uint8_t *input;
    size_t input_len, input_pos;
    struct buffer out[3]; /* index 1 stdout, 2 stderr */
    int exited, exit_status, failed;
    uint64_t custom_executed;
    uint32_t lpstart[2], lpend[2], lpcount[2]; /* the two hardware loops (cv.setup & co.) */
    char message[512];
} mote_uc;

static void fail(mote_uc *m, const char *fmt, ...) {
    if (!m->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m->message, sizeof m->message, fmt, ap);
        va_end(ap);
        m->failed = 1;
    }
    uc_emu_stop(m->uc);
}

/* Host pointer to guest bytes [addr, addr + n), or NULL if they are not all in one region
 * (or, for a write, not in a writable one). */
static uint8_t *guest(mote_uc *m, uint32_t addr, uint32_t n, int write) {
    for (int i = 0; i < m->n_regions; i++) {
        struct region *r = &m->regions[i];
        if (addr >= r->base && (uint64_t)addr - r->base + n <= r->size) {
            if (write && !r->writable) {
                return NULL;
            }
            return r->host + (addr - r->base);
        }
    }
    return NULL;
}

/* ---- Instruction counts per block ---------------------------------------------------------- */

static int grow_table(mote_uc *m) {
    size_t cap = m->table_cap ? 2 * m->table_cap : 4096;
    struct block *t = calloc(cap, sizeof *t);
    if (t == NULL) {
        return -1;
    }
    struct block *last = NULL;
    for (size_t i = 0; i < m->table_cap; i++) {
        struct block *b = &m->table[i];
        if (!b->used) {
            continue;
        }
        size_t h = ((size_t)b->address * 0x9e3779b1u ^ b->size) & (cap - 1);
        while (t[h].used) {
            h = (h + 1) & (cap - 1);
        }
        t[h] = *b;
        if (b == m->last) {
            last = &t[h];
        }
    }
    free(m->table);
    m->table = t;
    m->table_cap = cap;
    m->last = last;
    return 0;
}

/* Where control leaves block b: its start, or its split-off last instruction. */
static uint32_t exit_address(const struct block *b) {
    return b->tail ? b->tail : b->address;
}

static size_t edge_slot(const struct edge *table, size_t cap, uint32_t from, uint32_t to) {
    size_t h = ((size_t)from * 0x9e3779b1u ^ (size_t)to * 0x85ebca77u) & (cap - 1);
    while (table[h].count != 0 && (table[h].from != from || table[h].to != to)) {
        h = (h + 1) & (cap - 1);
    }
    return h;
}

static void count_extra_edge(mote_uc *m, uint32_t from, uint32_t to) {
    if (2 * (m->edges_used + 1) > m->edges_cap) {
        size_t cap = m->edges_cap ? 2 * m->edges_cap : 1024;
        struct edge *t = calloc(cap, sizeof *t);
        if (t == NULL) {
            fail(m, "out of memory counting edges");
            return;
        }
        for (size_t i = 0; i < m->edges_cap; i++) {
            if (m->edges[i].count != 0) {
                t[edge_slot(t, cap, m->edges[i].from, m->edges[i].to)] = m->edges[i];
            }
        }
        free(m->edges);
        m->edges = t;
        m->edges_cap = cap;
    }
    struct edge *e = &m->edges[edge_slot(m->edges, m->edges_cap, from, to)];
    if (e->count == 0) {
        e->from = from;
        e->to = to;
        m->edges_used++;
    }
    e->count++;
}

/* Control went from block p straight to the block starting at `to`. */
static void count_edge(mote_uc *m, struct block *p, uint32_t to) {
    for (uint32_t k = 0; k < p->n_next; k++) {
        if (p->next[k] == to) {
            p->next_count[k]++;
            return;
        }
    }
    if (p->n_next < 2) {
        p->next[p->n_next] = to;
        p->next_count[p->n_next++] = 1;
        return;
    }
    count_extra_edge(m, exit_address(p), to);
}

#define PAGE_MASK 0xfffff000u

/* Sets b->insns, and b->tail if the block's last instruction (not its first) starts in the
 * last halfword of a page. (A block never runs past such an instruction: unicorn ends blocks
 * at the page's end.) */
static void count_insns(mote_uc *m, struct block *b) {
    const uint8_t *code = guest(m, b->address, b->size, 0);
    if (code == NULL) {
        fail(m, "executed a block at %#" PRIx32 " (%" PRIu32 " bytes) outside the program's memory", b->address,
             b->size);
        return;
    }
    uint32_t n = 0, off = 0, last = 0;
    while (off < b->size) {
        last = off;
        off += (code[off] & 3) == 3 ? 4 : 2;
        n++;
    }
    uint32_t at = b->address + last;
    if (n > 1 && (at & ~PAGE_MASK) == 0xffe) {
        b->tail = at;
        n--;
    }
    b->insns = n;
}

static void on_block(uc_engine *uc, uint64_t address64, uint32_t size, void *user) {
    (void)uc;
    mote_uc *m = user;
    uint32_t address = (uint32_t)address64;
    struct block *b = m->last;
    if (b != NULL && b->address == address && b->size == size) {
        b->executions++;
        if (m->count_edges) {
            count_edge(m, b, address);
        }
        return;
    }
    if (2 * (m->table_used + 1) > m->table_cap && grow_table(m) != 0) {
        fail(m, "out of memory counting blocks");
        return;
    }
    if (m->count_edges && m->last != NULL) {
        count_edge(m, m->last, address);
    }
    size_t h = ((size_t)address * 0x9e3779b1u ^ size) & (m->table_cap - 1);
    while (m->table[h].used && (m->table[h].address != address || m->table[h].size != size)) {
        h = (h + 1) & (m->table_cap - 1);
    }
    b = &m->table[h];
    if (!b->used) {
        b->used = 1;
        b->address = address;
        b->size = size;
        count_insns(m, b);
        m->table_used++;
    }
    b->executions++;
    m->last = b;
}

/* Single-stepping for tests: every instruction counted as a block of its own (UC_HOOK_CODE). */
static void on_instruction(uc_engine *uc, uint64_t address, uint32_t size, void *user) {
    on_block(uc, address, size, user);
}

/* ---- Registers ---------------------------------------------------------------------------- */

static uint32_t reg(mote_uc *m, unsigned r) {
    uint32_t v = 0;
    if (r != 0) {
        uc_reg_read(m->uc, UC_RISCV_REG_X0 + (int)r, &v);
    }
    return v;
}

static void set_reg(mote_uc *m, unsigned r, uint32_t v) {
    if (r != 0) {
        uc_reg_write(m->uc, UC_RISCV_REG_X0 + (int)r, &v);
    }
}

static int32_t sext(uint32_t x, int bits) {
    uint32_t sign = 1u << (bits - 1);
    x &= (bits == 32) ? 0xffffffffu : ((1u << bits) - 1u);
    return (int32_t)(x ^ sign) - (int32_t)sign;
}

/* ---- Memory accesses of xcvmem ------------------------------------------------------------- */

/* kind: 0 lb, 1 lh, 2 lw, 4 lbu, 5 lhu (the funct3 of the immediate forms). */
static int load(mote_uc *m, uint32_t pc, uint32_t addr, int kind, uint32_t *out) {
    uint32_t n = 1u << (kind & 3);
    const uint8_t *p = guest(m, addr, n, 0);
    if (p == NULL || (kind & 3) == 3 || kind > 5) {
        fail(m, "CORE-V load of %" PRIu32 " bytes at %#" PRIx32 " outside the program's memory (pc %#" PRIx32 ")",
             n, addr, pc);
        return -1;
    }
    uint32_t v = 0;
    for (uint32_t i = 0; i < n; i++) {
        v |= (uint32_t)p[i] << (8 * i);
    }
    *out = kind & 4 ? v : (uint32_t)sext(v, (int)(8 * n));
    return 0;
}

/* size_log2: 0 byte, 1 halfword, 2 word. */
static int store(mote_uc *m, uint32_t pc, uint32_t addr, int size_log2, uint32_t v) {
    uint32_t n = 1u << size_log2;
    uint8_t *p = guest(m, addr, n, 1);
    if (p == NULL) {
        fail(m, "CORE-V store of %" PRIu32 " bytes at %#" PRIx32
             " outside the program's writable memory (pc %#" PRIx32 ")", n, addr, pc);
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
    return 0;
}

/* ---- Scalar ALU helpers --------------------------------------------------------------------- */

static uint32_t shift_right(uint32_t x, unsigned s, int arith) {
    s &= 31;
    if (arith) {
        int32_t v = (int32_t)x;
        return (uint32_t)(v < 0 ? ~(~v >> s) : v >> s);
    }
    return x >> s;
}

static uint32_t round_of(unsigned s) {
    return (1u << (s & 31)) >> 1;
}

static uint32_t clip(uint32_t x, uint32_t hi, int is_unsigned) {
    int32_t v = (int32_t)x, h = (int32_t)hi, lo = is_unsigned ? 0 : -h - 1;
    return (uint32_t)(v <= lo ? lo : v >= h ? h : v);
}

/* ---- SIMD (xcvsimd) ------------------------------------------------------------------------- */

static uint32_t lane(uint32_t x, int i, int w) {
    return (x >> (w * i)) & ((1u << w) - 1u);
}

static uint32_t replicate(uint32_t e, int w) {
    e &= (1u << w) - 1u;
    return w == 8 ? e * 0x01010101u : e | e << 16;
}

/* funct5 of the F = 0 group; returns 0 and sets *rd_out, or -1 if not implemented. */
static int simd(uint32_t insn, uint32_t a, uint32_t b_reg, uint32_t rd_old, uint32_t *rd_out) {
    unsigned funct5 = insn >> 27, f = (insn >> 26) & 1, bit25 = (insn >> 25) & 1;
    unsigned f3 = (insn >> 12) & 7, rs2 = (insn >> 20) & 31;
    int w = (f3 & 1) ? 8 : 16, n = 32 / w;
    uint32_t mask = (1u << w) - 1u;
    uint32_t imm6 = rs2 << 1 | bit25;
    uint32_t r = 0;

    /* Operations with their own operand forms. */
    if (f == 0 && funct5 == 0x17) { /* extract, extractu, insert: f3 000/001/010/011/100/101 */
        int lanes = (f3 & 1) ? 4 : 2, idx = (int)(imm6 & (uint32_t)(lanes - 1));
        int wl = (f3 & 1) ? 8 : 16;
        uint32_t e = lane(a, idx, wl);
        switch (f3 >> 1) {
        case 0: *rd_out = (uint32_t)sext(e, wl); return 0;
        case 1: *rd_out = e; return 0;
        case 2: {
            uint32_t lm = ((1u << wl) - 1u) << (wl * idx);
            *rd_out = (rd_old & ~lm) | ((a << (wl * idx)) & lm);
            return 0;
        }
        default: return -1;
        }
    }
    if (f == 0 && funct5 >= 0x18 && funct5 <= 0x1b) { /* shuffle.h/.b, shuffle.sci.h, shufflei*.sci.b */
        uint32_t sel;
        if (f3 == 0 || f3 == 1) {
            if (funct5 != 0x18 || bit25) return -1;
            sel = b_reg;
        } else if (f3 == 6 && funct5 == 0x18) {
            sel = (imm6 & 1) | ((imm6 >> 1) & 1) << 16;
            w = 16, n = 2, mask = 0xffff;
        } else if (f3 == 7) {
            sel = (imm6 & 3) | ((imm6 >> 2) & 3) << 8 | ((imm6 >> 4) & 3) << 16 | (funct5 & 3u) << 24;
            w = 8, n = 4, mask = 0xff;
        } else {
            return -1;
        }
        for (int i = 0; i < n; i++) {
            r |= lane(a, (int)(lane(sel, i, w) & (uint32_t)(n - 1)), w) << (w * i);
        }
        *rd_out = r;
        return 0;
    }
    if (f == 0 && funct5 == 0x1c) { /* shuffle2.h/.b */
        if (f3 > 1 || bit25) return -1;
        for (int i = 0; i < n; i++) {
            uint32_t s = lane(b_reg, i, w);
            uint32_t src = (s & (uint32_t)n) ? a : rd_old;
            r |= lane(src, (int)(s & (uint32_t)(n - 1)), w) << (w * i);
        }
        *rd_out = r;
        return 0;
    }
    if (f == 0 && funct5 == 0x1e) { /* pack (bit25 0), pack.h (bit25 1) */
        if (f3 != 0) return -1;
        *rd_out = bit25 ? (a & 0xffff0000u) | (b_reg >> 16) : (a << 16) | (b_reg & 0xffffu);
        return 0;
    }
    if (f == 0 && funct5 == 0x1f) { /* packlo.b (bit25 0), packhi.b (bit25 1) */
        if (f3 != 1) return -1;
        uint32_t pair = (a & 0xffu) << 8 | (b_reg & 0xffu);
        *rd_out = bit25 ? (rd_old & 0x0000ffffu) | pair << 16 : (rd_old & 0xffff0000u) | pair;
        return 0;
    }
    if (f == 0 && funct5 == 0x0e) { /* abs.h/.b */
        if (f3 > 1 || rs2 != 0 || bit25) return -1;
        for (int i = 0; i < n; i++) {
            int32_t x = sext(lane(a, i, w), w);
            r |= ((uint32_t)(x < 0 ? -x : x) & mask) << (w * i);
        }
        *rd_out = r;
        return 0;
    }

    /* Binary lane-wise operations, dot products and comparisons: the second operand. */
    if (f3 == 2 || f3 == 3) return -1;
    int zext_imm = f == 0 ? (funct5 == 0x03 || funct5 == 0x05 || funct5 == 0x07 || funct5 == 0x10 ||
                             funct5 == 0x13)
                          : (funct5 >= 0x06 && funct5 <= 0x09);
    uint32_t op2;
    if ((f3 & 6) == 6) {
        op2 = replicate(zext_imm ? imm6 : (uint32_t)sext(imm6, 6), w);
    } else {
        if (bit25) return -1;
        op2 = (f3 & 4) ? replicate(b_reg, w) : b_reg;
    }

    if (f == 0 && funct5 >= 0x10 && funct5 <= 0x15) { /* dot products */
        unsigned kind = funct5 - 0x10;                 /* 0 up, 1 usp, 2 sp; +3 accumulating */
        unsigned signs = kind % 3;
        uint32_t sum = kind >= 3 ? rd_old : 0;
        for (int i = 0; i < n; i++) {
            uint32_t ea = lane(a, i, w), eb = lane(op2, i, w);
            int64_t x = signs == 2 ? sext(ea, w) : (int64_t)ea;
            int64_t y = signs == 0 ? (int64_t)eb : sext(eb, w);
            sum += (uint32_t)(uint64_t)(x * y);
        }
        *rd_out = sum;
        return 0;
    }

    for (int i = 0; i < n; i++) {
        uint32_t ea = lane(a, i, w), eb = lane(op2, i, w), e;
        int32_t sa = sext(ea, w), sb = sext(eb, w);
        if (f == 0) {
            unsigned sh = eb & (uint32_t)(w - 1);
            switch (funct5) {
            case 0x00: e = ea + eb; break;
            case 0x01: e = ea - eb; break;
            case 0x02: e = (uint32_t)(sext((ea + eb) & mask, w) >> 1); break;
            case 0x03: e = ((ea + eb) & mask) >> 1; break;
            case 0x04: e = sa < sb ? ea : eb; break;
            case 0x05: e = ea < eb ? ea : eb; break;
            case 0x06: e = sa > sb ? ea : eb; break;
            case 0x07: e = ea > eb ? ea : eb; break;
            case 0x08: e = ea >> sh; break;
            case 0x09: e = (uint32_t)(sa >> sh); break;
            case 0x0a: e = ea << sh; break;
            case 0x0b: e = ea | eb; break;
            case 0x0c: e = ea ^ eb; break;
            case 0x0d: e = ea & eb; break;
            default: return -1;
            }
        } else {
            int c;
            switch (funct5) {
            case 0x00: c = ea == eb; break;
            case 0x01: c = ea != eb; break;
            case 0x02: c = sa > sb; break;
            case 0x03: c = sa >= sb; break;
            case 0x04: c = sa < sb; break;
            case 0x05: c = sa <= sb; break;
            case 0x06: c = ea > eb; break;
            case 0x07: c = ea >= eb; break;
            case 0x08: c = ea < eb; break;
            case 0x09: c = ea <= eb; break;
            default: return -1; /* complex-number and .divN forms */
            }
            e = c ? mask : 0;
        }
        r |= (e & mask) << (w * i);
    }
    *rd_out = r;
    return 0;
}

/* ---- The CORE-V instruction at pc ----------------------------------------------------------- */

/* Executes insn (at pc); 0 on success, -1 if it is not a CORE-V instruction implemented here
 * (the caller reports it), -2 after a reported fault. */
/* ---- Hardware loops (xcvhwlp) ----------------------------------------------------------------
 * cv.starti/start/endi/end/counti/count/setupi/setup set lpstart, lpend (the address just past
 * the body) and lpcount of loop L. The core jumps back by itself after the body's last
 * instruction; here that instruction must be one this hook executes (a custom opcode, so the
 * block ends at it and control comes back to us): after executing it at lpend - 4, the hook
 * jumps to lpstart while lpcount > 1 (loop 0 first), as the CV32E40P manual describes. A loop
 * whose body breaks the manual's constraints (aligned start and end, end > start, at least 3
 * instructions, no compressed ones, no branches or jumps) or ends in any other instruction
 * stops the run with a message, as the manual asks simulators to do. */
static int is_custom(uint32_t insn) {
    unsigned op = insn & 0x7f;
    return op == 0x0b || op == 0x2b || op == 0x5b || op == 0x7b;
}

static int check_loop(mote_uc *m, uint32_t pc, unsigned l) {
    uint32_t start = m->lpstart[l], end = m->lpend[l];
    if ((start | end) & 3 || end <= start || end - start < 12) {
        fail(m, "hardware loop %u set up at %#" PRIx32 ": body [%#" PRIx32 ", %#" PRIx32
             ") must be word aligned and at least 3 instructions", l, pc, start, end);
        return -2;
    }
    for (uint32_t at = start; at < end; at += 4) {
        const uint8_t *p = guest(m, at, 4, 0);
        if (p == NULL) {
            fail(m, "hardware loop %u set up at %#" PRIx32 ": its body leaves the program", l, pc);
            return -2;
        }
        uint32_t insn = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        unsigned op = insn & 0x7f;
        if ((insn & 3) != 3 || op == 0x63 || op == 0x6f || op == 0x67 ||
            (op == 0x0b && ((insn >> 12) & 7) >= 6)) {
            fail(m, "hardware loop %u set up at %#" PRIx32 ": instruction %#010" PRIx32 " at %#" PRIx32
                 " is compressed, a branch or a jump (not allowed in a hardware loop body)", l, pc, insn, at);
            return -2;
        }
        if (at + 4 == end && !is_custom(insn)) {
            fail(m, "hardware loop %u set up at %#" PRIx32 ": its last instruction %#010" PRIx32
                 " is not a CORE-V instruction; this emulator can only loop bodies that end in one",
                 l, pc, insn);
            return -2;
        }
    }
    return 0;
}

static int hwloop(mote_uc *m, uint32_t pc, uint32_t insn) {
    unsigned funct4 = (insn >> 8) & 0xf, l = (insn >> 7) & 1, rs1 = (insn >> 15) & 31;
    uint32_t uimm = insn >> 20;
    if (pc & 3) {
        fail(m, "hardware loop instruction %#010" PRIx32 " at %#" PRIx32 " is not word aligned", insn, pc);
        return -2;
    }
    switch (funct4) {
    case 0: m->lpstart[l] = pc + (uimm << 2); return 0;   /* cv.starti */
    case 1: m->lpstart[l] = reg(m, rs1); return 0;        /* cv.start */
    case 2: m->lpend[l] = pc + (uimm << 2); return 0;     /* cv.endi */
    case 3: m->lpend[l] = reg(m, rs1); return 0;          /* cv.end */
    case 4: m->lpcount[l] = uimm; break;                  /* cv.counti */
    case 5: m->lpcount[l] = reg(m, rs1); break;           /* cv.count */
    case 6:                                               /* cv.setupi */
        m->lpstart[l] = pc + 4;
        m->lpend[l] = pc + (rs1 << 2);
        m->lpcount[l] = uimm;
        break;
    case 7:                                               /* cv.setup */
        m->lpstart[l] = pc + 4;
        m->lpend[l] = pc + (uimm << 2);
        m->lpcount[l] = reg(m, rs1);
        break;
    default: return -1;
    }
    return m->lpcount[l] ? check_loop(m, pc, l) : 0;
}

/* After the custom instruction at pc ran: the back-jump of a hardware loop it ends. */
static void hwloop_end(mote_uc *m, uint32_t pc) {
    for (unsigned l = 0; l < 2; l++) {
        if (m->lpcount[l] != 0 && pc + 4 == m->lpend[l]) {
            if (--m->lpcount[l] != 0) {
                uint32_t target = m->lpstart[l];
                uc_reg_write(m->uc, UC_RISCV_REG_PC, &target);
            }
            return;
        }
    }
}

static int execute(mote_uc *m, uint32_t pc, uint32_t insn) {
    unsigned opcode = insn & 0x7f, rd = (insn >> 7) & 31, f3 = (insn >> 12) & 7;
    unsigned rs1 = (insn >> 15) & 31, rs2 = (insn >> 20) & 31, f7 = insn >> 25;
    uint32_t a = reg(m, rs1), v;

    switch (opcode) {
    case 0x0b: /* custom-0: post-increment loads (immediate), cv.beqimm, cv.bneimm */
        if (f3 == 6 || f3 == 7) {
            int32_t imm5 = sext(rs2, 5);
            uint32_t off = (insn >> 31) << 12 | ((insn >> 7) & 1) << 11 | ((insn >> 25) & 0x3f) << 5 |
                           ((insn >> 8) & 0xf) << 1;
            int taken = (a == (uint32_t)imm5) == (f3 == 6);
            if (taken) {
                uint32_t target = pc + (uint32_t)sext(off, 13);
                uc_reg_write(m->uc, UC_RISCV_REG_PC, &target);
            }
            return 0;
        }
        if (f3 == 3) return -1; /* cv.elw */
        if (load(m, pc, a, (int)f3, &v) != 0) return -2;
        set_reg(m, rs1, a + (uint32_t)sext(insn >> 20, 12));
        set_reg(m, rd, v);
        return 0;

    case 0x2b: /* custom-1 */
        if (f3 <= 2) { /* post-increment stores (immediate) */
            if (store(m, pc, a, (int)f3, reg(m, rs2)) != 0) return -2;
            set_reg(m, rs1, a + (uint32_t)sext(f7 << 5 | rd, 12));
            return 0;
        }
        if (f3 == 4) return hwloop(m, pc, insn);
        if (f3 != 3) return -1;
        {
            uint32_t b = reg(m, rs2), d = reg(m, rd);
            if (f7 < 0x10) { /* loads: bit 2 register-register, bit 3 unsigned, bits 1:0 size */
                if ((f7 & 3) == 3 || ((f7 & 8) && (f7 & 3) == 2)) return -1;
                int kind = (int)(f7 & 3) | ((f7 & 8) ? 4 : 0);
                if (f7 & 4) {
                    if (load(m, pc, a + b, kind, &v) != 0) return -2;
                } else {
                    if (load(m, pc, a, kind, &v) != 0) return -2;
                    set_reg(m, rs1, a + b);
                }
                set_reg(m, rd, v);
                return 0;
            }
            if (f7 >= 0x10 && f7 < 0x18) { /* stores: bit 2 register-register, bits 1:0 size */
                if ((f7 & 3) == 3 || (f7 & 8)) return -1;
                if (f7 & 4) {
                    return store(m, pc, a + d, (int)(f7 & 3), b) != 0 ? -2 : 0;
                }
                if (store(m, pc, a, (int)(f7 & 3), b) != 0) return -2;
                set_reg(m, rs1, a + d);
                return 0;
            }
            switch (f7) {
            case 0x28: v = (int32_t)a < 0 ? 0u - a : a; break;                /* cv.abs */
            case 0x29: v = (int32_t)a <= (int32_t)b; break;                   /* cv.sle */
            case 0x2a: v = a <= b; break;                                     /* cv.sleu */
            case 0x2b: v = (int32_t)a < (int32_t)b ? a : b; break;            /* cv.min */
            case 0x2c: v = a < b ? a : b; break;                              /* cv.minu */
            case 0x2d: v = (int32_t)a < (int32_t)b ? b : a; break;            /* cv.max */
            case 0x2e: v = a < b ? b : a; break;                              /* cv.maxu */
            case 0x30: v = (uint32_t)sext(a, 16); break;                      /* cv.exths */
            case 0x31: v = a & 0xffffu; break;                                /* cv.exthz */
            case 0x32: v = (uint32_t)sext(a, 8); break;                       /* cv.extbs */
            case 0x33: v = a & 0xffu; break;                                  /* cv.extbz */
            case 0x38: v = clip(a, ((1u << rs2) - 1u) >> 1, 0); break;        /* cv.clip */
            case 0x39: v = clip(a, ((1u << rs2) - 1u) >> 1, 1); break;        /* cv.clipu */
            case 0x3a: v = clip(a, b & 0x7fffffffu, 0); break;                /* cv.clipr */
            case 0x3b: v = clip(a, b & 0x7fffffffu, 1); break;                /* cv.clipur */
            case 0x40: case 0x41: case 0x42: case 0x43:                       /* cv.add{u}{R}Nr */
            case 0x44: case 0x45: case 0x46: case 0x47: {                     /* cv.sub{u}{R}Nr */
                uint32_t s = (f7 & 4) ? d - a : d + a;
                if (f7 & 2) s += round_of(b);
                v = shift_right(s, b & 31, !(f7 & 1));
                break;
            }
            case 0x48: v = d + a * b; break;                                  /* cv.mac */
            case 0x49: v = d - a * b; break;                                  /* cv.msu */
            default: return -1;
            }
            set_reg(m, rd, v);
            return 0;
        }

    case 0x5b: { /* custom-2: addN/subN (f3 2/3), mul/mac 16x16 with shift (f3 4-7) */
        uint32_t b = reg(m, rs2), d = reg(m, rd);
        unsigned f2 = insn >> 30, is3 = (insn >> 25) & 31;
        if (f3 == 2 || f3 == 3) {
            uint32_t s = f3 == 2 ? a + b : a - b;
            if (f2 & 2) s += round_of(is3);
            v = shift_right(s, is3, !(f2 & 1));
        } else if (f3 >= 4) {
            int is_unsigned = f3 & 1, hh = f2 & 1, acc = f3 >= 6;
            uint32_t x = hh ? a >> 16 : a & 0xffffu, y = hh ? b >> 16 : b & 0xffffu;
            uint32_t p = is_unsigned ? x * y : (uint32_t)(sext(x, 16) * sext(y, 16));
            uint32_t s = p + (acc ? d : 0) + ((f2 & 2) ? round_of(is3) : 0);
            v = shift_right(s, is3, !is_unsigned);
        } else {
            return -1; /* xcvbitmanip */
        }
        set_reg(m, rd, v);
        return 0;
    }

    case 0x7b: { /* custom-3: SIMD */
        if (simd(insn, a, reg(m, rs2), reg(m, rd), &v) != 0) return -1;
        set_reg(m, rd, v);
        return 0;
    }

    default:
        return -1;
    }
}

/* ---- System calls ---------------------------------------------------------------------------- */

static int append(struct buffer *b, const uint8_t *p, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (d == NULL) return -1;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

static void syscall_(mote_uc *m) {
    uint32_t nr = reg(m, 17), fd = reg(m, 10), addr = reg(m, 11), n = reg(m, 12);
    int32_t ret;
    switch (nr) {
    case SYS_READ: {
        if (fd != 0) {
            ret = -EBADF_;
            break;
        }
        size_t left = m->input_len - m->input_pos;
        uint32_t k = n < left ? n : (uint32_t)left;
        uint8_t *p = k ? guest(m, addr, k, 1) : NULL;
        if (k && p == NULL) {
            ret = -EFAULT_;
            break;
        }
        if (k) memcpy(p, m->input + m->input_pos, k);
        m->input_pos += k;
        ret = (int32_t)k;
        break;
    }
    case SYS_WRITE: {
        if (fd != 1 && fd != 2) {
            ret = -EBADF_;
            break;
        }
        const uint8_t *p = n ? guest(m, addr, n, 0) : NULL;
        if (n && p == NULL) {
            ret = -EFAULT_;
            break;
        }
        if (n && append(&m->out[fd], p, n) != 0) {
            fail(m, "out of memory buffering the program's output");
            return;
        }
        ret = (int32_t)n;
        break;
    }
    case SYS_EXIT:
    case SYS_EXIT_GROUP:
        m->exited = 1;
        m->exit_status = (int)(fd & 0xff);
        uc_emu_stop(m->uc);
        return;
    default:
        ret = -ENOSYS_;
    }
    set_reg(m, 10, (uint32_t)ret);
}

static void on_interrupt(uc_engine *uc, uint32_t intno, void *user) {
    mote_uc *m = user;
    uint32_t pc = 0;
    uc_reg_read(uc, UC_RISCV_REG_PC, &pc);
    if (intno == 8 || intno == 9 || intno == 11) {
        syscall_(m);
        return;
    }
    uint32_t at = pc - 4; /* unicorn advanced the PC by 4 */
    if (intno != 2) {
        fail(m, "trap %" PRIu32 " (RISC-V exception cause) at pc %#" PRIx32, intno, at);
        return;
    }
    const uint8_t *p = guest(m, at, 2, 0);
    uint32_t insn = p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 : 0;
    if (p != NULL && (insn & 3) == 3) {
        p = guest(m, at, 4, 0);
        insn = p ? insn | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24 : 0;
    }
    if (p == NULL) {
        fail(m, "illegal instruction at %#" PRIx32 ", outside the program's memory", at);
        return;
    }
    if ((insn & 3) != 3) {
        fail(m, "illegal instruction %#06" PRIx32 " at %#" PRIx32, insn, at);
        return;
    }
    int r = execute(m, at, insn);
    if (r == -1) {
        fail(m, "illegal or unsupported instruction %#010" PRIx32 " at %#" PRIx32
             " (not a CORE-V instruction this emulator implements)", insn, at);
        return;
    }
    m->custom_executed++;
    if (r == 0) {
        hwloop_end(m, at);
    }
}

/* ---- The API used by unicorn_run.py ---------------------------------------------------------- */

mote_uc *mote_uc_new(char *err, size_t err_len) {
    mote_uc *m = calloc(1, sizeof *m);
    if (m == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    uc_err e = uc_open(UC_ARCH_RISCV, UC_MODE_RISCV32, &m->uc);
    if (e != UC_ERR_OK) {
        snprintf(err, err_len, "uc_open: %s", uc_strerror(e));
        free(m);
        return NULL;
    }
    return m;
}

/* Maps [base, base + size) (both multiples of 4 KiB) to zeroed host memory. 0 or a message. */
const char *mote_uc_map(mote_uc *m, uint32_t base, uint32_t size, int writable, int executable) {
    if (m->n_regions == MAX_REGIONS) return "too many memory regions";
    uint8_t *host = calloc(1, size);
    if (host == NULL) return "out of memory for guest memory";
    uint32_t perms = UC_PROT_READ | (writable ? UC_PROT_WRITE : 0) | (executable ? UC_PROT_EXEC : 0);
    uc_err e = uc_mem_map_ptr(m->uc, base, size, perms, host);
    if (e != UC_ERR_OK) {
        free(host);
        return uc_strerror(e);
    }
    m->regions[m->n_regions++] = (struct region){base, size, host, writable};
    return NULL;
}

/* Copies the bytes of a segment into guest memory; -1 if they are not inside one region. */
int mote_uc_load(mote_uc *m, uint32_t addr, const uint8_t *data, uint32_t n) {
    for (int i = 0; i < m->n_regions; i++) {
        struct region *r = &m->regions[i];
        if (addr >= r->base && (uint64_t)addr - r->base + n <= r->size) {
            memcpy(r->host + (addr - r->base), data, n);
            return 0;
        }
    }
    return -1;
}

/* Runs from `entry` with sp = `sp` until the program exits. count: 0 no counts, 1 count blocks
 * and edges (UC_HOOK_BLOCK), 2 the same with one block per instruction (UC_HOOK_CODE: slower;
 * the tests check that both give the same totals). Returns RUN_EXITED, RUN_FAULT (message
 * set), RUN_TIMEOUT or RUN_STOPPED. */
int mote_uc_run(mote_uc *m, uint32_t entry, uint32_t sp, const uint8_t *input, size_t input_len, int count,
                uint64_t timeout_us) {
    uc_hook h_block, h_intr;
    m->input = input;
    m->input_len = input_len;
    uc_reg_write(m->uc, UC_RISCV_REG_X2, &sp);
    m->count_edges = count != 0;
    int type = count == 2 ? UC_HOOK_CODE : UC_HOOK_BLOCK;
    void *callback = count == 2 ? (void *)on_instruction : (void *)on_block;
    if (count && uc_hook_add(m->uc, &h_block, type, callback, m, 1, 0) != UC_ERR_OK) {
        snprintf(m->message, sizeof m->message, "uc_hook_add(UC_HOOK_BLOCK/CODE) failed");
        return RUN_FAULT;
    }
    if (uc_hook_add(m->uc, &h_intr, UC_HOOK_INTR, (void *)on_interrupt, m, 1, 0) != UC_ERR_OK) {
        snprintf(m->message, sizeof m->message, "uc_hook_add(UC_HOOK_INTR) failed");
        return RUN_FAULT;
    }
    uc_err e = uc_emu_start(m->uc, entry, 0, timeout_us, 0);
    m->input = NULL;
    if (m->failed) return RUN_FAULT;
    if (m->exited) return RUN_EXITED;
    uint32_t pc = 0;
    uc_reg_read(m->uc, UC_RISCV_REG_PC, &pc);
    if (e != UC_ERR_OK) {
        snprintf(m->message, sizeof m->message, "%s at pc %#" PRIx32, uc_strerror(e), pc);
        return RUN_FAULT;
    }
    size_t timed_out = 0;
    if (uc_query(m->uc, UC_QUERY_TIMEOUT, &timed_out) == UC_ERR_OK && timed_out) return RUN_TIMEOUT;
    snprintf(m->message, sizeof m->message, "the program stopped without exiting at pc %#" PRIx32, pc);
    return RUN_STOPPED;
}

int mote_uc_exit_status(const mote_uc *m) {
    return m->exit_status;
}

const char *mote_uc_message(const mote_uc *m) {
    return m->message;
}

uint64_t mote_uc_custom_executed(const mote_uc *m) {
    return m->custom_executed;
}

/* The bytes the program wrote to fd 1 or 2. */
const uint8_t *mote_uc_output(const mote_uc *m, int fd, size_t *len) {
    if (fd != 1 && fd != 2) {
        *len = 0;
        return NULL;
    }
    *len = m->out[fd].len;
    return m->out[fd].data;
}

static size_t split_blocks(const mote_uc *m) {
    size_t n = 0;
    for (size_t i = 0; i < m->table_cap; i++) {
        n += m->table[i].used && m->table[i].tail;
    }
    return n;
}

size_t mote_uc_block_count(const mote_uc *m) {
    return m->table_used + split_blocks(m);
}

/* Entries of mote_uc_edges: cached successors plus the others (not yet merged by address). */
size_t mote_uc_edge_count(const mote_uc *m) {
    size_t n = m->edges_used + split_blocks(m);
    for (size_t i = 0; i < m->table_cap; i++) {
        n += m->table[i].used ? m->table[i].n_next : 0;
    }
    return n;
}

void mote_uc_edges(const mote_uc *m, uint32_t *from, uint32_t *to, uint64_t *count) {
    size_t k = 0;
    for (size_t i = 0; i < m->table_cap; i++) {
        const struct block *b = &m->table[i];
        if (b->used && b->tail) {
            from[k] = b->address;
            to[k] = b->tail;
            count[k++] = b->executions;
        }
        for (uint32_t j = 0; b->used && j < b->n_next; j++, k++) {
            from[k] = exit_address(b);
            to[k] = b->next[j];
            count[k] = b->next_count[j];
        }
    }
    for (size_t i = 0; i < m->edges_cap; i++) {
        if (m->edges[i].count != 0) {
            from[k] = m->edges[i].from;
            to[k] = m->edges[i].to;
            count[k] = m->edges[i].count;
            k++;
        }
    }
}

/* Fills the arrays (mote_uc_block_count entries each) in table order, split blocks as two;
 * unicorn_run.py merges and sorts. */
void mote_uc_blocks(const mote_uc *m, uint32_t *address, uint32_t *insns, uint64_t *executions) {
    size_t k = 0;
    for (size_t i = 0; i < m->table_cap; i++) {
        const struct block *b = &m->table[i];
        if (b->used) {
            address[k] = b->address;
            insns[k] = b->insns;
            executions[k] = b->executions;
            k++;
        }
        if (b->used && b->tail) {
            address[k] = b->tail;
            insns[k] = 1;
            executions[k] = b->executions;
            k++;
        }
    }
}

void mote_uc_free(mote_uc *m) {
    if (m == NULL) return;
    uc_close(m->uc);
    for (int i = 0; i < m->n_regions; i++) free(m->regions[i].host);
    free(m->table);
    free(m->edges);
    free(m->out[1].data);
    free(m->out[2].data);
    free(m);
}
