// A cache prefetch hint, which Swift has no intrinsic for.
#ifndef ERIC_CPREFETCH_H
#define ERIC_CPREFETCH_H
static inline void eric_prefetch(const void *address) { __builtin_prefetch(address, 0, 0); }
#endif
