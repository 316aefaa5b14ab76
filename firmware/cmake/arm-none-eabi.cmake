# CMake toolchain file: bare-metal Arm Cortex-M with Debian's GNU Arm
# Embedded toolchain (packages gcc-arm-none-eabi, libnewlib-arm-none-eabi).
# CPU flags are per target and live in firmware/CMakeLists.txt.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

find_program(MCUNET_ARM_GCC arm-none-eabi-gcc)
if(NOT MCUNET_ARM_GCC)
  message(FATAL_ERROR
    "mcunet firmware: arm-none-eabi-gcc not found. Install the Debian packages "
    "gcc-arm-none-eabi and libnewlib-arm-none-eabi "
    "(apt-get install --no-install-recommends gcc-arm-none-eabi libnewlib-arm-none-eabi).")
endif()
get_filename_component(MCUNET_ARM_BIN ${MCUNET_ARM_GCC} DIRECTORY)

set(CMAKE_C_COMPILER ${MCUNET_ARM_BIN}/arm-none-eabi-gcc)
set(CMAKE_ASM_COMPILER ${MCUNET_ARM_BIN}/arm-none-eabi-gcc)
set(CMAKE_OBJCOPY ${MCUNET_ARM_BIN}/arm-none-eabi-objcopy CACHE FILEPATH "objcopy")
set(CMAKE_SIZE ${MCUNET_ARM_BIN}/arm-none-eabi-size CACHE FILEPATH "size")

# No host libraries or programs: the compiler check links a static library.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
