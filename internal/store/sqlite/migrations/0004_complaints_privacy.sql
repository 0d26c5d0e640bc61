-- Complaints (Measures Art. 15), personal-information requests (Art. 11,
-- PIPL Arts. 44–50), and the encrypted, redacted text store.

CREATE TABLE complaints (
	id             TEXT PRIMARY KEY,
	token_hash     BLOB NOT NULL,
	category       TEXT NOT NULL,
	channel        TEXT NOT NULL,
	status         TEXT NOT NULL CHECK (status IN ('received', 'in_review', 'resolved', 'rejected')),
	reason         TEXT NOT NULL DEFAULT '',
	description    TEXT NOT NULL,
	contact        TEXT NOT NULL DEFAULT '',
	user_id        TEXT,
	request_id     TEXT NOT NULL DEFAULT '',
	enforcement_id TEXT NOT NULL DEFAULT '',
	assignee       TEXT NOT NULL DEFAULT '',
	feedback       TEXT NOT NULL DEFAULT '',
	action         TEXT NOT NULL DEFAULT '',
	due_us         INTEGER NOT NULL,
	created_us     INTEGER NOT NULL,
	updated_us     INTEGER NOT NULL,
	closed_us      INTEGER
);
CREATE INDEX complaints_open_due ON complaints(status, due_us);
CREATE INDEX complaints_user ON complaints(user_id);

CREATE TABLE complaint_attachments (
	complaint_id TEXT PRIMARY KEY REFERENCES complaints(id) ON DELETE CASCADE,
	name         TEXT NOT NULL,
	type         TEXT NOT NULL,
	size         INTEGER NOT NULL,
	sha256       BLOB NOT NULL,
	data         BLOB NOT NULL
);

CREATE TABLE complaint_events (
	seq          INTEGER PRIMARY KEY AUTOINCREMENT,
	complaint_id TEXT NOT NULL REFERENCES complaints(id) ON DELETE CASCADE,
	time_us      INTEGER NOT NULL,
	actor        TEXT NOT NULL,
	kind         TEXT NOT NULL,
	from_status  TEXT NOT NULL DEFAULT '',
	to_status    TEXT NOT NULL DEFAULT '',
	text         TEXT NOT NULL DEFAULT '',
	internal     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX complaint_events_complaint ON complaint_events(complaint_id, seq);

CREATE TABLE pi_requests (
	id          TEXT PRIMARY KEY,
	user_id     TEXT NOT NULL,
	kind        TEXT NOT NULL,
	status      TEXT NOT NULL CHECK (status IN ('received', 'in_review', 'resolved', 'rejected')),
	detail      TEXT NOT NULL DEFAULT '',
	channel     TEXT NOT NULL,
	verified_by TEXT NOT NULL DEFAULT '',
	reason      TEXT NOT NULL DEFAULT '',
	feedback    TEXT NOT NULL DEFAULT '',
	due_us      INTEGER NOT NULL,
	created_us  INTEGER NOT NULL,
	closed_us   INTEGER
);
CREATE INDEX pi_requests_user ON pi_requests(user_id);
CREATE INDEX pi_requests_open_due ON pi_requests(status, due_us);

-- A user who withdrew consent to text storage (PIPL Art. 15).
CREATE TABLE privacy_consent (
	user_id      TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
	withdrawn_us INTEGER NOT NULL
);

CREATE TABLE stored_texts (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	request_id     TEXT NOT NULL,
	user_pseudonym TEXT NOT NULL,
	kind           TEXT NOT NULL,
	key_id         TEXT NOT NULL,
	sealed         BLOB NOT NULL,
	created_us     INTEGER NOT NULL
);
CREATE INDEX stored_texts_created ON stored_texts(created_us);
CREATE INDEX stored_texts_user ON stored_texts(user_pseudonym);
CREATE INDEX stored_texts_request ON stored_texts(request_id);

-- That an erasure happened (PIPL Art. 47 asks us to be able to show it),
-- naming the user only by pseudonym.
CREATE TABLE privacy_erasures (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	user_pseudonym TEXT NOT NULL,
	request_id     TEXT NOT NULL,
	time_us        INTEGER NOT NULL,
	report         TEXT NOT NULL
);
