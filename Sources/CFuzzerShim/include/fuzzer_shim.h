#ifndef ORDERDESK_FUZZER_SHIM_H
#define ORDERDESK_FUZZER_SHIM_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver, weak so that ordinary builds (without -sanitize=fuzzer) still link;
/// it is non-null only in a fuzzing build.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size)) __attribute__((weak));

/// True when the binary was linked with libFuzzer.
static inline int orderdesk_has_fuzzer(void) { return LLVMFuzzerRunDriver != NULL; }

#endif
