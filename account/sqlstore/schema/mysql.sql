-- miniauth account links, MySQL 8 / MariaDB 10.5+. Made by sqlstore's
-- CreateSchema; idempotent. VARBINARY compares bytes: openids differ by case,
-- which a _ci collation would merge. The unique keys keep concurrent logins apart.
CREATE TABLE IF NOT EXISTS miniauth_openids (
    app_id  VARBINARY(128) NOT NULL,
    open_id VARBINARY(128) NOT NULL,
    user_id VARBINARY(255) NOT NULL,
    PRIMARY KEY (app_id, open_id),
    UNIQUE KEY miniauth_openids_user_app (user_id, app_id)
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS miniauth_unionids (
    union_id VARBINARY(128) NOT NULL PRIMARY KEY,
    user_id  VARBINARY(255) NOT NULL,
    KEY miniauth_unionids_user (user_id)
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS miniauth_phones (
    phone   VARBINARY(32) NOT NULL PRIMARY KEY,
    user_id VARBINARY(255) NOT NULL,
    UNIQUE KEY miniauth_phones_user (user_id)
) ENGINE=InnoDB;
