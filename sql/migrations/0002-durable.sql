-- missive: schema migration 2, durable delivery (issue 16, protocol version 3).
--
-- Rooms and their members (users) persist; every end-to-end payload is
-- stored once (messages) and queued for each recipient device (inbox) with
-- a per-device sequence number (device_inbox) until that device
-- acknowledges it.  Everything stored here is ciphertext the server cannot
-- open, with its sender device, time and size.
--
-- MariaDB commits each DDL statement on its own, so an attempt that stopped
-- half-way leaves some tables made: every statement can run again
-- (IF NOT EXISTS, INSERT IGNORE).  Who may read or change what is in
-- sql/grants.sql.

-- One row per room.  A room exists until it is deleted, also when empty.
CREATE TABLE IF NOT EXISTS rooms (
  room_id        INT UNSIGNED NOT NULL AUTO_INCREMENT
                 COMMENT 'Surrogate key; referenced by room_members.room_id',
  room_name      VARCHAR(32) NOT NULL
                 COMMENT 'Room name without the #, unique, compared byte for byte (utf8mb4_bin)',
  created_by     INT UNSIGNED NULL
                 COMMENT 'User who made the room by joining it first (users.user_id); NULL for lobby or once that user is deleted',
  created_at     DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                 COMMENT 'When the room was made',
  PRIMARY KEY (room_id),
  UNIQUE KEY uq_rooms_name (room_name),
  CONSTRAINT fk_rooms_created_by FOREIGN KEY (created_by)
    REFERENCES users (user_id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
  COMMENT='Persistent rooms; a room exists until deleted, also when empty';

-- The room every user joins at its first login (user_state).
INSERT IGNORE INTO rooms (room_name, created_by) VALUES ('lobby', NULL);

-- One row per user and room it is in.  Membership is per user: all of the
-- user's devices are in the room.
CREATE TABLE IF NOT EXISTS room_members (
  room_id        INT UNSIGNED NOT NULL
                 COMMENT 'The room (rooms.room_id)',
  user_id        INT UNSIGNED NOT NULL
                 COMMENT 'The member (users.user_id)',
  joined_at      DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                 COMMENT 'When the user joined the room',
  PRIMARY KEY (room_id, user_id),
  KEY ix_room_members_user (user_id),
  CONSTRAINT fk_room_members_room FOREIGN KEY (room_id)
    REFERENCES rooms (room_id) ON DELETE CASCADE,
  CONSTRAINT fk_room_members_user FOREIGN KEY (user_id)
    REFERENCES users (user_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
  COMMENT='Room membership, per user: who is in which room';

-- One row per user that has logged in since durable delivery began.  The
-- server joins a user to lobby when it inserts the user's row, so only a
-- first login does that; lobby is an ordinary room after it.
CREATE TABLE IF NOT EXISTS user_state (
  user_id        INT UNSIGNED NOT NULL
                 COMMENT 'The user (users.user_id)',
  first_login_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                 COMMENT 'The first login since durable delivery (when the user was joined to lobby)',
  PRIMARY KEY (user_id),
  CONSTRAINT fk_user_state_user FOREIGN KEY (user_id)
    REFERENCES users (user_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
  COMMENT='Users that have logged in since durable delivery (a row = already joined to lobby once)';

-- One row per device (enrolled client key) that has an inbox: where its
-- sequence numbers stand.
CREATE TABLE IF NOT EXISTS device_inbox (
  key_id         INT UNSIGNED NOT NULL
                 COMMENT 'The receiving device (client_keys.key_id)',
  next_seq       BIGINT UNSIGNED NOT NULL DEFAULT 1
                 COMMENT 'The seq the next inbox row of this device gets',
  acked_seq      BIGINT UNSIGNED NOT NULL DEFAULT 0
                 COMMENT 'Highest seq the device acknowledged (0020): every row up to it is handled',
  missed         BIGINT UNSIGNED NOT NULL DEFAULT 0
                 COMMENT 'Rows of this device that expired before it fetched them',
  PRIMARY KEY (key_id),
  CONSTRAINT fk_device_inbox_key FOREIGN KEY (key_id)
    REFERENCES client_keys (key_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
  COMMENT='Per device: next seq to hand out, highest acknowledged seq, expired rows';

-- One row per stored end-to-end payload, whatever the number of recipient
-- devices: the delivery frame without its seq.
CREATE TABLE IF NOT EXISTS messages (
  msg_id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT
                 COMMENT 'Surrogate key; referenced by inbox.msg_id',
  sender_key_id  INT UNSIGNED NOT NULL
                 COMMENT 'The sending device (client_keys.key_id; no foreign key: what a device sent before it was removed still reaches its recipients)',
  mid            BINARY(16) NULL
                 COMMENT 'The 16-byte message id the sender chose (0002); NULL for a sender-key distribution (0015)',
  frame          MEDIUMBLOB NOT NULL
                 COMMENT 'The delivery frame (1002 or 1015) without its seq: end-to-end ciphertext the server cannot open',
  created_at     DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                 COMMENT 'When the server stored it (the timestamp of 1002)',
  pending        INT UNSIGNED NOT NULL
                 COMMENT 'Recipient devices that have not acknowledged it yet',
  PRIMARY KEY (msg_id),
  UNIQUE KEY uq_messages_sender_mid (sender_key_id, mid),
  KEY ix_messages_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
  COMMENT='Stored end-to-end payloads (ciphertext), one per line or distribution; (sender device, mid) makes a retry idempotent';

-- One row per recipient device and stored payload: the per-device inbox.
CREATE TABLE IF NOT EXISTS inbox (
  key_id         INT UNSIGNED NOT NULL
                 COMMENT 'The receiving device (client_keys.key_id)',
  seq            BIGINT UNSIGNED NOT NULL
                 COMMENT 'Sequence number of the row for this device: 1, 2, ... (1002/1015 seq)',
  msg_id         BIGINT UNSIGNED NOT NULL
                 COMMENT 'The stored payload (messages.msg_id)',
  PRIMARY KEY (key_id, seq),
  KEY ix_inbox_msg (msg_id),
  CONSTRAINT fk_inbox_key FOREIGN KEY (key_id)
    REFERENCES client_keys (key_id) ON DELETE CASCADE,
  CONSTRAINT fk_inbox_msg FOREIGN KEY (msg_id)
    REFERENCES messages (msg_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
  COMMENT='Per-device inbox: the stored payloads queued for each device, in seq order';
