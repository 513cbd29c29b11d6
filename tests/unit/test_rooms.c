/* server/rooms.c: names, joins, O(1) leaves, limits, empty rooms go. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "common/proto.h"
#include "server/rooms.h"

#define NCLIENT 12

static enum room_join_result
join(struct rooms *rs, struct room_client *cl, const char *name,
    struct room **r)
{
	return room_join(rs, cl, name, strlen(name), r);
}

static struct room *
find(const struct rooms *rs, const char *name)
{
	return rooms_find(rs, name, strlen(name));
}

/* Both sides of every membership point at each other. */
static void
check_client(const struct room_client *cl)
{
	size_t i;

	assert_true(cl->nslot <= cl->cap);
	for (i = 0; i < cl->nslot; i++) {
		assert_true(cl->slot[i].member < room_size(cl->slot[i].room));
		assert_ptr_equal(room_member(cl->slot[i].room,
		    cl->slot[i].member), cl);
	}
}

static void
check_room(const struct room *r)
{
	const struct room_client *cl;
	size_t i, k, found;

	assert_true(room_size(r) > 0);
	for (i = 0; i < room_size(r); i++) {
		cl = room_member(r, i);
		for (k = 0, found = 0; k < cl->nslot; k++)
			if (cl->slot[k].room == r) {
				assert_int_equal(cl->slot[k].member, i);
				found++;
			}
		assert_int_equal(found, 1);
	}
}

static void
count_room(const struct room *r, void *arg)
{
	check_room(r);
	(*(size_t *)arg)++;
}

static void
check_all(const struct rooms *rs, const struct room_client *cl, size_t n)
{
	size_t i, count = 0;

	for (i = 0; i < n; i++)
		check_client(&cl[i]);
	rooms_foreach(rs, count_room, &count);
	assert_int_equal(count, rs->nroom);
}

static void
test_name_valid(void **state)
{
	(void)state;
	assert_true(room_name_valid("lobby", 5));
	assert_true(room_name_valid("a", 1));
	assert_true(room_name_valid("0day.b_c-d", 10));
	assert_true(room_name_valid("abcdefghijklmnopqrstuvwxyz012345", 32));
	assert_false(room_name_valid("abcdefghijklmnopqrstuvwxyz0123456", 33));
	assert_false(room_name_valid("", 0));
	assert_false(room_name_valid("Lobby", 5));
	assert_false(room_name_valid("-x", 2));
	assert_false(room_name_valid(".x", 2));
	assert_false(room_name_valid("@bob", 4));
	assert_false(room_name_valid("#x", 2));
	assert_false(room_name_valid("a b", 3));
	assert_false(room_name_valid("a|b", 3));
	assert_false(room_name_valid("ab\0c", 4));
	/* Only len bytes count. */
	assert_true(room_name_valid("ab|c", 2));
}

static void
test_join_leave(void **state)
{
	struct rooms rs;
	struct room_client cl[3] = { { 0 } };
	struct room *r, *r2;

	(void)state;
	rooms_init(&rs, 10, 10, 4);
	assert_null(find(&rs, PROTO_LOBBY));
	assert_int_equal(join(&rs, &cl[0], PROTO_LOBBY, &r), ROOM_JOINED);
	assert_ptr_equal(find(&rs, PROTO_LOBBY), r);
	assert_string_equal(room_name(r), "lobby");
	assert_int_equal(room_size(r), 1);
	assert_int_equal(rs.nroom, 1);
	assert_true(room_has(&cl[0], r));
	assert_false(room_has(&cl[1], r));
	/* A second join is a resynchronisation, not a second membership. */
	assert_int_equal(join(&rs, &cl[0], PROTO_LOBBY, &r2), ROOM_ALREADY);
	assert_ptr_equal(r2, r);
	assert_int_equal(room_size(r), 1);
	assert_int_equal(join(&rs, &cl[1], PROTO_LOBBY, &r2), ROOM_JOINED);
	assert_ptr_equal(r2, r);
	assert_int_equal(room_size(r), 2);
	assert_int_equal(join(&rs, &cl[1], "dev", &r2), ROOM_JOINED);
	assert_ptr_not_equal(r2, r);
	assert_int_equal(rs.nroom, 2);
	check_all(&rs, cl, 3);
	/* Leaving a room one is not in changes nothing. */
	assert_int_equal(room_leave(&rs, &cl[2], r), E_NOT_FOUND);
	assert_int_equal(room_leave(&rs, &cl[0], r2), E_NOT_FOUND);
	assert_int_equal(room_leave(&rs, &cl[0], r), 0);
	assert_int_equal(room_size(r), 1);
	assert_ptr_equal(room_member(r, 0), &cl[1]);
	check_all(&rs, cl, 3);
	/* The last member out: the room is gone. */
	assert_int_equal(room_leave(&rs, &cl[1], r2), 0);
	assert_null(find(&rs, "dev"));
	assert_int_equal(rs.nroom, 1);
	/* And may be made again. */
	assert_int_equal(join(&rs, &cl[2], "dev", &r2), ROOM_JOINED);
	assert_int_equal(room_size(r2), 1);
	check_all(&rs, cl, 3);
	/* Slots stay allocated until leave_all, even with none in use. */
	assert_int_equal(cl[0].nslot, 0);
	room_leave_all(&rs, &cl[0]);
	room_leave_all(&rs, &cl[1]);
	room_leave_all(&rs, &cl[2]);
	assert_int_equal(rs.nroom, 0);
	assert_null(find(&rs, PROTO_LOBBY));
	assert_null(cl[1].slot);
	assert_int_equal(cl[1].nslot, 0);
	rooms_free(&rs);
}

/* Removing a member from the middle moves the last one into its place. */
static void
test_swap_removal(void **state)
{
	struct rooms rs;
	struct room_client cl[NCLIENT] = { { 0 } };
	struct room *lobby, *odd, *r;
	size_t i;
	char name[8];

	(void)state;
	rooms_init(&rs, 100, 100, 8);
	for (i = 0; i < NCLIENT; i++) {
		assert_int_equal(join(&rs, &cl[i], PROTO_LOBBY, &lobby),
		    ROOM_JOINED);
		if (i % 2 == 1)
			assert_int_equal(join(&rs, &cl[i], "odd", &odd),
			    ROOM_JOINED);
		(void)snprintf(name, sizeof(name), "own%zu", i);
		assert_int_equal(join(&rs, &cl[i], name, &r), ROOM_JOINED);
	}
	check_all(&rs, cl, NCLIENT);
	assert_int_equal(room_size(lobby), NCLIENT);
	assert_ptr_equal(room_member(lobby, 3), &cl[3]);
	/* Out of the middle of the lobby: the last member moves to 3. */
	assert_int_equal(room_leave(&rs, &cl[3], lobby), 0);
	assert_ptr_equal(room_member(lobby, 3), &cl[NCLIENT - 1]);
	check_all(&rs, cl, NCLIENT);
	/* Out of the first slot of a client: its last slot moves to 0. */
	assert_int_equal(room_leave(&rs, &cl[5], lobby), 0);
	assert_int_equal(cl[5].nslot, 2);
	assert_ptr_equal(cl[5].slot[0].room, find(&rs, "own5"));
	check_all(&rs, cl, NCLIENT);
	/* Everybody leaves, one way or another. */
	for (i = 0; i < NCLIENT; i += 2) {
		room_leave_all(&rs, &cl[i]);
		check_all(&rs, cl, NCLIENT);
	}
	assert_int_equal(room_size(odd), NCLIENT / 2);
	assert_int_equal(room_size(lobby), NCLIENT / 2 - 2);
	for (i = 1; i < NCLIENT; i += 2) {
		assert_int_equal(room_leave(&rs, &cl[i], odd), 0);
		check_all(&rs, cl, NCLIENT);
	}
	assert_null(find(&rs, "odd"));
	for (i = 1; i < NCLIENT; i += 2)
		room_leave_all(&rs, &cl[i]);
	assert_int_equal(rs.nroom, 0);
	rooms_free(&rs);
}

static void
test_limits(void **state)
{
	struct rooms rs;
	struct room_client cl[4] = { { 0 } };
	struct room *r;

	(void)state;
	rooms_init(&rs, 3, 2, 2);
	assert_int_equal(join(&rs, &cl[0], "a", &r), ROOM_JOINED);
	assert_int_equal(join(&rs, &cl[0], "b", &r), ROOM_JOINED);
	/* Per client: a third room is refused, an old one is a resync. */
	assert_int_equal(join(&rs, &cl[0], "c", &r), ROOM_CLIENT_LIMIT);
	assert_null(find(&rs, "c"));
	assert_int_equal(join(&rs, &cl[0], "a", &r), ROOM_ALREADY);
	/* Per room. */
	assert_int_equal(join(&rs, &cl[1], "a", &r), ROOM_JOINED);
	assert_int_equal(join(&rs, &cl[2], "a", &r), ROOM_FULL);
	assert_int_equal(room_size(r), 2);
	/* Per server: a and b exist, c fits, d does not. */
	assert_int_equal(join(&rs, &cl[2], "c", &r), ROOM_JOINED);
	assert_int_equal(join(&rs, &cl[2], "d", &r), ROOM_SERVER_LIMIT);
	assert_null(find(&rs, "d"));
	assert_int_equal(rs.nroom, 3);
	/* A room that exists can still be joined. */
	assert_int_equal(join(&rs, &cl[3], "c", &r), ROOM_JOINED);
	check_all(&rs, cl, 4);
	/* Once b is gone, d fits. */
	room_leave_all(&rs, &cl[0]);
	assert_null(find(&rs, "b"));
	assert_int_equal(join(&rs, &cl[2], "d", &r), ROOM_JOINED);
	check_all(&rs, cl, 4);
	room_leave_all(&rs, &cl[1]);
	room_leave_all(&rs, &cl[2]);
	room_leave_all(&rs, &cl[3]);
	assert_int_equal(rs.nroom, 0);
	rooms_free(&rs);
}

/* Many rooms: the hash grows and every room stays findable. */
static void
test_many_rooms(void **state)
{
	enum { N = 1000 };
	struct rooms rs;
	struct room_client cl[2] = { { 0 } };
	struct room *r;
	char name[16];
	size_t i, count = 0;

	(void)state;
	rooms_init(&rs, N, 10, N);
	for (i = 0; i < N; i++) {
		(void)snprintf(name, sizeof(name), "room%zu", i);
		assert_int_equal(join(&rs, &cl[i % 2], name, &r), ROOM_JOINED);
	}
	assert_int_equal(rs.nroom, N);
	assert_true(rs.nbucket >= N);
	for (i = 0; i < N; i++) {
		(void)snprintf(name, sizeof(name), "room%zu", i);
		assert_non_null(r = find(&rs, name));
		assert_string_equal(room_name(r), name);
		assert_ptr_equal(room_member(r, 0), &cl[i % 2]);
	}
	rooms_foreach(&rs, count_room, &count);
	assert_int_equal(count, N);
	check_all(&rs, cl, 2);
	room_leave_all(&rs, &cl[0]);
	assert_int_equal(rs.nroom, N / 2);
	assert_null(find(&rs, "room0"));
	assert_non_null(find(&rs, "room1"));
	room_leave_all(&rs, &cl[1]);
	assert_int_equal(rs.nroom, 0);
	rooms_free(&rs);
}

/* Random joins and leaves keep both sides consistent. */
/* xorshift32: the same sequence on every run (rand_r is obsolescent). */
static uint32_t
next_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
test_random(void **state)
{
	static const char *const names[] = { "a", "b", "c", "d", "e", "f" };
	struct rooms rs;
	struct room_client cl[NCLIENT] = { { 0 } };
	struct room *r;
	enum room_join_result j;
	uint32_t seed = 12345;
	size_t i, k, n;
	int has;

	(void)state;
	rooms_init(&rs, 5, 7, 3);
	for (n = 0; n < 20000; n++) {
		i = (size_t)next_rand(&seed) % NCLIENT;
		k = (size_t)next_rand(&seed) % 6;
		if (next_rand(&seed) % 3 != 0) {
			j = join(&rs, &cl[i], names[k], &r);
			assert_true(j != ROOM_NOMEM);
			if (j == ROOM_JOINED || j == ROOM_ALREADY)
				assert_true(room_has(&cl[i], r));
		} else if ((r = find(&rs, names[k])) != NULL) {
			has = room_has(&cl[i], r);
			assert_int_equal(room_leave(&rs, &cl[i], r),
			    has ? 0 : E_NOT_FOUND);
		} else if (n % 97 == 0)
			room_leave_all(&rs, &cl[i]);
		assert_true(rs.nroom <= 5);
		check_all(&rs, cl, NCLIENT);
	}
	for (i = 0; i < NCLIENT; i++)
		room_leave_all(&rs, &cl[i]);
	assert_int_equal(rs.nroom, 0);
	rooms_free(&rs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_valid),
		cmocka_unit_test(test_join_leave),
		cmocka_unit_test(test_swap_removal),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_many_rooms),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
