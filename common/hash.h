/*
 * FNV-1a, 64 bits: the hash of the in-memory tables (the server's rooms,
 * throttle keys and logged-in users, the client's known_keys users).
 * Nothing on disk or on the wire depends on its values.
 */
#ifndef MISSIVE_HASH_H
#define MISSIVE_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t fnv1a64(const void *p, size_t len);

#endif
