-- Issue 7: the audit log becomes a hash chain of requests and events.
ALTER TABLE audit_records ADD COLUMN kind TEXT NOT NULL DEFAULT 'request';
ALTER TABLE audit_records ADD COLUMN actor TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_records ADD COLUMN subject TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_records ADD COLUMN details BLOB NOT NULL DEFAULT x'';
ALTER TABLE audit_records ADD COLUMN evidence TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_records ADD COLUMN prev_hash BLOB NOT NULL DEFAULT x'';
ALTER TABLE audit_records ADD COLUMN hash BLOB NOT NULL DEFAULT x'';
CREATE INDEX audit_records_kind_time ON audit_records(kind, time_us);

-- The last record's seq and hash, updated in every inserting transaction:
-- a deleted tail leaves the head pointing past the last row.
CREATE TABLE audit_chain_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  INTEGER NOT NULL,
	hash BLOB NOT NULL
);

CREATE TABLE audit_checkpoints (
	seq        INTEGER PRIMARY KEY,
	hash       BLOB NOT NULL,
	time_us    INTEGER NOT NULL,
	public_key BLOB NOT NULL,
	signature  BLOB NOT NULL
);

-- Append-only: a chained row cannot be updated (rows written before this
-- migration are hashed once, by the migration itself). This guards against
-- mistakes; against a deliberate edit the chain and checkpoints do.
CREATE TRIGGER audit_records_append_only BEFORE UPDATE ON audit_records
WHEN OLD.hash != x''
BEGIN
	SELECT RAISE(ABORT, 'audit records are append-only');
END;

-- Registries (Measures Art. 7, 8, 19; TC260-003 §5).
CREATE TABLE training_sources (
	id          TEXT PRIMARY KEY,
	body        BLOB NOT NULL,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
);
CREATE TABLE annotation_rules (
	id          TEXT NOT NULL,
	version     INTEGER NOT NULL,
	kind        TEXT NOT NULL CHECK (kind IN ('functional', 'security')),
	body        BLOB NOT NULL,
	created_at  INTEGER NOT NULL,
	PRIMARY KEY (id, version)
);
CREATE TABLE model_cards (
	id          TEXT PRIMARY KEY,
	body        BLOB NOT NULL,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
);
