package sqlite

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/genguard/genguard/internal/store"

	"github.com/genguard/genguard/internal/store/storetest"
)

func TestComplaintsPrivacyContract(t *testing.T) {
	storetest.RunComplaintsPrivacy(t, func(t *testing.T) storetest.ComplaintsPrivacyStore {
		db, err := Open(context.Background(), filepath.Join(t.TempDir(), "genguard.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// TestEraseLeavesNothing fills every table the user can reach, erases the
// user, and then searches every column of every table in sqlite_master and
// every file in the data directory for the user's id, name and key ids.
func TestEraseLeavesNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, filepath.Join(dir, "genguard.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	u := store.User{ID: "u_residue0000001", Name: "Residue-Name-Zq9", CreatedAt: now}
	keys := []string{"keyresidue000001", "keyresidue000002"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.CreateUser(ctx, u))
	for _, k := range keys {
		must(db.CreateKey(ctx, store.APIKey{ID: k, UserID: u.ID, Scope: store.ScopeUser, Hash: []byte("hash-" + k), CreatedAt: now}))
	}
	// Many rows, so the data spans pages that the erasure must scrub.
	for i := range 200 {
		c := store.Complaint{ID: fmt.Sprintf("C-%03d", i), TokenHash: []byte("t"), Category: "other", Channel: "api", Status: "received",
			Description: "filed by " + u.Name + " " + strings.Repeat("x", 300), Contact: u.Name + "@example.com", UserID: u.ID, DueAt: now, CreatedAt: now}
		must(db.CreateComplaint(ctx, c, &store.Attachment{AttachmentMeta: store.AttachmentMeta{Name: u.Name + ".txt", Type: "text/plain", Size: 40, SHA256: []byte{1}},
			Data: []byte("attachment of " + u.ID + " " + u.Name)}, store.ComplaintEvent{Time: now, Actor: "complainant", Kind: "filed", Text: u.Name}))
	}
	must(db.CreatePIRequest(ctx, store.PIRequest{ID: "P-1", UserID: u.ID, Kind: store.PICorrect, Status: "received", Detail: "my name is " + u.Name, Channel: "api", DueAt: now, CreatedAt: now}))
	must(db.WithdrawConsent(ctx, u.ID, now))
	must(db.InsertStoredTexts(ctx, []store.StoredText{{RequestID: "req_1", UserPseudonym: "p_residue", Kind: "prompt", KeyID: "k1", Sealed: []byte("sealed " + u.Name), CreatedAt: now}}))
	// A table another issue might add, unknown to the erasure code.
	_, err = db.db.ExecContext(ctx, `CREATE TABLE later_feature (id INTEGER PRIMARY KEY, owner TEXT REFERENCES users(id), note TEXT, blob_col BLOB)`)
	must(err)
	_, err = db.db.ExecContext(ctx, `INSERT INTO later_feature (owner, note, blob_col) VALUES (?, ?, ?)`, u.ID, "key "+keys[0]+" used", []byte("by "+u.ID))
	must(err)

	if _, err := db.EraseUser(ctx, store.Erasure{UserID: u.ID, UserName: u.Name, KeyIDs: keys, Pseudonym: "p_residue",
		KeyPseudonym: map[string]string{keys[0]: "k_a", keys[1]: "k_b"}, RequestID: "P-1", At: now}); err != nil {
		t.Fatal(err)
	}
	needles := append([]string{u.ID, u.Name}, keys...)
	res, err := db.FindResidue(ctx, needles)
	must(err)
	for _, r := range res {
		t.Errorf("%q still in %s.%s (%d rows)", r.Needle, r.Table, r.Column, r.Rows)
	}
	db.Close()
	assertNoFileContains(t, dir, needles)
}

// assertNoFileContains fails for any file under dir holding a needle.
func assertNoFileContains(t *testing.T, dir string, needles []string) {
	t.Helper()
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range needles {
			if bytes.Contains(b, []byte(n)) {
				t.Errorf("file %s still contains %q", path, n)
			}
		}
		return nil
	})
}
