#include "common/err.h"

const char *
err_str(int code)
{
	switch (code) {
#define ERR_CASE(name, value, text) \
	case name:                  \
		return text;
		ERR_LIST(ERR_CASE)
#undef ERR_CASE
	}
	return "unknown error";
}
