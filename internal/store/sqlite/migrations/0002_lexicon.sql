-- Keyword library versions (TC260-003 §8.1: updated at least weekly). One
-- row per distinct library content, with when it was first loaded, from
-- where, and its coverage; by_risk is a JSON object {risk code: terms}.
CREATE TABLE lexicon_versions (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    hash      TEXT NOT NULL,
    loaded_at INTEGER NOT NULL, -- unix microseconds
    source    TEXT NOT NULL,
    terms     INTEGER NOT NULL,
    allow     INTEGER NOT NULL,
    by_risk   TEXT NOT NULL
);
CREATE INDEX lexicon_versions_hash ON lexicon_versions (hash);
