/*
 * Unit tests for client/app: when the history is saved (app_save,
 * app_save_timeout) without a session.  The history lives in a directory
 * made with mkdtemp under $TMPDIR (or /tmp), with a cheap Argon2id.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/app.h"
#include "client/history.h"
#include "client/session.h"

#include "tests/unit/util.h"

struct fx {
	char dir[PATH_MAX];
	char file[PATH_MAX + 16];
	char err[512];
	struct app app;
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	if (make_tmpdir(fx->dir, sizeof(fx->dir), "test_app") != 0) {
		free(fx);
		return -1;
	}
	(void)snprintf(fx->file, sizeof(fx->file), "%s/history", fx->dir);
	history_set_kdf(1, 64, 1);
	fx->app = (struct app)APP_INIT;
	if (history_open(fx->file, "alice", "pw", &fx->app.history, fx->err,
	    sizeof(fx->err)) != 0) {
		(void)rmdir(fx->dir);
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	int r;

	app_free(&fx->app);
	(void)unlink(fx->file);
	r = rmdir(fx->dir);
	free(fx);
	return r;
}

/* A chat line from bob, its id from i. */
static struct session_event
line(uint8_t *mid, uint8_t i)
{
	struct session_event ev = { .kind = SESSION_EV_CHAT, .room = "dev",
	    .user = "bob", .nickname = "Bob", .text = "hi", .time_ms = 5,
	    .trust = SESSION_KEY_VERIFIED, .mid = mid };

	memset(mid, 0, SESSION_MID_LEN);
	mid[0] = i;
	return ev;
}

/*
 * The wait before a save starts at the first record not saved: a record
 * that comes long after the last save waits APP_SAVE_MS like any other
 * (it was saved at once when the wait ran from the last save).
 */
static void
test_wait_starts_at_first_unsaved(void **state)
{
	struct fx *fx = *state;
	uint8_t mid[SESSION_MID_LEN];
	struct session_event ev = line(mid, 1);
	int64_t long_ago = session_clock_ms() - (int64_t)10 * APP_SAVE_MS, left;

	assert_int_equal(app_save_timeout(&fx->app, NULL, session_clock_ms()),
	    -1);
	assert_int_equal(app_record(&fx->app, &ev), 0);
	left = app_save_timeout(&fx->app, NULL, session_clock_ms());
	assert_true(left > 0 && left <= APP_SAVE_MS);
	/* Forced, as before an export: saved now (pretend long ago). */
	assert_int_equal(app_save(&fx->app, NULL, long_ago, 1, fx->err,
	    sizeof(fx->err)), 0);
	assert_false(history_dirty(fx->app.history));
	assert_int_equal(app_save_timeout(&fx->app, NULL, session_clock_ms()),
	    -1);
	ev = line(mid, 2);
	assert_int_equal(app_record(&fx->app, &ev), 0);
	left = app_save_timeout(&fx->app, NULL, session_clock_ms());
	assert_true(left > APP_SAVE_MS / 2 && left <= APP_SAVE_MS);
	/* Not forced and not due: nothing written yet. */
	assert_int_equal(app_save(&fx->app, NULL, session_clock_ms(), 0,
	    fx->err, sizeof(fx->err)), 0);
	assert_true(history_dirty(fx->app.history));
	/* Due: written. */
	assert_int_equal(app_save(&fx->app, NULL, session_clock_ms() +
	    APP_SAVE_MS, 0, fx->err, sizeof(fx->err)), 0);
	assert_false(history_dirty(fx->app.history));
	assert_int_equal(history_count(fx->app.history), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_wait_starts_at_first_unsaved, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
