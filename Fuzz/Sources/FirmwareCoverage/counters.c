#include "FirmwareCoverage.h"

// libFuzzer's extra counters: its runtime walks __start/__stop___libfuzzer_extra_counters.
__attribute__((section("__libfuzzer_extra_counters"), used))
uint8_t eric_firmware_counters[eric_firmware_counter_count];
