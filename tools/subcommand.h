/*
 * What the mains of the admin tools (missive-admin, missive-keys) share: the
 * start of the command line, "[-c CONFIG] COMMAND", and the command table,
 * one entry a command, found by name, the usage text made from it.
 */
#ifndef MISSIVE_SUBCOMMAND_H
#define MISSIVE_SUBCOMMAND_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

struct subcommand {
	const char *name;
	/* argc, argv: the operands after the command and its options. */
	int (*fn)(int argc, char *argv[]);
	const char *args;		/* its options and operands, for usage */
	const char *description;	/* what it does, in one line */
};

/*
 * The start of a tool's command line, "[-c CONFIG] COMMAND": -c into
 * *config, and the command's name, with optind just past it; NULL on a
 * usage error.  longopts: the tool's (refused before the command).
 */
const char *subcommand_start(int argc, char *argv[],
    const struct option *longopts, const char **config);

/* The entry called name of table[0..n), or NULL. */
const struct subcommand *subcommand_find(const struct subcommand *table,
    size_t n, const char *name);

/*
 * Print "usage: PROG SYNOPSIS" to f, then each command of table[0..n): its
 * name and args, and its description on the next line.
 */
void subcommand_usage(FILE *f, const char *prog, const char *synopsis,
    const struct subcommand *table, size_t n);

#endif
