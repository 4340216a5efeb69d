-- miniauth account links, SQLite 3.24+. Made by sqlstore's
-- CreateSchema; idempotent. The unique constraints keep concurrent logins apart.
-- An openid is keyed by its platform, appid and openid, a unionid by its platform:
-- the same unionid on two platforms is two people. platform defaults to 'wechat',
-- the platform of every link written before the column existed.
CREATE TABLE IF NOT EXISTS miniauth_openids (
    platform TEXT NOT NULL DEFAULT 'wechat',
    app_id   TEXT NOT NULL,
    open_id  TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    PRIMARY KEY (platform, app_id, open_id),
    UNIQUE (user_id, platform, app_id)
);
CREATE TABLE IF NOT EXISTS miniauth_unionids (
    platform TEXT NOT NULL DEFAULT 'wechat',
    union_id TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    PRIMARY KEY (platform, union_id)
);
CREATE INDEX IF NOT EXISTS miniauth_unionids_user ON miniauth_unionids (user_id);
CREATE TABLE IF NOT EXISTS miniauth_phones (
    phone   TEXT NOT NULL PRIMARY KEY,
    user_id TEXT NOT NULL UNIQUE
);
