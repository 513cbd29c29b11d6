-- missive: schema migration 1, the base schema (accounts and device keys).
--
-- Applied by scripts/db.sh (`migrate`, and at every `start`) into the
-- database `missive` (already selected, created with utf8mb4 /
-- utf8mb4_bin).  It was sql/schema.sql before schema versions existed: a
-- database made then already has these tables, and this file is a no-op
-- on it.  Safe to load again: every table is CREATE TABLE IF NOT EXISTS.
-- Who may read or change what is in sql/grants.sql.

-- One row per account.  The server reads it at login and updates only the
-- throttling / login bookkeeping columns; only the admin tools create users.
CREATE TABLE IF NOT EXISTS users (
  user_id        INT UNSIGNED NOT NULL AUTO_INCREMENT
                 COMMENT 'Surrogate key; referenced by client_keys.user_id',
  user_name      VARCHAR(32) NOT NULL
                 COMMENT 'Login name, unique, compared byte for byte (utf8mb4_bin)',
  user_password  VARCHAR(255) NOT NULL
                 COMMENT 'Argon2id hash in PHC string form ($argon2id$v=19$m=..,t=..,p=..$salt$hash); never a plain password',
  user_nickname  VARCHAR(64) NOT NULL
                 COMMENT 'Display name shown to other users',
  disabled       TINYINT(1) NOT NULL DEFAULT 0
                 COMMENT '1 = account disabled by an admin; login always fails',
  failed_logins  INT UNSIGNED NOT NULL DEFAULT 0
                 COMMENT 'Consecutive failed logins since the last success (throttling)',
  last_failed_at DATETIME(3) NULL
                 COMMENT 'Time of the most recent failed login (UTC), NULL if none',
  locked_until   DATETIME(3) NULL
                 COMMENT 'Logins refused until this time (UTC) after too many failures; NULL = not locked',
  last_login_at  DATETIME(3) NULL
                 COMMENT 'Time of the most recent successful login (UTC), NULL if never',
  created_at     DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                 COMMENT 'When the account was created',
  PRIMARY KEY (user_id),
  UNIQUE KEY uq_users_name (user_name),
  CONSTRAINT ck_users_password_argon2id CHECK (user_password LIKE '$argon2id$%')
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
  COMMENT='Accounts: login name, Argon2id password hash, nickname, throttling state';

-- One row per enrolled client folder (device).  A user may have several;
-- a public key belongs to exactly one user and one device.
CREATE TABLE IF NOT EXISTS client_keys (
  key_id         INT UNSIGNED NOT NULL AUTO_INCREMENT
                 COMMENT 'Surrogate key',
  user_id        INT UNSIGNED NOT NULL
                 COMMENT 'Owner of the key (users.user_id)',
  device         VARCHAR(64) NOT NULL DEFAULT 'default'
                 COMMENT 'Name of the client folder / device, unique per user',
  public_key_pem TEXT NOT NULL
                 COMMENT 'Client RSA public key, PEM SubjectPublicKeyInfo (BEGIN PUBLIC KEY)',
  fingerprint    VARCHAR(64) NOT NULL
                 COMMENT 'SSH-style fingerprint: SHA256: + base64 (no padding) of SHA-256 of the DER SubjectPublicKeyInfo',
  enrolled_at    DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                 COMMENT 'When the key was enrolled',
  revoked        TINYINT(1) NOT NULL DEFAULT 0
                 COMMENT '1 = key revoked; the server refuses it',
  PRIMARY KEY (key_id),
  UNIQUE KEY uq_client_keys_fingerprint (fingerprint),
  UNIQUE KEY uq_client_keys_user_device (user_id, device),
  CONSTRAINT fk_client_keys_user FOREIGN KEY (user_id)
    REFERENCES users (user_id) ON DELETE CASCADE,
  CONSTRAINT ck_client_keys_fingerprint CHECK (fingerprint LIKE 'SHA256:%')
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
  COMMENT='Enrolled client public keys, one per user and device';
