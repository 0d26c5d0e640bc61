package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/genguard/genguard/internal/store/storetest"
)

func TestUsersDutiesContract(t *testing.T) {
	storetest.RunUsersDuties(t, func(t *testing.T) storetest.UsersDutiesStore {
		db, err := Open(context.Background(), filepath.Join(t.TempDir(), "genguard.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}
