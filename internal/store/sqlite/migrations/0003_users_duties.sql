-- Issue 5: service agreements, profiles (age band, guardian, training
-- opt-out), the enforcement ladder, minors' usage time, quota overrides.
CREATE TABLE agreements (
	version      TEXT PRIMARY KEY,
	body         TEXT NOT NULL,
	sha256       TEXT NOT NULL,
	published_at INTEGER NOT NULL
);

CREATE TABLE agreement_acceptances (
	user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	version     TEXT NOT NULL REFERENCES agreements(version),
	sha256      TEXT NOT NULL,
	channel     TEXT NOT NULL,
	accepted_at INTEGER NOT NULL,
	PRIMARY KEY (user_id, version)
);

CREATE TABLE user_profiles (
	user_id              TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
	age_band             TEXT NOT NULL CHECK (age_band IN ('unknown', 'adult', '16-18', 'under16')),
	age_confirmed_at     INTEGER NOT NULL,
	guardian_daily_limit INTEGER NOT NULL,
	guardian_hours       TEXT NOT NULL,
	training_opt_out     INTEGER NOT NULL,
	updated_at           INTEGER NOT NULL
);

CREATE TABLE user_standing (
	user_id    TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
	status     TEXT NOT NULL CHECK (status IN ('ok', 'warned', 'restricted', 'suspended', 'terminated')),
	until_us   INTEGER NOT NULL,
	reason     TEXT NOT NULL,
	updated_at INTEGER NOT NULL
);

CREATE TABLE violations (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	time_us   INTEGER NOT NULL,
	record_id TEXT NOT NULL,
	decision  TEXT NOT NULL,
	risks     TEXT NOT NULL,
	points    INTEGER NOT NULL
);
CREATE INDEX violations_user_time ON violations(user_id, time_us);

CREATE TABLE sanctions (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	time_us     INTEGER NOT NULL,
	from_status TEXT NOT NULL,
	to_status   TEXT NOT NULL,
	until_us    INTEGER NOT NULL,
	actor       TEXT NOT NULL,
	reason      TEXT NOT NULL,
	points      INTEGER NOT NULL,
	evidence    TEXT NOT NULL
);
CREATE INDEX sanctions_user ON sanctions(user_id, id);
CREATE INDEX sanctions_time ON sanctions(time_us);

CREATE TABLE usage_time (
	user_id          TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
	day              TEXT NOT NULL,
	used_us          INTEGER NOT NULL,
	session_start_us INTEGER NOT NULL,
	last_active_us   INTEGER NOT NULL
);

CREATE TABLE quota_overrides (
	kind           TEXT NOT NULL CHECK (kind IN ('user', 'key')),
	subject        TEXT NOT NULL,
	rpm            INTEGER NOT NULL,
	tokens_per_day INTEGER NOT NULL,
	PRIMARY KEY (kind, subject)
);

CREATE TABLE duty_settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
