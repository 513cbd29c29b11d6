-- missive: schema migration 3, delivery receipts (issue 16, protocol
-- version 3: the ✓✓ of 1024).
--
-- When every device a line was stored for has acknowledged its row, the
-- sending device gets a receipt: an inbox row of kind 1 that names the
-- line's message and is delivered as 1024|seq|mid.  A row removed before
-- its device fetched it (retention, the per-device cap) counts in
-- messages.dropped, and a line with a dropped row gets no receipt: ✓✓
-- means every device has it.
--
-- Each statement can run again (IF NOT EXISTS).

ALTER TABLE messages ADD COLUMN IF NOT EXISTS dropped INT UNSIGNED NOT NULL
  DEFAULT 0
  COMMENT 'Recipient devices whose row was removed before they fetched it (retention, cap): no receipt then';

ALTER TABLE inbox ADD COLUMN IF NOT EXISTS kind TINYINT UNSIGNED NOT NULL
  DEFAULT 0
  COMMENT '0: the payload of messages.msg_id (1002/1015); 1: the receipt for its sender that every device fetched it (1024)';
