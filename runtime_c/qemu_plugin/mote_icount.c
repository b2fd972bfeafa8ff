/* mote_icount.c: a QEMU TCG plugin that counts executed guest instructions exactly, per
 * translation block, and optionally which block followed which (edge counts), for `mote run`
 * on emulated targets (compiler/backend/run.py, compiler/backend/cycle_model.py).
 *
 * Every translated block gets a record {start address, instructions, executions} and an inline
 * counter that adds 1 to `executions` each time the block runs (no callback, so it costs little).
 * At exit the plugin writes one line `start_address n_insns executions` (hex address, decimal
 * counts) per block that ran, merging retranslations of the same block, to the file named by
 * the `out=FILE` argument, or through qemu_plugin_outs (shown with `-d plugin`) without one.
 *
 * With `edges=FILE` each block also gets an execution callback that remembers the block that
 * ran before it and counts the pair (previous block -> this block). A block's first two
 * distinct successors are counted in its own record (a conditional branch has two: taken and
 * fall-through); further ones (returns, indirect jumps) in a hash table. At exit FILE gets one
 * line `source_address target_address count` (hex, hex, decimal) per distinct pair of start
 * addresses. One vCPU is assumed (qemu-riscv32 runs mote's single-threaded programs).
 *
 * Debian ships QEMU's plugin API in the binaries but not qemu-plugin.h, so the few prototypes
 * used are declared here, as in QEMU 7.2's API (plugin API version 1). */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
typedef struct qemu_info_t qemu_info_t;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op, void *ptr,
                                              uint64_t imm);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_outs(const char *string);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

struct block {
    uint64_t vaddr;
    uint64_t n_insns;
    uint64_t executions;
    /* Edge mode only: the first two distinct successor records and how often each followed. */
    struct block *next[2];
    uint64_t next_count[2];
};

/* Records never move once handed to QEMU as inline-counter addresses: chunks are only added. */
#define CHUNK_BLOCKS 4096
struct chunk {
    struct chunk *next;
    size_t used;
    struct block blocks[CHUNK_BLOCKS];
};

static struct chunk *chunks;
static char *out_path;
static char *edges_path;

/* Successors beyond a block's first two: open addressing on (from, to), grown at half load. */
struct edge {
    struct block *from;
    struct block *to;
    uint64_t count;
};
static struct edge *extra;
static size_t extra_size; /* a power of two, or 0 */
static size_t extra_used;
static struct block *previous;

static size_t edge_slot(const struct edge *table, size_t size, const struct block *from,
                        const struct block *to) {
    uintptr_t h = ((uintptr_t)from >> 4) * 0x9E3779B1u ^ ((uintptr_t)to >> 4) * 0x85EBCA77u;
    size_t i = (size_t)(h ^ (h >> 15)) & (size - 1);
    while (table[i].from != NULL && (table[i].from != from || table[i].to != to)) {
        i = (i + 1) & (size - 1);
    }
    return i;
}

static void count_extra_edge(struct block *from, struct block *to) {
    if (2 * (extra_used + 1) > extra_size) {
        size_t size = extra_size ? 2 * extra_size : 1024;
        struct edge *table = calloc(size, sizeof *table);
        if (table == NULL) {
            abort();
        }
        for (size_t i = 0; i < extra_size; i++) {
            if (extra[i].from != NULL) {
                table[edge_slot(table, size, extra[i].from, extra[i].to)] = extra[i];
            }
        }
        free(extra);
        extra = table;
        extra_size = size;
    }
    struct edge *e = &extra[edge_slot(extra, extra_size, from, to)];
    if (e->from == NULL) {
        e->from = from;
        e->to = to;
        extra_used++;
    }
    e->count++;
}

static void on_execute(unsigned int vcpu_index, void *userdata) {
    (void)vcpu_index;
    struct block *b = userdata, *p = previous;
    previous = b;
    if (p == NULL) {
        return;
    }
    for (int k = 0; k < 2; k++) {
        if (p->next[k] == b) {
            p->next_count[k]++;
            return;
        }
        if (p->next[k] == NULL) {
            p->next[k] = b;
            p->next_count[k] = 1;
            return;
        }
    }
    count_extra_edge(p, b);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    if (chunks == NULL || chunks->used == CHUNK_BLOCKS) {
        struct chunk *c = calloc(1, sizeof *c);
        if (c == NULL) {
            abort();
        }
        c->next = chunks;
        chunks = c;
    }
    struct block *b = &chunks->blocks[chunks->used++];
    b->vaddr = qemu_plugin_tb_vaddr(tb);
    b->n_insns = qemu_plugin_tb_n_insns(tb);
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &b->executions, 1);
    if (edges_path != NULL) {
        qemu_plugin_register_vcpu_tb_exec_cb(tb, on_execute, QEMU_PLUGIN_CB_NO_REGS, b);
    }
}

static int by_block(const void *a, const void *b) {
    const struct block *x = a, *y = b;
    if (x->vaddr != y->vaddr) {
        return x->vaddr < y->vaddr ? -1 : 1;
    }
    return x->n_insns < y->n_insns ? -1 : x->n_insns > y->n_insns;
}

/* Edges by start addresses, for sorting and merging retranslated records. */
struct address_edge {
    uint64_t from;
    uint64_t to;
    uint64_t count;
};

static int by_edge(const void *a, const void *b) {
    const struct address_edge *x = a, *y = b;
    if (x->from != y->from) {
        return x->from < y->from ? -1 : 1;
    }
    return x->to < y->to ? -1 : x->to > y->to;
}

static FILE *open_output(const char *path) {
    FILE *f = path != NULL ? fopen(path, "w") : NULL;
    if (path != NULL && f == NULL) {
        fprintf(stderr, "mote_icount: cannot write %s\n", path);
    }
    return f;
}

static void emit(FILE *f, const char *line) {
    if (f != NULL) {
        fputs(line, f);
    } else {
        qemu_plugin_outs(line);
    }
}

static void write_edges(void) {
    size_t n = extra_used;
    for (struct chunk *c = chunks; c != NULL; c = c->next) {
        for (size_t i = 0; i < c->used; i++) {
            n += (c->blocks[i].next[0] != NULL) + (c->blocks[i].next[1] != NULL);
        }
    }
    struct address_edge *all = malloc((n + 1) * sizeof *all);
    if (all == NULL) {
        abort();
    }
    size_t k = 0;
    for (struct chunk *c = chunks; c != NULL; c = c->next) {
        for (size_t i = 0; i < c->used; i++) {
            const struct block *b = &c->blocks[i];
            for (int s = 0; s < 2 && b->next[s] != NULL; s++) {
                all[k++] = (struct address_edge){b->vaddr, b->next[s]->vaddr, b->next_count[s]};
            }
        }
    }
    for (size_t i = 0; i < extra_size; i++) {
        if (extra[i].from != NULL) {
            all[k++] = (struct address_edge){extra[i].from->vaddr, extra[i].to->vaddr, extra[i].count};
        }
    }
    qsort(all, n, sizeof *all, by_edge);

    FILE *f = open_output(edges_path);
    char line[96];
    for (size_t i = 0; i < n; i++) {
        uint64_t count = all[i].count;
        while (i + 1 < n && all[i + 1].from == all[i].from && all[i + 1].to == all[i].to) {
            count += all[++i].count;
        }
        snprintf(line, sizeof line, "%" PRIx64 " %" PRIx64 " %" PRIu64 "\n", all[i].from, all[i].to, count);
        emit(f, line);
    }
    if (f != NULL) {
        fclose(f);
    }
    free(all);
}

static void on_exit(qemu_plugin_id_t id, void *userdata) {
    (void)id;
    (void)userdata;
    size_t n = 0;
    for (struct chunk *c = chunks; c != NULL; c = c->next) {
        n += c->used;
    }
    if (edges_path != NULL) {
        write_edges(); /* before the records are copied and sorted: edges point at them */
    }
    struct block *all = malloc((n + 1) * sizeof *all);
    if (all == NULL) {
        abort();
    }
    size_t k = 0;
    for (struct chunk *c = chunks; c != NULL; c = c->next) {
        memcpy(all + k, c->blocks, c->used * sizeof *all);
        k += c->used;
    }
    qsort(all, n, sizeof *all, by_block);

    FILE *f = open_output(out_path);
    char line[96];
    for (size_t i = 0; i < n; i++) {
        uint64_t executions = all[i].executions;
        while (i + 1 < n && all[i + 1].vaddr == all[i].vaddr && all[i + 1].n_insns == all[i].n_insns) {
            executions += all[++i].executions;
        }
        if (executions == 0) {
            continue;
        }
        snprintf(line, sizeof line, "%" PRIx64 " %" PRIu64 " %" PRIu64 "\n", all[i].vaddr, all[i].n_insns,
                 executions);
        emit(f, line);
    }
    if (f != NULL) {
        fclose(f);
    }
    free(all);
}

static char *copy_argument(const char *value) {
    size_t len = strlen(value) + 1;
    char *s = malloc(len);
    if (s != NULL) {
        memcpy(s, value, len);
    }
    return s;
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                                               int argc, char **argv) {
    (void)info;
    for (int i = 0; i < argc; i++) {
        char **slot = strncmp(argv[i], "out=", 4) == 0     ? &out_path
                      : strncmp(argv[i], "edges=", 6) == 0 ? &edges_path
                                                           : NULL;
        if (slot == NULL) {
            fprintf(stderr, "mote_icount: unknown argument '%s' (expected out=FILE or edges=FILE)\n", argv[i]);
            return -1;
        }
        *slot = copy_argument(strchr(argv[i], '=') + 1);
        if (*slot == NULL) {
            return -1;
        }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_exit, NULL);
    return 0;
}
