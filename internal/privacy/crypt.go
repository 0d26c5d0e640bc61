package privacy

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// Keyring seals stored text with AES-256-GCM. New text is sealed with the
// current key; older keys stay for reading, so keys rotate by adding a new
// id and making it current, and old ones are dropped once the retention
// period has purged everything they sealed.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
}

// ErrUnknownKey is returned for text sealed with a key no longer configured.
var ErrUnknownKey = errors.New("unknown encryption key id")

// NewKeyring builds a keyring; every key is 32 bytes and current must be
// one of them.
func NewKeyring(current string, keys map[string][]byte) (*Keyring, error) {
	k := &Keyring{current: current, aeads: map[string]cipher.AEAD{}}
	for id, key := range keys {
		if id == "" || len(id) > 32 {
			return nil, fmt.Errorf("keyring: key id %q must be 1-32 characters", id)
		}
		if len(key) != 32 {
			return nil, fmt.Errorf("keyring: key %s is %d bytes, want 32 (AES-256)", id, len(key))
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("keyring: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("keyring: %w", err)
		}
		k.aeads[id] = aead
	}
	if _, ok := k.aeads[current]; !ok {
		return nil, fmt.Errorf("keyring: current key %q is not among the keys", current)
	}
	return k, nil
}

// Seal encrypts plaintext with the current key, binding aad (the record's
// identity) so a sealed value cannot be moved to another record.
func (k *Keyring) Seal(plaintext, aad []byte) (keyID string, sealed []byte) {
	a := k.aeads[k.current]
	nonce := make([]byte, a.NonceSize())
	rand.Read(nonce)
	return k.current, a.Seal(nonce, nonce, plaintext, aad)
}

// Open decrypts a value sealed by Seal with key keyID.
func (k *Keyring) Open(keyID string, sealed, aad []byte) ([]byte, error) {
	a, ok := k.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownKey, keyID)
	}
	if len(sealed) < a.NonceSize()+a.Overhead() {
		return nil, errors.New("sealed text is truncated")
	}
	pt, err := a.Open(nil, sealed[:a.NonceSize()], sealed[a.NonceSize():], aad)
	if err != nil {
		return nil, fmt.Errorf("open sealed text: %w", err)
	}
	return pt, nil
}
