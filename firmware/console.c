/* Line-buffered console over semihosting or ITM (see console.h). */
#include "console.h"

#include "semihost.h"

#define CON_LINE 160

static char con_buf[CON_LINE + 2];
static uint32_t con_len;

#if defined(FW_CONSOLE_ITM)
#define ITM_STIM0 (*(volatile uint32_t*)0xE0000000u)
#define ITM_TER (*(volatile uint32_t*)0xE0000E00u)
#define ITM_TCR (*(volatile uint32_t*)0xE0000E80u)
static void backend_write(const char* s) {
  /* Only when a debugger enabled ITM and stimulus port 0. */
  if ((ITM_TCR & 1u) == 0u || (ITM_TER & 1u) == 0u) return;
  while (*s) {
    while ((ITM_STIM0 & 1u) == 0u) {
    }
    *(volatile uint8_t*)&ITM_STIM0 = (uint8_t)*s++;
  }
}
#else
static void backend_write(const char* s) { sh_write0(s); }
#endif

static void con_flush(void) {
  if (con_len == 0) return;
  con_buf[con_len] = '\0';
  backend_write(con_buf);
  con_len = 0;
}

static void con_putc(char c) {
  con_buf[con_len++] = c;
  if (c == '\n' || con_len >= CON_LINE) con_flush();
}

void con_puts(const char* s) {
  while (*s) con_putc(*s++);
}

void con_put_uint(uint32_t v) {
  char digits[10];
  int n = 0;
  do {
    digits[n++] = (char)('0' + v % 10u);
    v /= 10u;
  } while (v != 0u);
  while (n > 0) con_putc(digits[--n]);
}

void con_put_int(int32_t v) {
  if (v < 0) {
    con_putc('-');
    con_put_uint(0u - (uint32_t)v);
  } else {
    con_put_uint((uint32_t)v);
  }
}

void con_put_hex(uint32_t v) {
  static const char hex[] = "0123456789abcdef";
  int i;
  con_puts("0x");
  for (i = 7; i >= 0; --i) con_putc(hex[(v >> (4 * i)) & 0xFu]);
}

void con_newline(void) { con_putc('\n'); }

void con_kv_uint(const char* key, uint32_t v) {
  con_puts(key);
  con_putc(' ');
  con_put_uint(v);
  con_newline();
}

void con_kv_str(const char* key, const char* v) {
  con_puts(key);
  con_putc(' ');
  con_puts(v);
  con_newline();
}

void fw_exit(int32_t status) {
  con_flush();
#if defined(FW_CONSOLE_ITM)
  con_puts("exit ");
  con_put_int(status);
  con_newline();
  for (;;) {
    __asm__ volatile("wfi");
  }
#else
  sh_exit(status);
#endif
}
