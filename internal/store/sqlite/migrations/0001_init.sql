CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE users (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
	id         TEXT PRIMARY KEY,
	user_id    TEXT REFERENCES users(id) ON DELETE CASCADE,
	scope      TEXT NOT NULL CHECK (scope IN ('user', 'admin')),
	hash       BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	revoked_at INTEGER
);
CREATE INDEX api_keys_user ON api_keys(user_id);

CREATE TABLE audit_records (
	seq               INTEGER PRIMARY KEY AUTOINCREMENT,
	id                TEXT NOT NULL,
	time_us           INTEGER NOT NULL,
	user_pseudonym    TEXT NOT NULL,
	key_id            TEXT NOT NULL,
	endpoint          TEXT NOT NULL,
	model             TEXT NOT NULL,
	upstream          TEXT NOT NULL,
	stage             TEXT NOT NULL,
	decision          TEXT NOT NULL,
	risks             TEXT NOT NULL,
	status            INTEGER NOT NULL,
	stream            INTEGER NOT NULL,
	latency_us        INTEGER NOT NULL,
	prompt_tokens     INTEGER NOT NULL,
	completion_tokens INTEGER NOT NULL
);
CREATE INDEX audit_records_time ON audit_records(time_us);
CREATE INDEX audit_records_id ON audit_records(id);
