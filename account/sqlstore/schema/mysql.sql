-- miniauth account links, MySQL 8 / MariaDB 10.5+. Made by sqlstore's
-- CreateSchema; idempotent. VARBINARY compares bytes: openids differ by case,
-- which a _ci collation would merge. The unique keys keep concurrent logins apart.
-- An openid is keyed by its platform, appid and openid, a unionid by its platform:
-- the same unionid on two platforms is two people. platform defaults to 'wechat',
-- the platform of every link written before the column existed.
CREATE TABLE IF NOT EXISTS miniauth_openids (
    platform VARBINARY(32)  NOT NULL DEFAULT 'wechat',
    app_id   VARBINARY(128) NOT NULL,
    open_id  VARBINARY(128) NOT NULL,
    user_id  VARBINARY(255) NOT NULL,
    PRIMARY KEY (platform, app_id, open_id),
    UNIQUE KEY miniauth_openids_user_app (user_id, platform, app_id)
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS miniauth_unionids (
    platform VARBINARY(32)  NOT NULL DEFAULT 'wechat',
    union_id VARBINARY(128) NOT NULL,
    user_id  VARBINARY(255) NOT NULL,
    PRIMARY KEY (platform, union_id),
    KEY miniauth_unionids_user (user_id)
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS miniauth_phones (
    phone   VARBINARY(32) NOT NULL PRIMARY KEY,
    user_id VARBINARY(255) NOT NULL,
    UNIQUE KEY miniauth_phones_user (user_id)
) ENGINE=InnoDB;
