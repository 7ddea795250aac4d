-- Gajim 0.16.9's logs.db schema, as published in gajim/gajim test/database/test_migration.py
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

-- rows: the conversation of spadev/chatlogsync's GTalk sample (see tests/data/README)
INSERT INTO jids(jid_id, jid, type) VALUES (1, 'dest@gmail.com', 0);
INSERT INTO jids(jid_id, jid, type) VALUES (2, 'private-chat-00000000-0000-0000-0000-000000000000@groupchat.google.com', 1);
INSERT INTO logs(log_line_id, jid_id, contact_name, time, kind, show, message) VALUES (1, 1, NULL, 1323422023, 6, NULL, 'regular message');
INSERT INTO logs(log_line_id, jid_id, contact_name, time, kind, show, message) VALUES (2, 1, NULL, 1323422641, 4, NULL, 'regular message');
INSERT INTO logs(log_line_id, jid_id, contact_name, time, kind, show, message) VALUES (3, 1, NULL, 1323422651, 6, NULL, 'char>message÷');
INSERT INTO logs(log_line_id, jid_id, contact_name, time, kind, show, message) VALUES (4, 1, NULL, 1323422658, 6, NULL, 'multiline
message');
INSERT INTO logs(log_line_id, jid_id, contact_name, time, kind, show, message) VALUES (5, 1, NULL, 1323483180, 0, 2, 'I''m not here right now>');
INSERT INTO logs(log_line_id, jid_id, contact_name, time, kind, show, message) VALUES (6, 2, 'A_gmail.com', 1313899165, 2, NULL, 'test');
INSERT INTO logs(log_line_id, jid_id, contact_name, time, kind, show, message) VALUES (7, 2, 'source', 1313899168, 2, NULL, 'what');
INSERT INTO logs(log_line_id, jid_id, contact_name, time, kind, show, message) VALUES (8, 2, 'B_gmail.com', 1313899171, 2, NULL, 'test2');
INSERT INTO logs(log_line_id, jid_id, contact_name, time, kind, show, message) VALUES (9, 1, NULL, 1323508565, 4, NULL, '');
