#include "tools/subcommand.h"

#include <string.h>

const char *
subcommand_start(int argc, char *argv[], const struct option *longopts,
    const char **config)
{
	int ch;

	while ((ch = getopt_long(argc, argv, "+c:h", longopts, NULL)) != -1) {
		if (ch != 'c')
			return NULL;
		*config = optarg;
	}
	return optind < argc ? argv[optind++] : NULL;
}

const struct subcommand *
subcommand_find(const struct subcommand *table, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

void
subcommand_usage(FILE *f, const char *prog, const char *synopsis,
    const struct subcommand *table, size_t n)
{
	size_t i;

	(void)fprintf(f, "usage: %s %s\n", prog, synopsis);
	for (i = 0; i < n; i++)
		(void)fprintf(f, "  %s%s%s\n      %s\n", table[i].name,
		    *table[i].args != '\0' ? " " : "", table[i].args,
		    table[i].description);
}
