-- Gajim 1.x's logs.db: the 0.16.9 schema (gajim/gajim test/database/test_migration.py) with the columns
-- Gajim's migrations to user_version 7 add (gajim/common/storage/archive/migration/pre_v7.py)
CREATE TABLE jids(
        jid_id INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE,
        jid TEXT UNIQUE,
        type INTEGER
);

CREATE TABLE unread_messages(
        message_id INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE,
        jid_id INTEGER,
        shown BOOLEAN default 0
);

CREATE INDEX idx_unread_messages_jid_id ON unread_messages (jid_id);

CREATE TABLE logs(
        log_line_id INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE,
        jid_id INTEGER,
        contact_name TEXT,
        time INTEGER,
        kind INTEGER,
        show INTEGER,
        message TEXT,
        subject TEXT
);

CREATE INDEX idx_logs_jid_id_time ON logs (jid_id, time DESC);
ALTER TABLE logs ADD COLUMN "account_id" INTEGER;
ALTER TABLE logs ADD COLUMN "stanza_id" TEXT;
ALTER TABLE logs ADD COLUMN "encryption" TEXT;
ALTER TABLE logs ADD COLUMN "encryption_state" TEXT;
ALTER TABLE logs ADD COLUMN "marker" INTEGER;
ALTER TABLE logs ADD COLUMN "additional_data" TEXT;
CREATE TABLE IF NOT EXISTS last_archive_message(
    jid_id INTEGER PRIMARY KEY UNIQUE,
    last_mam_id TEXT,
    oldest_mam_timestamp TEXT,
    last_muc_timestamp TEXT
);
ALTER TABLE last_archive_message ADD COLUMN "sync_threshold" INTEGER;
ALTER TABLE logs ADD COLUMN "message_id" TEXT;
ALTER TABLE logs ADD COLUMN "error" TEXT;
ALTER TABLE logs ADD COLUMN "real_jid" TEXT;
ALTER TABLE logs ADD COLUMN "occupant_id" TEXT;
PRAGMA user_version=7;

-- rows: the conversation of spadev/chatlogsync's GTalk sample (see tests/data/README)
INSERT INTO jids(jid_id, jid, type) VALUES (1, 'dest@gmail.com', 0);
INSERT INTO jids(jid_id, jid, type) VALUES (2, 'private-chat-00000000-0000-0000-0000-000000000000@groupchat.google.com', 1);
INSERT INTO jids(jid_id, jid, type) VALUES (3, 'source@gmail.com', 0);
INSERT INTO logs(log_line_id, jid_id, contact_name, time, kind, show, message, account_id) VALUES (1, 1, NULL, 1323422023, 6, NULL, 'regular message', 3);
INSERT INTO logs(log_line_id, jid_id, contact_name, time, kind, show, message, account_id) VALUES (2, 1, NULL, 1323422641, 4, NULL, 'regular message', 3);
INSERT INTO logs(log_line_id, jid_id, contact_name, time, kind, show, message, account_id) VALUES (3, 1, NULL, 1323422651, 6, NULL, 'char>message÷', 3);
INSERT INTO logs(log_line_id, jid_id, contact_name, time, kind, show, message, account_id) VALUES (4, 1, NULL, 1323422658, 6, NULL, 'multiline
message', 3);
INSERT INTO logs(log_line_id, jid_id, contact_name, time, kind, show, message, account_id) VALUES (5, 1, NULL, 1323483180, 0, 2, 'I''m not here right now>', 3);
INSERT INTO logs(log_line_id, jid_id, contact_name, time, kind, show, message, account_id) VALUES (6, 2, 'A_gmail.com', 1313899165, 2, NULL, 'test', 3);
INSERT INTO logs(log_line_id, jid_id, contact_name, time, kind, show, message, account_id) VALUES (7, 2, 'source', 1313899168, 2, NULL, 'what', 3);
INSERT INTO logs(log_line_id, jid_id, contact_name, time, kind, show, message, account_id) VALUES (8, 2, 'B_gmail.com', 1313899171, 2, NULL, 'test2', 3);
INSERT INTO logs(log_line_id, jid_id, contact_name, time, kind, show, message, account_id) VALUES (9, 1, NULL, 1323508565, 4, NULL, '', 3);
