package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/genguard/genguard/internal/store"
)

// CheckpointMessage is what a checkpoint's signature covers.
func CheckpointMessage(seq int64, hash []byte, at time.Time) []byte {
	b := make([]byte, 0, 64+len(hash))
	b = append(b, "genguard-audit-checkpoint-v1\x00"...)
	b = binary.BigEndian.AppendUint64(b, uint64(seq))
	b = binary.AppendUvarint(b, uint64(len(hash)))
	b = append(b, hash...)
	b = binary.BigEndian.AppendUint64(b, uint64(at.UnixMicro()))
	return b
}

// KeyFingerprint is a short name for a public key in reports.
func KeyFingerprint(pub []byte) string {
	s := sha256.Sum256(pub)
	return hex.EncodeToString(s[:8])
}

// LoadOrCreateKey reads the ed25519 signing key at path (PEM, PKCS #8),
// creating it with mode 0600 on first use. O_EXCL settles a race between
// two processes starting at once: the loser reads the winner's key.
func LoadOrCreateKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		_, priv, gerr := ed25519.GenerateKey(rand.Reader)
		if gerr != nil {
			return nil, fmt.Errorf("audit signing key: %w", gerr)
		}
		der, merr := x509.MarshalPKCS8PrivateKey(priv)
		if merr != nil {
			return nil, fmt.Errorf("audit signing key: %w", merr)
		}
		f, oerr := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if oerr == nil {
			werr := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr == nil {
				werr = syncDir(path)
			}
			if werr != nil {
				return nil, fmt.Errorf("audit signing key: %w", werr)
			}
			return priv, nil
		}
		if !errors.Is(oerr, fs.ErrExist) {
			return nil, fmt.Errorf("audit signing key: %w", oerr)
		}
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("audit signing key: %w", err)
	}
	return ParsePrivateKey(b)
}

func syncDir(path string) error {
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// ParsePrivateKey parses a PEM PKCS #8 ed25519 private key.
func ParsePrivateKey(b []byte) (ed25519.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("audit signing key: no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("audit signing key: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("audit signing key: %T is not ed25519", k)
	}
	return priv, nil
}

// ParsePublicKey parses a PEM PKIX ed25519 public key (from `genguard
// audit pubkey`), for pinning in verify.
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("audit public key: no PEM block")
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("audit public key: %w", err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("audit public key: %T is not ed25519", k)
	}
	return pub, nil
}

// MarshalPublicKey encodes pub as PEM PKIX.
func MarshalPublicKey(pub ed25519.PublicKey) []byte {
	der, _ := x509.MarshalPKIXPublicKey(pub) // ed25519 always marshals
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// CheckpointStore is what writing a checkpoint needs.
type CheckpointStore interface {
	AuditHead(ctx context.Context) (store.ChainHead, error)
	LastCheckpoint(ctx context.Context) (store.Checkpoint, error)
	InsertCheckpoint(ctx context.Context, c store.Checkpoint) error
}

// Checkpoint signs the current chain head unless it is already
// checkpointed; it reports whether it wrote one.
func Checkpoint(ctx context.Context, s CheckpointStore, key ed25519.PrivateKey, now time.Time) (bool, error) {
	head, err := s.AuditHead(ctx)
	if err != nil {
		return false, err
	}
	if head.Seq == 0 {
		return false, nil
	}
	last, err := s.LastCheckpoint(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, fmt.Errorf("checkpoint: %w", err)
	}
	if err == nil && last.Seq >= head.Seq {
		return false, nil
	}
	now = time.UnixMicro(now.UnixMicro()).UTC()
	c := store.Checkpoint{Seq: head.Seq, Hash: head.Hash, Time: now, PublicKey: key.Public().(ed25519.PublicKey),
		Signature: ed25519.Sign(key, CheckpointMessage(head.Seq, head.Hash, now))}
	if err := s.InsertCheckpoint(ctx, c); err != nil {
		return false, err
	}
	return true, nil
}
