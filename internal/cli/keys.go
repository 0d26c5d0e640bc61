package cli

import (
	"context"
	"fmt"

	"github.com/genguard/genguard/internal/audit"
)

func runKeys(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] != "revoke" {
		return fmt.Errorf("%w: genguard keys revoke [--data DIR] KEY_ID", errUsage)
	}
	fs := newFlagSet("keys revoke", env)
	var c commonFlags
	c.register(fs)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: genguard keys revoke [--data DIR] KEY_ID", errUsage)
	}
	acc, db, err := openAccounts(ctx, env, c)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := acc.Revoke(ctx, fs.Arg(0)); err != nil {
		return err
	}
	if err := audit.NewDirect(db).Event(ctx, audit.Event{Kind: "admin.key_revoked", Actor: "cli", Subject: fs.Arg(0)}); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "revoked %s\n", fs.Arg(0))
	return nil
}
