/* QEMU TCG plugin: counts executed guest instructions per function, between
 * two marker functions (the firmware's fw_count_begin / fw_count_end).
 *
 * Debian's qemu-system-arm 7.2 supports -plugin but packages no
 * qemu-plugin.h, so the few API types and prototypes used here are declared
 * below, as in QEMU 7.2's include/qemu/qemu-plugin.h.
 *
 *   qemu-system-arm ... -plugin insn_count.so,ranges=FILE,out=FILE
 *
 * ranges: text file, one function per line "START END NAME" (hex addresses,
 * END exclusive; from arm-none-eabi-nm -S). Lines named "@begin" / "@end"
 * give the marker functions. Each translated block adds, at its start, its
 * instruction count per function to that function's counter (inline, no
 * helper call); instructions outside every range go to "?". On entry to
 * @begin the counters are snapshotted; on entry to @end the difference is
 * added to the window totals. out: "windows N", then "total N" and "NAME N"
 * per function with a non-zero count, summed over all windows.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t; /* not read */
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb* tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void* userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void* userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb* tb);
struct qemu_plugin_insn* qemu_plugin_tb_get_insn(const struct qemu_plugin_tb* tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn* insn);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb* tb, enum qemu_plugin_op op, void* ptr,
                                              uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn* insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void* userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void* userdata);
void qemu_plugin_outs(const char* string);

#define EXPORT __attribute__((visibility("default")))
EXPORT int qemu_plugin_version = 1; /* QEMU_PLUGIN_VERSION of 7.2 */

#define MAX_FUNCS 4096
typedef struct { uint64_t start, end; char name[96]; } Func;
static Func funcs[MAX_FUNCS + 1]; /* funcs[n_funcs] is "?" */
static int n_funcs;
static uint64_t counts[MAX_FUNCS + 1], snapshot[MAX_FUNCS + 1], window[MAX_FUNCS + 1];
static uint64_t begin_addr = 1, end_addr = 1, windows;
static char out_path[1024];

static int find_func(uint64_t pc) { /* binary search; funcs sorted by start */
  int lo = 0, hi = n_funcs - 1;
  while (lo <= hi) {
    const int mid = (lo + hi) / 2;
    if (pc < funcs[mid].start) hi = mid - 1;
    else if (pc >= funcs[mid].end) lo = mid + 1;
    else return mid;
  }
  return n_funcs;
}

static void on_begin(unsigned int vcpu, void* u) { (void)vcpu; (void)u; memcpy(snapshot, counts, sizeof counts); }
static void on_end(unsigned int vcpu, void* u) {
  int i;
  (void)vcpu; (void)u;
  for (i = 0; i <= n_funcs; ++i) window[i] += counts[i] - snapshot[i];
  ++windows;
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb* tb) {
  const size_t n = qemu_plugin_tb_n_insns(tb);
  size_t i = 0;
  (void)id;
  while (i < n) { /* one inline add per run of instructions in one function */
    struct qemu_plugin_insn* insn = qemu_plugin_tb_get_insn(tb, i);
    const uint64_t pc = qemu_plugin_insn_vaddr(insn);
    const int f = find_func(pc);
    size_t j = i + 1;
    if (pc == begin_addr) qemu_plugin_register_vcpu_insn_exec_cb(insn, on_begin, QEMU_PLUGIN_CB_NO_REGS, NULL);
    if (pc == end_addr) qemu_plugin_register_vcpu_insn_exec_cb(insn, on_end, QEMU_PLUGIN_CB_NO_REGS, NULL);
    while (j < n && find_func(qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, j))) == f) ++j;
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &counts[f], (uint64_t)(j - i));
    i = j;
  }
}

static void at_exit(qemu_plugin_id_t id, void* u) {
  FILE* f = out_path[0] ? fopen(out_path, "w") : NULL;
  uint64_t total = 0;
  char line[160];
  int i;
  (void)id; (void)u;
  for (i = 0; i <= n_funcs; ++i) total += window[i];
  snprintf(line, sizeof line, "windows %llu\ntotal %llu\n", (unsigned long long)windows, (unsigned long long)total);
  if (f) fputs(line, f); else qemu_plugin_outs(line);
  for (i = 0; i <= n_funcs; ++i) {
    if (window[i] == 0) continue;
    snprintf(line, sizeof line, "%s %llu\n", funcs[i].name, (unsigned long long)window[i]);
    if (f) fputs(line, f); else qemu_plugin_outs(line);
  }
  if (f) fclose(f);
}

static int by_start(const void* a, const void* b) {
  const Func* x = (const Func*)a;
  const Func* y = (const Func*)b;
  return x->start < y->start ? -1 : x->start > y->start;
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t* info, int argc, char** argv) {
  int i;
  (void)info;
  for (i = 0; i < argc; ++i) {
    if (strncmp(argv[i], "out=", 4) == 0) {
      snprintf(out_path, sizeof out_path, "%s", argv[i] + 4);
    } else if (strncmp(argv[i], "ranges=", 7) == 0) {
      FILE* f = fopen(argv[i] + 7, "r");
      unsigned long long s, e;
      char name[96];
      if (!f) { fprintf(stderr, "insn_count: cannot read %s\n", argv[i] + 7); return -1; }
      while (fscanf(f, "%llx %llx %95s", &s, &e, name) == 3) {
        if (strcmp(name, "@begin") == 0) {
          begin_addr = s;
        } else if (strcmp(name, "@end") == 0) {
          end_addr = s;
        } else if (n_funcs < MAX_FUNCS && e > s) {
          funcs[n_funcs].start = s; funcs[n_funcs].end = e;
          snprintf(funcs[n_funcs].name, sizeof funcs[n_funcs].name, "%s", name);
          ++n_funcs;
        }
      }
      fclose(f);
    } else {
      fprintf(stderr, "insn_count: unknown argument '%s' (expected ranges=FILE, out=FILE)\n", argv[i]);
      return -1;
    }
  }
  qsort(funcs, (size_t)n_funcs, sizeof funcs[0], by_start);
  snprintf(funcs[n_funcs].name, sizeof funcs[n_funcs].name, "?");
  qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
  qemu_plugin_register_atexit_cb(id, at_exit, NULL);
  return 0;
}
