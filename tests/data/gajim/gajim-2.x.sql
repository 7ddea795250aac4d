-- Gajim 2.x's logs.db: the tables and columns of gajim/common/storage/archive/models.py (account, remote,
-- occupant, moderation, oob, message), written out as the CREATE TABLE statements of that model.
CREATE TABLE account (pk INTEGER NOT NULL, jid TEXT NOT NULL, PRIMARY KEY (pk));
CREATE UNIQUE INDEX idx_account ON account (jid);
CREATE TABLE remote (pk INTEGER NOT NULL, jid TEXT NOT NULL, PRIMARY KEY (pk));
CREATE UNIQUE INDEX idx_remote ON remote (jid);
CREATE TABLE occupant (
    pk INTEGER NOT NULL, fk_account_pk INTEGER NOT NULL, fk_remote_pk INTEGER NOT NULL, id TEXT NOT NULL,
    fk_real_remote_pk TEXT, nickname TEXT, avatar_sha TEXT, updated_at FLOAT NOT NULL,
    PRIMARY KEY (pk),
    FOREIGN KEY(fk_account_pk) REFERENCES account (pk) ON DELETE CASCADE,
    FOREIGN KEY(fk_remote_pk) REFERENCES remote (pk),
    FOREIGN KEY(fk_real_remote_pk) REFERENCES remote (pk)
);
CREATE TABLE moderation (
    pk INTEGER NOT NULL, fk_account_pk INTEGER NOT NULL, fk_remote_pk INTEGER NOT NULL, fk_occupant_pk INTEGER,
    stanza_id TEXT NOT NULL, by TEXT, reason TEXT, timestamp FLOAT NOT NULL,
    PRIMARY KEY (pk),
    FOREIGN KEY(fk_account_pk) REFERENCES account (pk) ON DELETE CASCADE,
    FOREIGN KEY(fk_remote_pk) REFERENCES remote (pk),
    FOREIGN KEY(fk_occupant_pk) REFERENCES occupant (pk)
);
CREATE TABLE message (
    pk INTEGER NOT NULL, fk_account_pk INTEGER NOT NULL, fk_remote_pk INTEGER NOT NULL, resource TEXT,
    type INTEGER NOT NULL, direction INTEGER NOT NULL, timestamp FLOAT NOT NULL, state INTEGER NOT NULL,
    id TEXT NOT NULL, stanza_id TEXT, stable_id INTEGER NOT NULL, text TEXT, user_delay_ts FLOAT,
    fk_thread_pk INTEGER, fk_occupant_pk INTEGER, fk_encryption_pk INTEGER, fk_security_label_pk INTEGER,
    correction_id TEXT,
    PRIMARY KEY (pk),
    FOREIGN KEY(fk_account_pk) REFERENCES account (pk) ON DELETE CASCADE,
    FOREIGN KEY(fk_remote_pk) REFERENCES remote (pk),
    FOREIGN KEY(fk_occupant_pk) REFERENCES occupant (pk)
);
CREATE INDEX idx_message ON message (fk_remote_pk, fk_account_pk, timestamp DESC);
CREATE UNIQUE INDEX idx_message_unique ON message (id, fk_remote_pk, fk_account_pk, direction);
CREATE TABLE oob (
    fk_message_pk INTEGER NOT NULL, url TEXT NOT NULL, description TEXT,
    PRIMARY KEY (fk_message_pk),
    FOREIGN KEY(fk_message_pk) REFERENCES message (pk) ON DELETE CASCADE
);
PRAGMA user_version=8;

-- rows: the conversation of spadev/chatlogsync's GTalk sample (see tests/data/README); the correction,
-- moderation and file rows are added to exercise those columns.
INSERT INTO account(pk, jid) VALUES (1, 'source@gmail.com');
INSERT INTO remote(pk, jid) VALUES (1, 'dest@gmail.com');
INSERT INTO remote(pk, jid) VALUES (2, 'private-chat-00000000-0000-0000-0000-000000000000@groupchat.google.com');
INSERT INTO occupant(pk, fk_account_pk, fk_remote_pk, id, nickname, updated_at) VALUES (1, 1, 2, 'occ-a', 'A_gmail.com', 1313899161);
INSERT INTO message(pk, fk_account_pk, fk_remote_pk, resource, type, direction, timestamp, state, id, stanza_id, stable_id, text, fk_occupant_pk, correction_id) VALUES (1, 1, 1, 'res', 1, 2, 1323422023.0, 2, 'm1', NULL, 1, 'regular message', NULL, NULL);
INSERT INTO message(pk, fk_account_pk, fk_remote_pk, resource, type, direction, timestamp, state, id, stanza_id, stable_id, text, fk_occupant_pk, correction_id) VALUES (2, 1, 1, 'res', 1, 1, 1323422641.0, 2, 'm2', NULL, 1, 'regular message', NULL, NULL);
INSERT INTO message(pk, fk_account_pk, fk_remote_pk, resource, type, direction, timestamp, state, id, stanza_id, stable_id, text, fk_occupant_pk, correction_id) VALUES (3, 1, 1, 'res', 1, 2, 1323422651.0, 2, 'm3', NULL, 1, 'char>message', NULL, NULL);
INSERT INTO message(pk, fk_account_pk, fk_remote_pk, resource, type, direction, timestamp, state, id, stanza_id, stable_id, text, fk_occupant_pk, correction_id) VALUES (4, 1, 1, 'res', 1, 2, 1323422652.0, 2, 'm4', NULL, 1, 'char>message÷', NULL, 'm3');
INSERT INTO message(pk, fk_account_pk, fk_remote_pk, resource, type, direction, timestamp, state, id, stanza_id, stable_id, text, fk_occupant_pk, correction_id) VALUES (5, 1, 1, 'res', 1, 2, 1323422658.0, 2, 'm5', NULL, 1, 'multiline
message', NULL, NULL);
INSERT INTO message(pk, fk_account_pk, fk_remote_pk, resource, type, direction, timestamp, state, id, stanza_id, stable_id, text, fk_occupant_pk, correction_id) VALUES (6, 1, 1, 'res', 1, 1, 1323508565.0, 2, 'm6', NULL, 1, NULL, NULL, NULL);
INSERT INTO message(pk, fk_account_pk, fk_remote_pk, resource, type, direction, timestamp, state, id, stanza_id, stable_id, text, fk_occupant_pk, correction_id) VALUES (7, 1, 2, 'A_gmail.com', 2, 1, 1313899165.0, 2, 'g1', 's1', 1, 'test', 1, NULL);
INSERT INTO message(pk, fk_account_pk, fk_remote_pk, resource, type, direction, timestamp, state, id, stanza_id, stable_id, text, fk_occupant_pk, correction_id) VALUES (8, 1, 2, 'source', 2, 2, 1313899168.0, 2, 'g2', 's2', 1, 'what', NULL, NULL);
INSERT INTO message(pk, fk_account_pk, fk_remote_pk, resource, type, direction, timestamp, state, id, stanza_id, stable_id, text, fk_occupant_pk, correction_id) VALUES (9, 1, 2, 'B_gmail.com', 2, 1, 1313899171.0, 2, 'g3', 's3', 1, 'test2', NULL, NULL);
INSERT INTO oob(fk_message_pk, url, description) VALUES (6, 'https://example.org/upload/photo.jpg', NULL);
INSERT INTO moderation(pk, fk_account_pk, fk_remote_pk, stanza_id, by, reason, timestamp) VALUES (1, 1, 2, 's3', NULL, 'spam', 1313899200);
