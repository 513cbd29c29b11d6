#include "client/tui.h"

#include <stdio.h>

int
tui_main(struct app *a)
{
	(void)a;
	(void)fprintf(stderr, "missive: --tui: not built yet\n");
	return 1;
}
