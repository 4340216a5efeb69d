-- miniauth account links, SQLite 3.24+. Made by sqlstore's
-- CreateSchema; idempotent. The unique constraints keep concurrent logins apart.
CREATE TABLE IF NOT EXISTS miniauth_openids (
    app_id  TEXT NOT NULL,
    open_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (app_id, open_id),
    UNIQUE (user_id, app_id)
);
CREATE TABLE IF NOT EXISTS miniauth_unionids (
    union_id TEXT NOT NULL PRIMARY KEY,
    user_id  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS miniauth_unionids_user ON miniauth_unionids (user_id);
CREATE TABLE IF NOT EXISTS miniauth_phones (
    phone   TEXT NOT NULL PRIMARY KEY,
    user_id TEXT NOT NULL UNIQUE
);
