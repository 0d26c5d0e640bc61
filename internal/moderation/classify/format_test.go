package classify

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// tinyModel is a valid model small enough for hostile-file tests and fuzzing.
func tinyModel(t testing.TB) []byte {
	t.Helper()
	m, err := Train(synthetic(false), TrainOptions{Classes: synthClasses, Bits: minBits, Epochs: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := m.Save(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSaveLoadRoundTrip(t *testing.T) {
	m := trainSynthetic(t)
	var b bytes.Buffer
	if err := m.Save(&b); err != nil {
		t.Fatalf("Save() error: %v", err)
	}
	got, err := Load(&b)
	if err != nil {
		t.Fatalf("Load() error: %v", err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Error("Load(Save(m)) differs from m")
	}
	for _, ex := range synthetic(true) {
		if a, b := m.Predict(ex.Text), got.Predict(ex.Text); !reflect.DeepEqual(a, b) {
			t.Errorf("Predict(%q) = %+v after round trip, want %+v", ex.Text, b, a)
		}
	}
}

// withCRC recomputes the trailer so a test reaches the check it targets.
func withCRC(b []byte) []byte {
	b = bytes.Clone(b)
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.ChecksumIEEE(b[:len(b)-4]))
	return b
}

// Offsets into the fixed header.
const (
	offVersion = len(magic)
	offBits    = offVersion + 2
	offMinN    = offBits + 1
	offMaxN    = offMinN + 1
	offClasses = offMaxN + 1
	offThresh  = offClasses + 1
	offFirst   = offThresh + 4 // first class's name length
)

func TestLoadRejectsHostileFiles(t *testing.T) {
	good := tinyModel(t)
	set := func(off int, v ...byte) []byte {
		b := bytes.Clone(good)
		copy(b[off:], v)
		return withCRC(b)
	}
	nan := make([]byte, 4)
	binary.LittleEndian.PutUint32(nan, math.Float32bits(float32(math.NaN())))

	tests := []struct {
		name string
		give []byte
	}{
		{"empty", nil},
		{"magic only", []byte(magic)},
		{"bad magic", set(0, 'X')},
		{"future version", set(offVersion, 2, 0)},
		{"zero classes", set(offClasses, 0)},
		{"too many classes", set(offClasses, maxClasses+1)},
		{"bits too large", set(offBits, maxBits+1)},
		{"bits too small", set(offBits, 1)},
		{"n-gram order 0", set(offMaxN, 0)},
		{"min order above max", set(offMinN, 4)},
		{"threshold NaN", set(offThresh, nan...)},
		{"class name too long", set(offFirst, 200)},
		{"bad checksum", func() []byte { b := bytes.Clone(good); b[len(b)-1] ^= 0xff; return b }()},
		{"flipped weight byte", func() []byte { b := bytes.Clone(good); b[len(b)-10] ^= 0x55; return b }()},
		{"trailing weights", longerWeights(t, good)},
		{"invalid risk code", replaceRisk(t, good, "A.1.h", "A.9.z")},
		{"NaN scale", nanScale(t, good)},
	}
	for i := range len(good) - 1 {
		tests = append(tests, struct {
			name string
			give []byte
		}{fmt.Sprintf("truncated at %d", i), good[:i]})
	}
	for _, tt := range tests {
		m, err := Load(bytes.NewReader(tt.give))
		if err == nil || m != nil {
			t.Errorf("Load(%s) = %v, %v; want nil, error", tt.name, m, err)
			continue
		}
		if !errors.Is(err, ErrFormat) {
			t.Errorf("Load(%s) error = %v, want it to wrap ErrFormat", tt.name, err)
		}
	}
}

// headerEnd returns the offset where the DEFLATE stream of b starts.
func headerEnd(t testing.TB, b []byte) int {
	t.Helper()
	// Walk the header: fixed part, classes, then 8 bytes per class.
	p := offFirst
	k := int(b[offClasses])
	for range k {
		p += 1 + int(b[p])
		n := int(b[p])
		p++
		for range n {
			p += 1 + int(b[p])
		}
	}
	return p + 8*k
}

func longerWeights(t testing.TB, good []byte) []byte {
	end := headerEnd(t, good)
	var body bytes.Buffer
	fw, _ := flate.NewWriter(&body, flate.BestCompression)
	fw.Write(make([]byte, (1<<minBits)*len(synthClasses)+10))
	fw.Close()
	b := append(bytes.Clone(good[:end]), body.Bytes()...)
	return withCRC(append(b, 0, 0, 0, 0))
}

func replaceRisk(t testing.TB, good []byte, from, to string) []byte {
	t.Helper()
	i := bytes.Index(good, []byte(from))
	if i < 0 {
		t.Fatalf("no %s in model", from)
	}
	b := bytes.Clone(good)
	copy(b[i:], to)
	return withCRC(b)
}

func nanScale(t testing.TB, good []byte) []byte {
	end := headerEnd(t, good)
	b := bytes.Clone(good)
	binary.LittleEndian.PutUint32(b[end-8*len(synthClasses):], math.Float32bits(float32(math.NaN())))
	return withCRC(b)
}

func FuzzLoad(f *testing.F) {
	good := tinyModel(f)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Load(bytes.NewReader(data))
		if err != nil {
			return
		}
		// Anything Load accepts must predict and round-trip.
		m.Predict("测试一下这个模型 test")
		var b bytes.Buffer
		if err := m.Save(&b); err != nil {
			t.Fatalf("Save() of a loaded model: %v", err)
		}
		if _, err := Load(&b); err != nil {
			t.Fatalf("Load(Save(Load(data))) error: %v", err)
		}
	})
}

// TestWriteFuzzSeeds rewrites the committed FuzzLoad seed corpus with -update.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite testdata/fuzz/FuzzLoad")
	}
	good := tinyModel(t)
	seeds := map[string][]byte{
		"valid":          good,
		"truncated":      good[:len(good)/2],
		"header_only":    good[:offFirst],
		"bad_checksum":   append(bytes.Clone(good[:len(good)-1]), good[len(good)-1]^1),
		"too_many_class": withCRC(append(append(bytes.Clone(good[:offClasses]), 200), good[offClasses+1:]...)),
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzLoad")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
