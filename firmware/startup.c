/* mcunet firmware start-up: vector table and Reset_Handler for every target
 * (STM32F412/F746/F765/H743 and QEMU's mps2-an386/an500). No vendor HAL.
 *
 * Reset_Handler: enable the FPU (CPACR CP10/CP11 full access) before any
 * floating-point instruction can run, point VTOR at our table, copy .data
 * from Flash, zero .bss and the model's SRAM block (arena, scratch, guards),
 * enable the Cortex-M7 caches on real boards (FW_ENABLE_CACHES), call main,
 * and leave with main's status (semihosting exit under QEMU / a debugger).
 *
 * Clocks are left at reset (HSI): latency on real boards is measured in
 * DWT cycles, not seconds.
 *
 * The fault handlers print the fault status registers and the stacked PC
 * and exit with status 3, so a crash under QEMU is a readable failure, not a
 * hang.
 */
#include <stdint.h>

#include "console.h"

extern int main(void);

/* Linker-script symbols (ld/common.ld). */
extern uint32_t __mcunet_stack_top[], __mcunet_stack_bottom[];
extern uint32_t __mcunet_data_start[], __mcunet_data_end[], __mcunet_data_load[];
extern uint32_t __mcunet_bss_start[], __mcunet_bss_end[];
extern uint32_t __mcunet_guard0[], __mcunet_sram_end[];

#define SCB_VTOR (*(volatile uint32_t*)0xE000ED08u)
#define SCB_CPACR (*(volatile uint32_t*)0xE000ED88u)
#define SCB_CFSR (*(volatile uint32_t*)0xE000ED28u)
#define SCB_HFSR (*(volatile uint32_t*)0xE000ED2Cu)
#define SCB_MMFAR (*(volatile uint32_t*)0xE000ED34u)
#define SCB_BFAR (*(volatile uint32_t*)0xE000ED38u)

typedef void (*fw_vector)(void);
extern const fw_vector fw_vectors[16];

void Reset_Handler(void) __attribute__((noreturn, section(".text.Reset_Handler")));
void Default_Handler(void);
void HardFault_Handler(void) __attribute__((naked));
void fw_fault_report(const uint32_t* frame, uint32_t kind);

static void zero_words(uint32_t* p, const uint32_t* end) {
  while (p < end) *p++ = 0;
}

#if defined(FW_ENABLE_CACHES)
/* Cortex-M7 L1 caches (ARMv7-M ARM B2.2.7; the CMSIS SCB_EnableICache /
 * SCB_EnableDCache sequences). */
#define SCB_CCR (*(volatile uint32_t*)0xE000ED14u)
#define SCB_CCSIDR (*(volatile uint32_t*)0xE000ED80u)
#define SCB_CSSELR (*(volatile uint32_t*)0xE000ED84u)
#define SCB_ICIALLU (*(volatile uint32_t*)0xE000EF50u)
#define SCB_DCISW (*(volatile uint32_t*)0xE000EF60u)
static void enable_caches(void) {
  uint32_t ccsidr, sets, ways;
  __asm__ volatile("dsb\n isb" ::: "memory");
  SCB_ICIALLU = 0;
  __asm__ volatile("dsb\n isb" ::: "memory");
  SCB_CCR |= 1u << 17; /* IC */
  __asm__ volatile("dsb\n isb" ::: "memory");

  SCB_CSSELR = 0; /* level 1 data cache */
  __asm__ volatile("dsb" ::: "memory");
  ccsidr = SCB_CCSIDR;
  sets = (ccsidr >> 13) & 0x7FFFu;
  do {
    ways = (ccsidr >> 3) & 0x3FFu;
    do {
      SCB_DCISW = ((sets & 0x1FFu) << 5) | ((ways & 0x3u) << 30);
    } while (ways-- != 0u);
  } while (sets-- != 0u);
  __asm__ volatile("dsb" ::: "memory");
  SCB_CCR |= 1u << 16; /* DC */
  __asm__ volatile("dsb\n isb" ::: "memory");
}
#endif

void Reset_Handler(void) {
  uint32_t* src;
  uint32_t* dst;
  int status;

#if defined(__ARM_FP)
  /* CP10 and CP11 full access; must precede any FP instruction. */
  SCB_CPACR |= 0xFu << 20;
  __asm__ volatile("dsb\n isb" ::: "memory");
#endif
  SCB_VTOR = (uint32_t)(uintptr_t)fw_vectors;

  src = __mcunet_data_load;
  dst = __mcunet_data_start;
  while (dst < __mcunet_data_end) *dst++ = *src++;
  zero_words(__mcunet_bss_start, __mcunet_bss_end);
  zero_words(__mcunet_guard0, __mcunet_sram_end);

#if defined(FW_ENABLE_CACHES)
  enable_caches();
#endif

  status = main();
  fw_exit(status);
}

/* ---- Faults -------------------------------------------------------------- */

void fw_fault_report(const uint32_t* frame, uint32_t kind) {
  con_puts("mcunet firmware: FAULT ");
  con_puts(kind == 3 ? "HardFault" : "exception");
  con_puts(" pc=");
  con_put_hex(frame[6]);
  con_puts(" lr=");
  con_put_hex(frame[5]);
  con_puts(" cfsr=");
  con_put_hex(SCB_CFSR);
  con_puts(" hfsr=");
  con_put_hex(SCB_HFSR);
  con_puts(" mmfar=");
  con_put_hex(SCB_MMFAR);
  con_puts(" bfar=");
  con_put_hex(SCB_BFAR);
  if ((uintptr_t)frame < (uintptr_t)__mcunet_stack_bottom + 32u) {
    con_puts(" (stack overflow: raise MCUNET_STACK_BYTES / --stack-bytes)");
  }
  con_newline();
  fw_exit(3);
}

/* Picks the stack the exception frame was pushed on (EXC_RETURN bit 2),
 * then restarts MSP at the top of the stack region so that the report runs
 * even after a stack overflow (the program ends there anyway). */
void HardFault_Handler(void) {
  __asm__ volatile(
      "tst lr, #4\n"
      "ite eq\n"
      "mrseq r0, msp\n"
      "mrsne r0, psp\n"
      "mrs r1, ipsr\n"
      "ldr r2, =__mcunet_stack_top\n"
      "msr msp, r2\n"
      "isb\n"
      "b fw_fault_report\n");
}

void Default_Handler(void) {
  con_puts("mcunet firmware: unexpected exception");
  con_newline();
  fw_exit(4);
}

/* ---- Vector table ---------------------------------------------------------- */
/* The 16 Cortex-M system vectors; no peripheral interrupt is enabled. */
__attribute__((section(".isr_vector"), used)) const fw_vector fw_vectors[16] = {
    (fw_vector)(uintptr_t)__mcunet_stack_top, /* initial MSP */
    Reset_Handler,
    Default_Handler,   /* NMI */
    HardFault_Handler, /* HardFault */
    HardFault_Handler, /* MemManage */
    HardFault_Handler, /* BusFault */
    HardFault_Handler, /* UsageFault */
    0,
    0,
    0,
    0,
    Default_Handler, /* SVCall */
    Default_Handler, /* DebugMonitor */
    0,
    Default_Handler, /* PendSV */
    Default_Handler, /* SysTick */
};
