-- missive demo users: user1, user2, user3 (the original design's demo
-- accounts).  Clients send a login secret bound to the server's key
-- (docs/PROTOCOL.md section 5), so no password hash can be shipped here:
-- the hash below is of a random password that was thrown away, and no
-- login matches it.  Once the server key exists, scripts/demo-passwords.sh
-- sets their password (the demo's is 111111), as `make demo` does.
-- Load with:  scripts/db.sh sql sql/seed.sql   (or the mariadb client).
-- Loading twice changes nothing.  These are demo accounts with a weak
-- password: do not load this file on a real server.

INSERT INTO users (user_name, user_password, user_nickname) VALUES
  ('user1', '$argon2id$v=19$m=19456,t=2,p=1$yxp6+BmW5NH5eO2mlJyDVw$z4LorIw69Tff7hWu4IVL2dCJu5YtXOWEdFM6g2xLMLI', 'Alice'),
  ('user2', '$argon2id$v=19$m=19456,t=2,p=1$yxp6+BmW5NH5eO2mlJyDVw$z4LorIw69Tff7hWu4IVL2dCJu5YtXOWEdFM6g2xLMLI', 'Bob'),
  ('user3', '$argon2id$v=19$m=19456,t=2,p=1$yxp6+BmW5NH5eO2mlJyDVw$z4LorIw69Tff7hWu4IVL2dCJu5YtXOWEdFM6g2xLMLI', 'Carol')
ON DUPLICATE KEY UPDATE user_id = user_id;
