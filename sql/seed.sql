-- missive demo users: user1, user2, user3, each with the password 111111
-- (the original design's demo accounts).  Passwords are stored only as
-- Argon2id PHC strings, made with:
--     missive-admin hash-password --password-file FILE
-- Load with:  scripts/db.sh sql sql/seed.sql   (or the mariadb client).
-- Loading twice changes nothing.  These are demo accounts with a weak
-- password: do not load this file on a real server.

INSERT INTO users (user_name, user_password, user_nickname) VALUES
  ('user1', '$argon2id$v=19$m=19456,t=2,p=1$QtRTjxx+2rvqzTqZigmCUw$J0dSH1e2S2TM3xAj5/80UolynhMKpdjdpQxa9TvIRAs', 'Alice'),
  ('user2', '$argon2id$v=19$m=19456,t=2,p=1$0T8+XJT0jjpQvjOvg2IrcA$/tWk5ALixYRAFNmXEkRpH3CZ00fqKCN7FNmYj5bgfn4', 'Bob'),
  ('user3', '$argon2id$v=19$m=19456,t=2,p=1$RxSbf+yIHI9EqytzbwRIOQ$byXvvpVqN2ndjVebeY35TJ3VkBPZ/i5BssxKPtHEkPw', 'Carol')
ON DUPLICATE KEY UPDATE user_id = user_id;
