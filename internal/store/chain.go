package store

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"strings"
	"time"
)

// ChainHash is the hash of r in the audit chain: SHA-256 over a domain tag,
// r.PrevHash and every stored field, each length-prefixed so no two records
// encode alike. Seq is included, so moving a record to another position
// changes its hash. Every store computes it the same way, inside the
// transaction that assigns Seq, and `genguard audit verify` recomputes it.
func ChainHash(r AuditRecord) []byte {
	h := sha256.New()
	b := make([]byte, 0, 512)
	b = append(b, "genguard-audit-v1\x00"...)
	bytesField := func(p []byte) {
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
	}
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	num := func(n int64) { b = binary.BigEndian.AppendUint64(b, uint64(n)) }
	bytesField(r.PrevHash)
	num(r.Seq)
	str(r.Kind)
	str(r.ID)
	num(r.Time.UnixMicro())
	str(r.UserPseudonym)
	str(r.KeyID)
	str(r.Endpoint)
	str(r.Model)
	str(r.Upstream)
	str(r.Stage)
	str(r.Decision)
	str(strings.Join(r.Risks, ","))
	num(int64(r.Status))
	if r.Stream {
		num(1)
	} else {
		num(0)
	}
	num(r.LatencyMicros)
	num(int64(r.PromptTokens))
	num(int64(r.CompletionTokens))
	str(r.Actor)
	str(r.Subject)
	bytesField(r.Details)
	str(EncodeEvidence(r.Evidence))
	h.Write(b)
	return h.Sum(nil)
}

// EncodeEvidence is how stores keep Evidence: a JSON array, or "" for none.
// Encoding what was decoded from it gives the same bytes, so the hash of a
// stored record survives the round trip.
func EncodeEvidence(ev []string) string {
	if len(ev) == 0 {
		return ""
	}
	b, _ := json.Marshal(ev) // []string always marshals
	return string(b)
}

// DecodeEvidence parses what EncodeEvidence produced.
func DecodeEvidence(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var ev []string
	if err := json.Unmarshal([]byte(s), &ev); err != nil {
		return nil, err
	}
	return ev, nil
}

// ChainHead is the last record of the audit chain, kept by the store in the
// same transaction as the records, so a truncated tail is visible.
type ChainHead struct {
	Seq  int64
	Hash []byte
}

// Checkpoint is a signed statement that the chain up to Seq had head Hash.
// Signature covers audit.CheckpointMessage(Seq, Hash, Time).
type Checkpoint struct {
	Seq       int64
	Hash      []byte
	Time      time.Time
	PublicKey []byte // ed25519
	Signature []byte
}

// AuditCount is one group of an aggregate over audit records.
type AuditCount struct {
	Kind     string
	Endpoint string
	Stage    string
	Decision string
	Risks    string // comma-joined, as stored
	Status   int
	N        int64
}
