// Counters libFuzzer reads after each input besides its own: the built-in firmware's
// instructions that ran (one byte per instruction word, folded into the array). libFuzzer
// finds them by their section's name and clears them before each input.
#include <stdint.h>

enum { eric_firmware_counter_count = 1 << 14 };
extern uint8_t eric_firmware_counters[eric_firmware_counter_count];

// Swift sees a C array as a tuple: it writes through this pointer instead.
static inline uint8_t *eric_firmware_counters_start(void) { return eric_firmware_counters; }
