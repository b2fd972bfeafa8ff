/* mote_icount.c: a QEMU TCG plugin that counts executed guest instructions exactly, per
 * translation block, for `mote run` on emulated targets (compiler/backend/run.py).
 *
 * Every translated block gets a record {start address, instructions, executions} and an inline
 * counter that adds 1 to `executions` each time the block runs (no callback, so it costs little).
 * At exit the plugin writes one line `start_address n_insns executions` (hex address, decimal
 * counts) per block that ran, merging retranslations of the same block, to the file named by
 * the `out=FILE` argument, or through qemu_plugin_outs (shown with `-d plugin`) without one.
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
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op, void *ptr,
                                              uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_outs(const char *string);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

struct block {
    uint64_t vaddr;
    uint64_t n_insns;
    uint64_t executions;
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
}

static int by_block(const void *a, const void *b) {
    const struct block *x = a, *y = b;
    if (x->vaddr != y->vaddr) {
        return x->vaddr < y->vaddr ? -1 : 1;
    }
    return x->n_insns < y->n_insns ? -1 : x->n_insns > y->n_insns;
}

static void on_exit(qemu_plugin_id_t id, void *userdata) {
    (void)id;
    (void)userdata;
    size_t n = 0;
    for (struct chunk *c = chunks; c != NULL; c = c->next) {
        n += c->used;
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

    FILE *f = out_path != NULL ? fopen(out_path, "w") : NULL;
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
        if (f != NULL) {
            fputs(line, f);
        } else {
            qemu_plugin_outs(line);
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    free(all);
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                                               int argc, char **argv) {
    (void)info;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "out=", 4) == 0) {
            size_t len = strlen(argv[i] + 4) + 1;
            out_path = malloc(len);
            if (out_path == NULL) {
                return -1;
            }
            memcpy(out_path, argv[i] + 4, len);
        } else {
            fprintf(stderr, "mote_icount: unknown argument '%s' (expected out=FILE)\n", argv[i]);
            return -1;
        }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_exit, NULL);
    return 0;
}
