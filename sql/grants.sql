-- missive: least-privilege grants.
--
-- Loaded by scripts/db.sh after it has created the two accounts (with random
-- passwords stored in $MISSIVE_VAR/secrets/, mode 0600), and again after
-- every migration run (GRANT is idempotent), so that the tables a migration
-- adds get their grants on an upgraded database too:
--   'missived'@'localhost'       the chat server
--   'missive_admin'@'localhost'  the admin tools (missive-admin)
-- This file only grants; it creates no accounts.  Both accounts can connect
-- only over the private unix socket (the server runs with --skip-networking).

-- missived, users: read exactly what a login needs (id, name, hash, nickname,
-- disabled flag, throttling state).  created_at and last_login_at are not
-- readable.  SELECT on user_id also lets it use `WHERE user_id = ?`.
GRANT SELECT (user_id, user_name, user_password, user_nickname, disabled,
              failed_logins, last_failed_at, locked_until)
  ON missive.users TO 'missived'@'localhost';

-- missived, users: write only the throttling and login bookkeeping columns.
-- It can never change a name, password hash, nickname or the disabled flag,
-- and has no INSERT or DELETE: a compromised server cannot create accounts.
GRANT UPDATE (failed_logins, last_failed_at, locked_until, last_login_at)
  ON missive.users TO 'missived'@'localhost';

-- missived, client_keys: read the enrolled keys to authenticate a client.
-- Read-only: enrolment and revocation are the admin's job.  enrolled_at is
-- not needed and not granted.
GRANT SELECT (key_id, user_id, device, public_key_pem, fingerprint, revoked)
  ON missive.client_keys TO 'missived'@'localhost';

-- missive_admin, users: create users, list them, change passwords, nicknames,
-- the disabled flag and unlock them.  No DELETE: accounts are disabled, never
-- removed, so history stays attributable.
GRANT SELECT, INSERT, UPDATE ON missive.users TO 'missive_admin'@'localhost';

-- missive_admin, client_keys: enrol, list, revoke and remove device keys.
GRANT SELECT, INSERT, UPDATE, DELETE ON missive.client_keys TO 'missive_admin'@'localhost';

-- Durable delivery (sql/migrations/0002-durable.sql).

-- missived, rooms and room_members: a first join makes a room, every join
-- and leave inserts or deletes a membership.  Nothing in the server deletes
-- a room yet; DELETE on rooms is for the room deletion to come.
GRANT SELECT, INSERT, UPDATE, DELETE ON missive.rooms TO 'missived'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON missive.room_members TO 'missived'@'localhost';

-- missived, the inbox: store each payload once (messages) and a row per
-- recipient device (inbox), hand out seqs and record acknowledgements
-- (device_inbox), and remove rows once acknowledged.
GRANT SELECT, INSERT, UPDATE, DELETE ON missive.device_inbox TO 'missived'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON missive.messages TO 'missived'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON missive.inbox TO 'missived'@'localhost';

-- missived, user_state: a row is written once, at a user's first login (the
-- one that joins it to lobby), and never changed or removed by the server.
GRANT SELECT, INSERT ON missive.user_state TO 'missived'@'localhost';

-- missived, schema_version: read which schema it is talking to.  Only
-- scripts/db.sh (the database root) applies migrations.
GRANT SELECT ON missive.schema_version TO 'missived'@'localhost';

-- missive_admin: read rooms, members and the inbox bookkeeping (to report
-- them), and delete rooms and memberships (an admin's job).  It cannot
-- write the inbox: stored payloads come only from the server.
GRANT SELECT, DELETE ON missive.rooms TO 'missive_admin'@'localhost';
GRANT SELECT, DELETE ON missive.room_members TO 'missive_admin'@'localhost';
GRANT SELECT ON missive.user_state TO 'missive_admin'@'localhost';
GRANT SELECT ON missive.device_inbox TO 'missive_admin'@'localhost';
GRANT SELECT ON missive.messages TO 'missive_admin'@'localhost';
GRANT SELECT ON missive.inbox TO 'missive_admin'@'localhost';
GRANT SELECT ON missive.schema_version TO 'missive_admin'@'localhost';
