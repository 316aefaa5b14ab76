/* ARM semihosting (the "Angel" interface, trap BKPT 0xAB on M-profile): the
 * host-side console and exit status of the firmware under QEMU
 * (-semihosting-config enable=on,target=native) or under a debugger with
 * semihosting enabled (OpenOCD: `arm semihosting enable`).
 *
 * On a real board WITHOUT a debugger a semihosting call is a HardFault:
 * build those with MCUNET_CONSOLE=itm (console.h) instead.
 */
#ifndef MCUNET_FIRMWARE_SEMIHOST_H_
#define MCUNET_FIRMWARE_SEMIHOST_H_

#include <stdint.h>

#define SH_SYS_WRITEC 0x03
#define SH_SYS_WRITE0 0x04
#define SH_SYS_EXIT 0x18
#define SH_SYS_EXIT_EXTENDED 0x20
#define SH_ADP_STOPPED_APPLICATION_EXIT 0x20026

/* The raw call: r0 = operation, r1 = parameter block; returns r0. */
int32_t sh_call(int32_t op, const void* arg);

/* Writes one character / a NUL-terminated string to the host console. */
void sh_writec(char c);
void sh_write0(const char* s);

/* Ends the program with `status` as the host process's exit status
 * (SYS_EXIT_EXTENDED with reason ADP_Stopped_ApplicationExit; QEMU 7.2
 * exits with the subcode). Does not return. */
void sh_exit(int32_t status) __attribute__((noreturn));

#endif /* MCUNET_FIRMWARE_SEMIHOST_H_ */
