/* Console of the firmware: line-buffered text to the host.
 *
 * Backend chosen at build time (MCUNET_CONSOLE in firmware/CMakeLists.txt):
 *   semihost (default; QEMU, or a board under a debugger with semihosting)
 *   itm      ITM stimulus port 0 (SWO) on a real board; characters are
 *            dropped while no debugger enabled the port. fw_exit then
 *            prints the status and sleeps forever.
 * No printf: explicit helpers for strings and integers keep the firmware
 * free of libc beyond memcpy/memset.
 */
#ifndef MCUNET_FIRMWARE_CONSOLE_H_
#define MCUNET_FIRMWARE_CONSOLE_H_

#include <stdint.h>

void con_puts(const char* s);
void con_put_int(int32_t v);
void con_put_uint(uint32_t v);
void con_put_hex(uint32_t v); /* 0x%08x */
void con_newline(void);       /* ends the line and flushes it */
/* "key value\n" */
void con_kv_uint(const char* key, uint32_t v);
void con_kv_str(const char* key, const char* v);

/* Flushes the console and ends the program with `status`. */
void fw_exit(int32_t status) __attribute__((noreturn));

#endif /* MCUNET_FIRMWARE_CONSOLE_H_ */
