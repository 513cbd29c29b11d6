#include "common/text.h"

#include <string.h>

#include "common/err.h"

int
utf8_valid(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = s[i];
		size_t n, k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (len - i <= n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

int
name_check_user(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len > NAME_USER_MAX)
		return E_BAD_NAME;
	for (i = 0; i < len; i++) {
		char c = name[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return E_BAD_NAME;
	}
	return 0;
}

int
name_check_nick(const char *nick)
{
	size_t i, len = strlen(nick);

	if (len == 0 || len > NAME_NICK_MAX)
		return E_BAD_NICK;
	if (!utf8_valid((const uint8_t *)nick, len))
		return E_BAD_NICK;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)nick[i];

		if (c < 0x20 || c == 0x7f || c == '|')
			return E_BAD_NICK;
	}
	return 0;
}

const char *
text_chat_problem(const uint8_t *s, size_t len, size_t max)
{
	size_t i;

	if (len == 0)
		return "it is empty";
	if (len > max)
		return "it is too long";
	if (!utf8_valid(s, len))
		return "it is not valid UTF-8";
	for (i = 0; i < len; i++) {
		/* C0 but TAB, DEL, and C1: U+0080..U+009F are C2 80..C2 9F. */
		if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f ||
		    (s[i] == 0xc2 && i + 1 < len && s[i + 1] <= 0x9f))
			return "it contains a control character";
	}
	return NULL;
}

size_t
text_sanitize(char *s, int keep_tab)
{
	unsigned char *u = (unsigned char *)s;
	size_t i, o = 0;

	for (i = 0; u[i] != '\0'; i++) {
		if (u[i] == 0xc2 && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f) {
			i++;
			u[o++] = '?';
		} else if ((u[i] < 0x20 && !(keep_tab && u[i] == '\t')) ||
		    u[i] == 0x7f) {
			u[o++] = '?';
		} else {
			u[o++] = u[i];
		}
	}
	u[o] = '\0';
	return o;
}
