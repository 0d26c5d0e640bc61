package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/genguard/genguard/internal/account"
	"github.com/genguard/genguard/internal/app"
	"github.com/genguard/genguard/internal/audit"
	"github.com/genguard/genguard/internal/store/sqlite"
)

// openAccounts opens the data directory for an operator command; SQLite's
// locking lets it run while the server does.
func openAccounts(ctx context.Context, env Env, c commonFlags) (*account.Service, *sqlite.DB, error) {
	cfg, err := c.load(env)
	if err != nil {
		return nil, nil, err
	}
	db, err := app.OpenStore(ctx, cfg.DataDir)
	if err != nil {
		return nil, nil, err
	}
	acc, err := app.Accounts(ctx, db, cfg)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return acc, db, nil
}

func runUsers(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: genguard users add NAME | genguard users list", errUsage)
	}
	fs := newFlagSet("users "+args[0], env)
	var c commonFlags
	c.register(fs)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "add":
		if fs.NArg() != 1 {
			return fmt.Errorf("%w: genguard users add [--data DIR] NAME", errUsage)
		}
		acc, db, err := openAccounts(ctx, env, c)
		if err != nil {
			return err
		}
		defer db.Close()
		u, secret, err := acc.CreateUser(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		// The append-only chain names the user by pseudonym only: a raw id
		// there would outlive an erasure (PIPL Art. 47, issue 6).
		if err := audit.NewDirect(db).Event(ctx, audit.Event{Kind: "admin.user_created", Actor: "cli", Subject: acc.Pseudonym(u.ID)}); err != nil {
			return err
		}
		// The key alone, so scripts can capture it: KEY=$(genguard users add x).
		fmt.Fprintln(env.Stdout, secret)
		return nil
	case "list":
		if fs.NArg() != 0 {
			return fmt.Errorf("%w: genguard users list [--data DIR]", errUsage)
		}
		acc, db, err := openAccounts(ctx, env, c)
		if err != nil {
			return err
		}
		defer db.Close()
		users, err := acc.Users(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tCREATED\tKEYS (active/all)")
		for _, u := range users {
			keys, err := acc.Keys(ctx, u.ID)
			if err != nil {
				return err
			}
			active := 0
			for _, k := range keys {
				if !k.Revoked() {
					active++
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\n", u.ID, u.Name, u.CreatedAt.Format("2006-01-02T15:04:05Z"), active, len(keys))
		}
		return tw.Flush()
	}
	return fmt.Errorf("%w: unknown users subcommand %q (add, list)", errUsage, args[0])
}
