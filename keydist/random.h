#ifndef MISSIVE_RANDOM_H
#define MISSIVE_RANDOM_H

#include <stddef.h>

/* Fill buf with len bytes from the OS CSPRNG (getrandom). 0 or E_INTERNAL. */
int kd_random(void *buf, size_t len) __attribute__((warn_unused_result));

#endif
