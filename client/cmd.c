#include "client/cmd.h"

#include <string.h>

char *
cmd_word(char **p)
{
	char *w = *p, *end;

	while (*w == ' ')
		w++;
	if ((end = strchr(w, ' ')) != NULL) {
		*end = '\0';
		*p = end + 1;
	} else {
		*p = w + strlen(w);
	}
	return w;
}

char *
cmd_room_arg(char **p)
{
	char *w = cmd_word(p);

	return w[0] == '#' ? w + 1 : w;
}

const char *
cmd_trust_word(enum session_trust t)
{
	switch (t) {
	case SESSION_KEY_OWN:
		return "this device";
	case SESSION_KEY_VERIFIED:
		return "verified";
	case SESSION_KEY_SEEN:
		return "pinned, not verified";
	default:
		return "CHANGED, not accepted";
	}
}

int
cmd_exit_status(enum session_end end)
{
	switch (end) {
	case SESSION_QUIT:
		return 0;
	case SESSION_LOGIN_REFUSED:
		return 3;
	case SESSION_KEY_MISMATCH:
		return 4;
	case SESSION_UNREACHABLE:
		return 5;
	case SESSION_NOT_ENROLLED:
		return 6;
	case SESSION_REPLACED:
		return 7;
	default:
		return 1;
	}
}
