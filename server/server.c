/* Setting up and tearing down the relay (the loop is server/loop.c). */
#include "server/server.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/err.h"
#include "common/log.h"
#include "keydist/keys.h"
#include "server/admin.h"
#include "server/conn.h"
#include "server/inbox.h"
#include "server/storage.h"
#include "server/store.h"
#include "server/throttle.h"
#include "server/worker.h"

#define LISTEN_BACKLOG 1024
#define THROTTLE_MAX 65536
/* Handshake jobs waiting for or on the workers: half the queue, so that
   logins and refreshes (urgent jobs, which pass them) always find room. */
#define HS_JOBS_MAX (WORKER_DEFAULT_MAX_QUEUED / 2)
/* Descriptors beyond one per client: listener, epoll, workers' database
   connections, log, eventfds, the spare. */
#define FDS_BESIDES_CLIENTS 64

/*
 * Raise the soft limit on open files to what max_clients needs (the hard
 * limit permitting): Debian's default of 1024 would stop the server far
 * below its configured size.  When even the hard limit is too low, say so:
 * connections beyond it are refused (loop.c, out of descriptors).
 */
static void
raise_fd_limit(const struct server_config *cfg)
{
	rlim_t want = (rlim_t)cfg->max_clients + FDS_BESIDES_CLIENTS;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ?
	    want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
		log_warn("max_clients %lld needs %llu open files; the limit "
		    "is %llu (raise it with ulimit -n or LimitNOFILE=)",
		    cfg->max_clients, (unsigned long long)want,
		    (unsigned long long)rl.rlim_cur);
}

static int
listen_on(const char *host, long long port)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	}, *res, *ai;
	char portstr[16];
	int fd = -1, one = 1, r, saved = 0;

	(void)snprintf(portstr, sizeof(portstr), "%lld", port);
	if ((r = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		log_error("listen address %s: %s", host, gai_strerror(r));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one)) == 0 &&
		    bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, LISTEN_BACKLOG) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		log_error("cannot listen on %s port %lld: %s", host, port,
		    strerror(saved));
	return fd;
}

static int
epoll_add(int epfd, int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* A room from the database, and a member of it (user NULL: none). */
static int
load_room(void *arg, const char *room, const char *user)
{
	struct server *s = arg;
	struct member *m = NULL;
	struct room *r;
	enum room_join_result j;

	if (!room_name_valid(room, strlen(room)) ||
	    (user != NULL && name_check_user(user) != 0)) {
		log_warn("rooms: skipping an invalid row (#%s)", room);
		return 0;
	}
	if (user != NULL && (m = members_get(&s->members, user, 1)) == NULL)
		return E_NOMEM;
	j = room_join(&s->rooms, m != NULL ? &m->rooms : NULL, room,
	    strlen(room), &r);
	if (j == ROOM_NOMEM)
		return E_NOMEM;
	if (j != ROOM_JOINED && j != ROOM_ALREADY)
		log_warn("rooms: %s not in #%s: over a limit of server.conf",
		    user != NULL ? user : "(the room itself)", room);
	return 0;
}

#define NEWCOMERS_BATCH 1000

static int
count_name(void *arg, const char *user)
{
	(void)user;
	(*(size_t *)arg)++;
	return 0;
}

/*
 * The durable rooms and their members, before the first client: the
 * database must be there, at the schema version this build needs.
 */
static int
load_rooms(struct server *s)
{
	struct db *db;
	char err[256];
	size_t n;
	int r;

	if ((r = db_open(&s->auth.db, &db, err, sizeof(err))) != 0) {
		log_error("%s", err);
		return r;
	}
	if ((r = storage_schema_check(db, err, sizeof(err))) != 0) {
		log_error("%s", err);
		db_close(db);
		return r;
	}
	/* Accounts made while the server was down are in the lobby first. */
	do {
		n = 0;
		r = storage_newcomers(db, PROTO_LOBBY, NEWCOMERS_BATCH,
		    count_name, &n);
	} while (r == 0 && n == NEWCOMERS_BATCH);
	if (r == 0)
		r = storage_rooms(db, load_room, s);
	if (r != 0)
		log_error("loading the rooms: %s", r == E_NOMEM ?
		    "out of memory" : db_error(db));
	else
		log_info("rooms: %zu, member users: %zu", s->rooms.nroom,
		    s->members.n);
	db_close(db);
	return r;
}

int
server_new(const struct server_config *cfg, EVP_PKEY *key,
    struct server **out)
{
	struct server *s;
	sigset_t set;
	int r = E_IO;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return E_NOMEM;
	s->cfg = cfg;
	s->key = key;
	s->epfd = s->lfd = s->sigfd = s->spare_fd = -1;
	if ((r = kd_key_to_der(key, &s->key_spki, &s->key_spki_len)) != 0) {
		log_error("server key: %s", err_str(r));
		goto fail;
	}
	admin_db_params(cfg, cfg->db_user, cfg->db_password_file, &s->auth.db);
	s->auth.lock_after = (unsigned)cfg->login_lock_after;
	s->auth.lock_seconds = (unsigned)cfg->login_lock_seconds;
	rooms_init(&s->rooms, (size_t)cfg->max_rooms,
	    (size_t)cfg->max_room_members, (size_t)cfg->max_rooms_per_client);
	s->rooms.keep_empty = 1;
	users_init(&s->users);
	if ((r = load_rooms(s)) != 0)
		goto fail;
	r = E_IO;

	/* The loop takes these signals from a signalfd; workers block all. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* A peer gone while we write must cost an EPIPE, not the server. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		log_error("signal: %s", strerror(errno));
		goto fail;
	}
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0 ||
	    (s->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		log_error("signalfd: %s", strerror(errno));
		goto fail;
	}
	if ((s->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		log_error("epoll: %s", strerror(errno));
		goto fail;
	}
	if ((s->lfd = listen_on(cfg->listen_address, cfg->listen_port)) < 0)
		goto fail;
	raise_fd_limit(cfg);
	if ((s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		log_error("/dev/null: %s", strerror(errno));
		goto fail;
	}
	r = E_NOMEM;
	if ((s->login_fails = throttle_new(THROTTLE_MAX)) == NULL ||
	    (s->conn_rate = throttle_new(THROTTLE_MAX)) == NULL)
		goto fail;
	if ((r = worker_pool_start(&s->pool, (unsigned)cfg->workers,
	    auth_thread_init, auth_thread_fini, &s->auth)) != 0 ||
	    (r = store_start(s)) != 0) {
		log_error("worker threads: %s", err_str(r));
		goto fail;
	}
	s->hs_jobs_max = HS_JOBS_MAX;
	r = E_IO;
	if (epoll_add(s->epfd, s->lfd, &server_tag_listen) != 0 ||
	    epoll_add(s->epfd, s->sigfd, &server_tag_signal) != 0 ||
	    epoll_add(s->epfd, worker_pool_fd(s->pool), &server_tag_pool) != 0 ||
	    epoll_add(s->epfd, store_fd(s), &server_tag_store) != 0) {
		log_error("epoll: %s", strerror(errno));
		goto fail;
	}
	log_info("listening on %s port %lld, %u workers, max %lld clients",
	    cfg->listen_address, cfg->listen_port,
	    worker_pool_threads(s->pool), cfg->max_clients);
	*out = s;
	return 0;
fail:
	server_free(s);
	return r;
}

void
server_free(struct server *s)
{
	if (s == NULL)
		return;
	/* Jobs still running refer to closed connections: done() frees them.
	   The writer first: what it commits last may start reads. */
	if (s->store.pool != NULL)
		store_stop(s);
	worker_pool_stop(s->pool);
	throttle_free(s->login_fails);
	throttle_free(s->conn_rate);
	enrolled_free(&s->enrolled);
	members_free(&s->members, &s->rooms);
	rooms_free(&s->rooms);
	users_free(&s->users);
	inbox_free(s);
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->sigfd >= 0)
		close(s->sigfd);
	if (s->spare_fd >= 0)
		close(s->spare_fd);
	if (s->epfd >= 0)
		close(s->epfd);
	OPENSSL_free(s->key_spki);
	free(s);
}
