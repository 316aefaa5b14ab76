/* DWT cycle counter (ARMv7-M Data Watchpoint and Trace unit), for latency on
 * real boards. QEMU does not model the DWT: there CYCCNT reads 0 (the
 * firmware prints it anyway; count instructions with a TCG plugin instead).
 */
#ifndef MCUNET_FIRMWARE_DWT_H_
#define MCUNET_FIRMWARE_DWT_H_

#include <stdint.h>

#define DWT_DEMCR (*(volatile uint32_t*)0xE000EDFCu) /* CoreDebug->DEMCR */
#define DWT_CTRL (*(volatile uint32_t*)0xE0001000u)
#define DWT_CYCCNT (*(volatile uint32_t*)0xE0001004u)
#define DWT_LAR (*(volatile uint32_t*)0xE0001FB0u) /* lock access (Cortex-M7) */

/* Enables trace (DEMCR.TRCENA), unlocks the DWT, zeroes and starts CYCCNT. */
static inline void dwt_start(void) {
  DWT_DEMCR |= 1u << 24;
  DWT_LAR = 0xC5ACCE55u;
  DWT_CYCCNT = 0u;
  DWT_CTRL |= 1u; /* CYCCNTENA */
}

static inline uint32_t dwt_cycles(void) { return DWT_CYCCNT; }

#endif /* MCUNET_FIRMWARE_DWT_H_ */
