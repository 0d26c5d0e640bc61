package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/genguard/genguard/internal/label"
)

func TestLabelDefaults(t *testing.T) {
	cfg, err := Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	l := cfg.Label
	if l.Producer != DefaultProducer || l.Notice != "「本内容由人工智能生成」" || l.NoticePosition != "end" || !l.TextNotice ||
		!l.ImageVisible || l.AudioRhythm != "start" || l.MaxUploadBytes != 32<<20 || l.FileTTL.D() != time.Hour || l.MaxFiles != 1000 {
		t.Errorf("label defaults = %+v", l)
	}
	if s, err := l.Signer(); s != nil || err != nil {
		t.Errorf("default Signer() = %v, %v; want no key", s, err)
	}
}

func TestLabelSection(t *testing.T) {
	s, err := label.GenerateSigner()
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, _ := s.PrivateKeyPEM()
	keyFile := filepath.Join(t.TempDir(), "label.pem")
	if err := os.WriteFile(keyFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, keyEnv string }{{"key file", keyFile}, {"PEM in env", string(pemBytes)}} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load("testdata/ok_label.yaml", env(map[string]string{"LABEL_KEY": tt.keyEnv}))
			if err != nil {
				t.Fatal(err)
			}
			l := cfg.Label
			pos, _ := l.Position()
			audio, _ := l.Audio()
			if l.Producer != "001191110102MAD55U9H0F10002" || l.Notice != "（AI生成）" || pos != label.Start || l.TextNotice || l.ImageVisible ||
				!audio.Start || !audio.End || l.MaxUploadBytes != 4096 || l.FileTTL.D() != 10*time.Minute || l.MaxFiles != 5 {
				t.Errorf("label = %+v", l)
			}
			got, err := l.Signer()
			if err != nil || got == nil || string(got.PublicKeyPEM()) != string(s.PublicKeyPEM()) {
				t.Errorf("Signer() = %v, %v; want the generated key", got, err)
			}
		})
	}
	_, err = Load("testdata/ok_label.yaml", env(map[string]string{"LABEL_KEY": "-----BEGIN PRIVATE KEY-----\nnope\n"}))
	if err == nil || !strings.Contains(err.Error(), "ok_label.yaml:3: label.signing_key: SM2 private key") {
		t.Errorf("bad PEM: err = %v, want ok_label.yaml:3: label.signing_key", err)
	}
}
