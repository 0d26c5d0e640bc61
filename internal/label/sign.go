package label

// Anti-tamper data in ReservedCode1/ReservedCode2, after TC260-PG-202511A
// (security protection of labels). The guide's appendix A describes a
// "SecurityData" JSON object; the shape below follows the guide as far as
// it is known from published files (MiniMax videos carry exactly this
// structure with SM3withSM2 signatures), and is self-consistent where it
// is not:
//
//	{"SecurityData":{"Type":"TC260PG","Version":1,"PubSD":[
//	   {"Type":"DS","AlgID":"1.2.156.10197.1.501","TBSData":{"Type":"Md"},"Signature":"<HEX DER>"},
//	   {"Type":"DS","AlgID":"1.2.156.10197.1.501","TBSData":{"Type":"Bnd"},"Signature":"<HEX DER>"},
//	   {"Type":"PubKey","AlgID":"1.2.156.10197.1.501","KeyValue":"<HEX SubjectPublicKeyInfo DER>"}],
//	 "Bindings":[{"BType":0,"AlgID":"1.2.156.10197.1.401","CntSel":"genguard-payload-v1","Hash":"<HEX SM3>"}]}}
//
//   - The "Md" signature (appendix A.1) covers the ASCII string
//     "Label":"1","ContentProducer":"…","ProduceID":"…" for the producer;
//     the propagator's ReservedCode2 covers "Label":…,"ContentPropagator":
//     …,"PropagateID":… (our analogy; the guide text was not available).
//   - The "Bnd" signature covers the compact JSON of the Bindings entry,
//     whose Hash is the SM3 digest of the content without its label
//     (CntSel genguard-payload-v1 = what [Digest] hashes, per format).
//   - SM3withSM2 (OID 1.2.156.10197.1.501) with the default SM2 user ID
//     1234567812345678; signatures are ASN.1 DER, hex upper case.
//
// The public key travels in the file, so a signature checked only against
// it proves integrity, not origin; pass a pinned key to Verify for origin.

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

const (
	oidSM3withSM2 = "1.2.156.10197.1.501"
	oidSM3        = "1.2.156.10197.1.401"
	cntSel        = "genguard-payload-v1"
)

// Signer signs labels with an SM2 private key.
type Signer struct {
	key    *sm2.PrivateKey
	pubDER []byte
}

// PublicKey is an SM2 public key used to pin a signer in Verify.
type PublicKey struct {
	key *ecdsa.PublicKey
	der []byte
}

// NewSigner wraps an SM2 private key.
func NewSigner(key *sm2.PrivateKey) (*Signer, error) {
	der, err := smx509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("marshal SM2 public key: %w", err)
	}
	return &Signer{key: key, pubDER: der}, nil
}

// GenerateSigner creates a fresh SM2 key (for tests and first setup).
func GenerateSigner() (*Signer, error) {
	k, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate SM2 key: %w", err)
	}
	return NewSigner(k)
}

// ParseSigner reads a PEM "PRIVATE KEY" (PKCS #8) or "EC PRIVATE KEY"/
// "SM2 PRIVATE KEY" (SEC 1) holding an SM2 key.
func ParseSigner(pemBytes []byte) (*Signer, error) {
	b, _ := pem.Decode(pemBytes)
	if b == nil {
		return nil, errors.New("SM2 private key: no PEM block")
	}
	var key *sm2.PrivateKey
	switch b.Type {
	case "PRIVATE KEY":
		k, err := smx509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("SM2 private key: %w", err)
		}
		var ok bool
		if key, ok = k.(*sm2.PrivateKey); !ok {
			return nil, fmt.Errorf("SM2 private key: PKCS #8 key is %T, not SM2", k)
		}
	case "EC PRIVATE KEY", "SM2 PRIVATE KEY":
		k, err := smx509.ParseSM2PrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("SM2 private key: %w", err)
		}
		key = k
	default:
		return nil, fmt.Errorf("SM2 private key: unexpected PEM type %q", b.Type)
	}
	return NewSigner(key)
}

// LoadSigner reads ParseSigner's input from a file.
func LoadSigner(path string) (*Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("SM2 private key: %w", err)
	}
	return ParseSigner(b)
}

// PrivateKeyPEM encodes the key as PKCS #8 PEM.
func (s *Signer) PrivateKeyPEM() ([]byte, error) {
	der, err := smx509.MarshalPKCS8PrivateKey(s.key)
	if err != nil {
		return nil, fmt.Errorf("marshal SM2 private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// PublicKeyPEM encodes the public key as PKIX PEM.
func (s *Signer) PublicKeyPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: s.pubDER})
}

// Public returns the signer's public key.
func (s *Signer) Public() *PublicKey {
	return &PublicKey{key: &s.key.PublicKey, der: s.pubDER}
}

// ParsePublicKey reads a PEM "PUBLIC KEY" holding an SM2 key.
func ParsePublicKey(pemBytes []byte) (*PublicKey, error) {
	b, _ := pem.Decode(pemBytes)
	if b == nil || b.Type != "PUBLIC KEY" {
		return nil, errors.New("SM2 public key: no PEM PUBLIC KEY block")
	}
	return publicFromDER(b.Bytes)
}

// LoadPublicKey reads ParsePublicKey's input from a file.
func LoadPublicKey(path string) (*PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("SM2 public key: %w", err)
	}
	return ParsePublicKey(b)
}

func publicFromDER(der []byte) (*PublicKey, error) {
	k, err := smx509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("SM2 public key: %w", err)
	}
	ek, ok := k.(*ecdsa.PublicKey)
	if !ok || !sm2.IsSM2PublicKey(ek) {
		return nil, fmt.Errorf("SM2 public key: key is %T, not SM2", k)
	}
	return &PublicKey{key: ek, der: der}, nil
}

// securityData is the ReservedCode JSON. Field order is the wire order.
type securityData struct {
	SecurityData struct {
		Type     string    `json:"Type"`
		Version  int       `json:"Version"`
		PubSD    []pubSD   `json:"PubSD"`
		Bindings []binding `json:"Bindings,omitempty"`
	} `json:"SecurityData"`
}

type pubSD struct {
	Type      string   `json:"Type"`
	AlgID     string   `json:"AlgID"`
	TBSData   *tbsData `json:"TBSData,omitempty"`
	Signature string   `json:"Signature,omitempty"`
	KeyValue  string   `json:"KeyValue,omitempty"`
}

type tbsData struct {
	Type string `json:"Type"`
}

type binding struct {
	BType  int    `json:"BType"`
	AlgID  string `json:"AlgID"`
	CntSel string `json:"CntSel"`
	Hash   string `json:"Hash"`
}

func compactJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // unreachable: fixed struct of strings and ints
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// producerMessage and propagatorMessage are the appendix A.1 signed strings.
func producerMessage(a AIGC) []byte {
	return []byte(`"Label":` + quote(a.Label) + `,"ContentProducer":` + quote(a.ContentProducer) + `,"ProduceID":` + quote(a.ProduceID))
}

func propagatorMessage(a AIGC) []byte {
	return []byte(`"Label":` + quote(a.Label) + `,"ContentPropagator":` + quote(a.ContentPropagator) + `,"PropagateID":` + quote(a.PropagateID))
}

// quote JSON-encodes a validated (printable ASCII) value.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func (s *Signer) sign(msg []byte) (string, error) {
	sig, err := s.key.Sign(rand.Reader, msg, sm2.NewSM2SignerOption(true, nil))
	if err != nil {
		return "", fmt.Errorf("SM2 sign: %w", err)
	}
	return strings.ToUpper(hex.EncodeToString(sig)), nil
}

func (s *Signer) securityData(msg, digest []byte) (string, error) {
	var sd securityData
	sd.SecurityData.Type = "TC260PG"
	sd.SecurityData.Version = 1
	md, err := s.sign(msg)
	if err != nil {
		return "", err
	}
	sd.SecurityData.PubSD = append(sd.SecurityData.PubSD, pubSD{Type: "DS", AlgID: oidSM3withSM2, TBSData: &tbsData{Type: "Md"}, Signature: md})
	if digest != nil {
		b := binding{BType: 0, AlgID: oidSM3, CntSel: cntSel, Hash: strings.ToUpper(hex.EncodeToString(digest))}
		bnd, err := s.sign(compactJSON(b))
		if err != nil {
			return "", err
		}
		sd.SecurityData.Bindings = []binding{b}
		sd.SecurityData.PubSD = append(sd.SecurityData.PubSD, pubSD{Type: "DS", AlgID: oidSM3withSM2, TBSData: &tbsData{Type: "Bnd"}, Signature: bnd})
	}
	sd.SecurityData.PubSD = append(sd.SecurityData.PubSD, pubSD{Type: "PubKey", AlgID: oidSM3withSM2, KeyValue: strings.ToUpper(hex.EncodeToString(s.pubDER))})
	return string(compactJSON(sd)), nil
}

// SignProducer fills ReservedCode1 with SecurityData over the producer
// fields and, when digest is not nil, the content digest (see [Digest]).
func (s *Signer) SignProducer(a AIGC, digest []byte) (AIGC, error) {
	v, err := s.securityData(producerMessage(a), digest)
	if err != nil {
		return a, err
	}
	a.ReservedCode1 = v
	return a, nil
}

// SignPropagator fills ReservedCode2 likewise over the propagator fields.
func (s *Signer) SignPropagator(a AIGC, digest []byte) (AIGC, error) {
	v, err := s.securityData(propagatorMessage(a), digest)
	if err != nil {
		return a, err
	}
	a.ReservedCode2 = v
	return a, nil
}

// Status is the outcome of checking one reserved field.
type Status string

// Verification outcomes.
const (
	Unsigned Status = "unsigned"
	Valid    Status = "valid"
	Invalid  Status = "invalid"
)

// Check is the result for one side (producer or propagator).
type Check struct {
	Status Status `json:"status"`
	Reason string `json:"reason"`
	// Pinned is true when the signature was checked against a key the
	// caller trusts, not only the key embedded in the file.
	Pinned bool `json:"pinned"`
	// ContentBound is true when a content digest was signed and matches.
	ContentBound bool `json:"content_bound"`
}

// Verification is the report of [Verify].
type Verification struct {
	Format     Format `json:"format"`
	Label      AIGC   `json:"label"`
	Producer   Check  `json:"producer"`
	Propagator Check  `json:"propagator"`
}

// VerifyOptions pins keys; nil keys mean "trust the embedded key".
type VerifyOptions struct {
	Options
	Producer   *PublicKey
	Propagator *PublicKey
}

// Verify reads the label of data and checks ReservedCode1 and
// ReservedCode2. The error is non-nil only when there is no readable label.
func Verify(data []byte, opts VerifyOptions) (Verification, error) {
	a, f, err := Read(data, opts.Options)
	if err != nil && !errors.Is(err, ErrMultipleLabels) {
		return Verification{Format: f}, err
	}
	v := Verification{Format: f, Label: a}
	var digest []byte
	digestFn := func() ([]byte, error) {
		if digest == nil {
			d, _, err := Digest(data, opts.Options)
			if err != nil {
				return nil, err
			}
			digest = d
		}
		return digest, nil
	}
	v.Producer = checkSecurityData(a.ReservedCode1, producerMessage(a), opts.Producer, digestFn)
	v.Propagator = checkSecurityData(a.ReservedCode2, propagatorMessage(a), opts.Propagator, digestFn)
	return v, nil
}

func checkSecurityData(field string, msg []byte, pinned *PublicKey, digest func() ([]byte, error)) Check {
	if field == "" {
		return Check{Status: Unsigned, Reason: "reserved field is empty"}
	}
	var sd securityData
	if err := json.Unmarshal([]byte(field), &sd); err != nil || sd.SecurityData.Type != "TC260PG" {
		return Check{Status: Unsigned, Reason: "reserved field holds an opaque value, not TC260 SecurityData"}
	}
	var keyHex string
	var md, bnd string
	for _, e := range sd.SecurityData.PubSD {
		switch {
		case e.Type == "PubKey" && e.AlgID == oidSM3withSM2 && keyHex == "":
			keyHex = e.KeyValue
		case e.Type == "DS" && e.AlgID == oidSM3withSM2 && e.TBSData != nil:
			switch e.TBSData.Type {
			case "Md", "LabelMataData":
				md = e.Signature
			case "Bnd", "Binding":
				bnd = e.Signature
			}
		}
	}
	if md == "" {
		return Check{Status: Unsigned, Reason: "SecurityData has no SM3withSM2 label signature"}
	}
	key := pinned
	c := Check{Pinned: pinned != nil}
	if keyHex != "" {
		der, err := hex.DecodeString(keyHex)
		if err != nil {
			return Check{Status: Invalid, Reason: "embedded key is not hex"}
		}
		if pinned != nil && !bytes.Equal(der, pinned.der) {
			return Check{Status: Invalid, Reason: "signed with a key other than the pinned one", Pinned: true}
		}
		if key == nil {
			if key, err = publicFromDER(der); err != nil {
				return Check{Status: Invalid, Reason: err.Error()}
			}
		}
	}
	if key == nil {
		return Check{Status: Invalid, Reason: "no public key embedded and none pinned"}
	}
	if !verifyHex(key, msg, md) {
		c.Status, c.Reason = Invalid, "label signature does not verify: label fields were changed"
		return c
	}
	if len(sd.SecurityData.Bindings) > 0 && bnd != "" {
		b := sd.SecurityData.Bindings[0]
		if !verifyHex(key, compactJSON(b), bnd) {
			c.Status, c.Reason = Invalid, "content binding signature does not verify"
			return c
		}
		if b.CntSel != cntSel || b.AlgID != oidSM3 {
			c.Status, c.Reason = Valid, fmt.Sprintf("label signature valid; content binding %q/%s not recomputable", b.CntSel, b.AlgID)
			return c
		}
		d, err := digest()
		if err != nil {
			c.Status, c.Reason = Invalid, "content digest: "+err.Error()
			return c
		}
		if !strings.EqualFold(hex.EncodeToString(d), b.Hash) {
			c.Status, c.Reason = Invalid, "content digest differs: the media was changed after signing"
			return c
		}
		c.ContentBound = true
	}
	c.Status = Valid
	switch {
	case c.ContentBound && c.Pinned:
		c.Reason = "label and content signature valid (pinned key)"
	case c.ContentBound:
		c.Reason = "label and content signature valid with the embedded key (not pinned: integrity, not origin)"
	case c.Pinned:
		c.Reason = "label signature valid (pinned key); no content binding"
	default:
		c.Reason = "label signature valid with the embedded key (not pinned); no content binding"
	}
	return c
}

func verifyHex(key *PublicKey, msg []byte, sigHex string) bool {
	sig, err := hex.DecodeString(sigHex)
	if err != nil {
		return false
	}
	return sm2.VerifyASN1WithSM2(key.key, nil, msg, sig)
}
