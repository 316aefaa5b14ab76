/* ARM semihosting calls (see semihost.h). */
#include "semihost.h"

int32_t sh_call(int32_t op, const void* arg) {
  register int32_t r0 __asm__("r0") = op;
  register const void* r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void sh_writec(char c) { (void)sh_call(SH_SYS_WRITEC, &c); }

void sh_write0(const char* s) { (void)sh_call(SH_SYS_WRITE0, s); }

void sh_exit(int32_t status) {
  const uint32_t block[2] = {SH_ADP_STOPPED_APPLICATION_EXIT, (uint32_t)status};
  (void)sh_call(SH_SYS_EXIT_EXTENDED, block);
  /* A host without SYS_EXIT_EXTENDED: plain SYS_EXIT (status 0 or 1 only). */
  (void)sh_call(SH_SYS_EXIT, (const void*)(uintptr_t)(status == 0 ? SH_ADP_STOPPED_APPLICATION_EXIT : 0x20023));
  for (;;) {
    __asm__ volatile("wfi");
  }
}
