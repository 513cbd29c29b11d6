/*
 * The terminal UI (missive --tui): ncursesw over the client core.
 */
#ifndef MISSIVE_CLIENT_TUI_H
#define MISSIVE_CLIENT_TUI_H

#include "client/app.h"

/*
 * Run the terminal UI on a loaded folder whose password was read (the
 * history open or not): make the session, drive it until it ends.
 * Returns the exit status (as the line mode's).
 */
int tui_main(struct app *a);

#endif
