/*
 * The server's side of the handshake (docs/PROTOCOL.md section 2): the
 * plain ClientHello, the KeyExchange whose envelope a worker opens
 * (server/auth.c), and the ClientFinished, after which the connection
 * has its record keys and waits for a login.  Before any RSA work the
 * KeyExchange's key must be in the snapshot of enrolled keys
 * (server/refresh.c), and at most hs_jobs_max handshakes wait for the
 * workers at once; logins pass them in the workers' queue.
 */
#include <stdlib.h>
#include <string.h>

#include "common/b64.h"
#include "common/err.h"
#include "common/log.h"
#include "keydist/channel.h"
#include "keydist/keys.h"
#include "server/handlers.h"
#include "server/reply.h"
#include "server/throttle.h"
#include "server/worker.h"

/* Authenticated refusals of unknown keys: per second on the server, per
   minute from one address prefix (each costs one RSA private operation). */
#define REFUSALS_PER_SECOND 5
#define REFUSALS_PER_PREFIX 3

struct hs_job {
	struct worker_job job;
	struct conn *c;
	int r, owner_r;
	char owner[NAME_USER_MAX + 1];
	char fp[KD_FP_SIZE];         /* of the client key it presents */
	size_t len;
	char kx[];                   /* the KeyExchange line */
};

static void
hs_job_run(struct worker_job *job, void *wctx)
{
	struct hs_job *j = WORKER_JOB_OWNER(job, struct hs_job, job);

	j->r = auth_handshake(wctx, j->c->hs, j->kx, j->len, &j->owner_r,
	    j->owner);
}

/* Keys are ready (or not): go on with the ClientFinished already read. */
static void
hs_job_done(struct worker_job *job)
{
	struct hs_job *j = WORKER_JOB_OWNER(job, struct hs_job, job);
	struct conn *c = j->c;
	struct kd_hs *hs = c->hs;
	int r = j->r;

	c->jobs--;
	c->srv->hs_jobs--;
	if (c->fd < 0) {
		free(j);
		conn_release(c);
		return;
	}
	c->admitted_gen = c->srv->refresh_gen;
	memcpy(c->key_fp, hs->peer_fp, sizeof(c->key_fp));
	c->owner_r = j->owner_r;
	memcpy(c->owner, j->owner, sizeof(c->owner));
	free(j);
	if (r != 0) {
		conn_fail(c, PROTO_CLOSE_HANDSHAKE, 0,
		    "KeyExchange refused: %s%s%s", err_str(r),
		    c->key_fp[0] ? ", client key " : "", c->key_fp);
		return;
	}
	if ((r = kd_record_init(&c->rx, hs->c2s.key, hs->c2s.iv,
	    KD_RECORD_REKEY_DEFAULT, 0)) != 0 ||
	    (r = kd_record_init(&c->tx, hs->s2c.key, hs->s2c.iv,
	    KD_RECORD_REKEY_DEFAULT, 1)) != 0) {
		conn_fail(c, PROTO_CLOSE_ERROR, 0, "record keys: %s",
		    err_str(r));
		return;
	}
	if (c->owner_r == E_DB_UNAVAILABLE && !c->srv->db_down) {
		c->srv->db_down = 1;
		log_warn("database unavailable: enrolment of %s checked at login",
		    c->key_fp);
	}
	c->state = CONN_FINISHED;
	conn_pause(c, 0);
	protocol_input(c);
}

int
on_client_hello(struct conn *c)
{
	uint8_t *p = buf_data(&c->in);
	size_t n = buf_size(&c->in), scan = n < KD_HS_LINE_MAX + 1 ? n :
	    KD_HS_LINE_MAX + 1;
	uint8_t *nl = memchr(p, '\n', scan);
	char sh[KD_HS_LINE_MAX];
	size_t shlen;
	int r;

	if (nl == NULL) {
		if (n > KD_HS_LINE_MAX)
			conn_fail(c, PROTO_CLOSE_HANDSHAKE, 0,
			    "ClientHello too long");
		return 1;
	}
	if ((c->hs = calloc(1, sizeof(*c->hs))) == NULL) {
		conn_fail(c, PROTO_CLOSE_ERROR, 0, "out of memory");
		return 1;
	}
	kd_hs_server_init(c->hs, c->srv->key, c->srv->key_spki,
	    c->srv->key_spki_len);
	if ((r = kd_hs_server_hello(c->hs, (const char *)p, (size_t)(nl - p),
	    sh, sizeof(sh), &shlen)) != 0) {
		conn_fail(c, PROTO_CLOSE_HANDSHAKE, 0,
		    "ClientHello refused: %s", err_str(r));
		return 1;
	}
	buf_consume(&c->in, (size_t)(nl - p) + 1);
	conn_send_plain(c, sh, shlen);
	if ((r = kd_record_init(&c->rx, c->hs->hs_c2s.key, c->hs->hs_c2s.iv,
	    KD_RECORD_REKEY_DEFAULT, 0)) != 0) {
		conn_fail(c, PROTO_CLOSE_ERROR, 0, "handshake key: %s",
		    err_str(r));
		return 1;
	}
	c->state = CONN_KEYX;
	return 0;
}

/*
 * Open the one record the handshake expects now: it must hold exactly one
 * frame.  1 (with the connection failed, or waiting) if there is none.
 */
static int
open_handshake_record(struct conn *c, size_t max, const char *what,
    char **frame, size_t *len, size_t *reclen)
{
	char *frames, *extra;
	size_t flen, left, xlen;
	int r;

	r = kd_chan_open(&c->rx, &c->in, max, &frames, &flen, reclen);
	if (r == E_INCOMPLETE)
		return 1;
	if (r == 0) {
		left = flen;
		if (kd_chan_next_frame(&frames, &left, frame, len) != 1 ||
		    kd_chan_next_frame(&frames, &left, &extra, &xlen) != 0)
			r = E_MALFORMED;
	}
	if (r != 0) {
		conn_fail(c, PROTO_CLOSE_HANDSHAKE, 0, "%s record: %s", what,
		    err_str(r));
		return 1;
	}
	return 0;
}

/* Hand the KeyExchange to a worker, unless too many handshakes wait. */
static void
hs_submit(struct conn *c, struct hs_job *j)
{
	struct server *s = c->srv;

	if (s->hs_jobs >= s->hs_jobs_max ||
	    worker_pool_submit(s->pool, &j->job) != 0) {
		free(j);
		conn_fail(c, PROTO_CLOSE_BUSY, 0, s->hs_jobs >= s->hs_jobs_max ?
		    "too many handshakes in progress" : "worker queue full");
		return;
	}
	c->jobs++;
	s->hs_jobs++;
}

/*
 * Whether an unknown key may still be told so in an authenticated 1199,
 * which costs the RSA work the refusal was meant to save: a few a
 * second, fewer from one prefix; the others are closed without a word.
 */
static int
refusal_allowed(struct conn *c)
{
	struct server *s = c->srv;
	char key[THROTTLE_KEY_MAX + 1];

	if (s->now_ms - s->refusal_window_ms >= 1000) {
		s->refusal_window_ms = s->now_ms;
		s->refusals = 0;
	}
	if (s->refusals >= REFUSALS_PER_SECOND)
		return 0;
	(void)snprintf(key, sizeof(key), "r:%s", c->prefix);
	if (throttle_hit(s->conn_rate, key, s->now_ms, 60000) >
	    REFUSALS_PER_PREFIX)
		return 0;
	s->refusals++;
	return 1;
}

void
handshake_resume(struct conn *c, int checked)
{
	struct hs_job *j = WORKER_JOB_OWNER(c->parked, struct hs_job, job);
	struct server *s = c->srv;

	c->parked = NULL;
	/* Without a fresh snapshot the worker asks the database itself. */
	if (!checked || enrolled_find(&s->enrolled, j->fp) != NULL ||
	    refusal_allowed(c)) {
		hs_submit(c, j);
		return;
	}
	conn_fail(c, PROTO_CLOSE_NOT_ENROLLED, 0, "client key %s is not "
	    "enrolled (closed without a refusal: too many of them)", j->fp);
	free(j);
}

void
handshake_free_parked(struct conn *c)
{
	if (c->parked != NULL)
		free(WORKER_JOB_OWNER(c->parked, struct hs_job, job));
	c->parked = NULL;
}

int
on_key_exchange(struct conn *c)
{
	struct server *s = c->srv;
	struct hs_job *j;
	size_t len, reclen;
	char *kx;
	int r;

	if (open_handshake_record(c, KD_HS_LINE_MAX + 1, "KeyExchange", &kx,
	    &len, &reclen) != 0)
		return 1;
	if ((j = calloc(1, sizeof(*j) + len)) == NULL) {
		conn_fail(c, PROTO_CLOSE_ERROR, 0, "out of memory");
		return 1;
	}
	if ((r = kd_hs_keyx_fingerprint(kx, len, j->fp)) != 0) {
		free(j);
		conn_fail(c, PROTO_CLOSE_HANDSHAKE, 0,
		    "KeyExchange refused: %s", err_str(r));
		return 1;
	}
	memcpy(j->kx, kx, len);
	j->len = len;
	j->c = c;
	j->job.run = hs_job_run;
	j->job.done = hs_job_done;
	buf_consume(&c->in, reclen);
	kd_record_clear(&c->rx);
	c->state = CONN_KEYX_PENDING;
	conn_pause(c, 1);
	/*
	 * A key the snapshot does not know costs no RSA work: it waits for
	 * a refresh that starts after it came (it may be enrolled a moment
	 * ago) and is refused if that one does not know it either.
	 */
	if (s->enrolled_loaded && enrolled_find(&s->enrolled, j->fp) == NULL) {
		c->parked = &j->job;
		c->parked_for = s->refresh_gen + 1;
		refresh_start(s, 1);
		return 1;
	}
	hs_submit(c, j);
	return 1;
}

/*
 * Keep b64(DER SPKI) of the client key: peers get it with each device.
 * The bytes the handshake received, without OpenSSL's encoder: when their
 * fingerprint is enrolled they are the enrolled key's DER, and otherwise
 * the connection is refused next.
 */
static int
keep_spki(struct conn *c, const uint8_t *der, size_t len)
{
	long n;

	if ((c->spki = malloc(B64_ENCODED_SIZE(len))) == NULL)
		return E_NOMEM;
	if ((n = b64_encode(der, len, c->spki, B64_ENCODED_SIZE(len), 1)) < 0)
		return (int)n;
	return 0;
}

int
on_client_finished(struct conn *c)
{
	char sf[KD_HS_LINE_MAX], *cf;
	size_t sflen, len, reclen;
	int r;

	if (open_handshake_record(c, KD_HS_LINE_MAX + 1, "ClientFinished",
	    &cf, &len, &reclen) != 0)
		return 1;
	r = kd_hs_server_finish(c->hs, cf, len, sf, sizeof(sf), &sflen);
	buf_consume(&c->in, reclen);
	if (r != 0) {
		conn_fail(c, PROTO_CLOSE_HANDSHAKE, 0,
		    "ClientFinished refused: %s", err_str(r));
		return 1;
	}
	if ((r = keep_spki(c, c->hs->peer_spki, c->hs->peer_spki_len)) != 0) {
		conn_fail(c, PROTO_CLOSE_ERROR, 0, "client key: %s", err_str(r));
		return 1;
	}
	kd_hs_clear(c->hs);
	free(c->hs);
	c->hs = NULL;
	if (c->owner_r == E_NOT_FOUND) {
		SEND(c, OP_REFUSED, proto_close_word(PROTO_CLOSE_NOT_ENROLLED),
		    "this client key is not enrolled on this server; ask the "
		    "administrator to enrol it");
		conn_fail(c, PROTO_CLOSE_NOT_ENROLLED, 0,
		    "client key %s is not enrolled", c->key_fp);
		return 1;
	}
	conn_send(c, sf, sflen);
	c->state = CONN_OPEN;
	log_info("handshake %s id=%llu key=%s owner=%s", c->addr,
	    (unsigned long long)c->id, c->key_fp,
	    c->owner_r == 0 ? c->owner : "(database unavailable)");
	return 0;
}

