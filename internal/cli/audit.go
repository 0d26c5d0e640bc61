package cli

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/genguard/genguard/internal/app"
	"github.com/genguard/genguard/internal/audit"
	"github.com/genguard/genguard/internal/config"
	"github.com/genguard/genguard/internal/store/sqlite"
)

// errChainBroken makes `audit verify` exit 1 after printing its report.
var errChainBroken = errors.New("audit chain is broken")

func runAudit(ctx context.Context, env Env, args []string) error {
	const use = "genguard audit verify [--pub KEY.pem] | checkpoint | prune | pubkey"
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, use)
	}
	fs := newFlagSet("audit "+args[0], env)
	var c commonFlags
	c.register(fs)
	pub := fs.String("pub", "", "verify: PEM public key every checkpoint must be signed with")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("%w: %s", errUsage, use)
	}
	cfg, err := c.load(env)
	if err != nil {
		return err
	}
	open := func() (*sqlite.DB, error) { return app.OpenStore(ctx, cfg.DataDir) }
	switch args[0] {
	case "verify":
		o := audit.VerifyOptions{Retention: cfg.Audit.Retention.D(), Now: time.Now()}
		if *pub != "" {
			b, err := os.ReadFile(*pub)
			if err != nil {
				return err
			}
			if o.PublicKey, err = audit.ParsePublicKey(b); err != nil {
				return err
			}
		}
		db, err := open()
		if err != nil {
			return err
		}
		defer db.Close()
		rep, err := audit.Verify(ctx, db, o)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
		if !rep.OK {
			return fmt.Errorf("%w: first bad record: %w", errChainBroken, rep.Problem)
		}
		return nil
	case "checkpoint":
		db, key, err := openSigned(ctx, cfg)
		if err != nil {
			return err
		}
		defer db.Close()
		wrote, err := audit.Checkpoint(ctx, db, key, time.Now())
		if err != nil {
			return err
		}
		h, err := db.AuditHead(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "checkpoint at %d (new: %t)\n", h.Seq, wrote)
		return nil
	case "prune":
		db, key, err := openSigned(ctx, cfg)
		if err != nil {
			return err
		}
		defer db.Close()
		// Checkpoint first, so records up to now can anchor what remains.
		if _, err := audit.Checkpoint(ctx, db, key, time.Now()); err != nil {
			return err
		}
		anchor, n, err := audit.Prune(ctx, db, time.Now(), cfg.Audit.Retention.D(), "cli")
		if errors.Is(err, sqlite.ErrNoAnchor) {
			fmt.Fprintln(env.Stdout, "nothing to prune: no checkpoint older than the retention yet")
			return nil
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "pruned %d records; the chain now starts after checkpoint %d\n", n, anchor)
		return nil
	case "pubkey":
		key, err := app.AuditSigningKey(cfg)
		if err != nil {
			return err
		}
		_, err = env.Stdout.Write(audit.MarshalPublicKey(key.Public().(ed25519.PublicKey)))
		return err
	}
	return fmt.Errorf("%w: unknown audit subcommand %q (verify, checkpoint, prune, pubkey)", errUsage, args[0])
}

func openSigned(ctx context.Context, cfg config.Config) (*sqlite.DB, ed25519.PrivateKey, error) {
	db, err := app.OpenStore(ctx, cfg.DataDir)
	if err != nil {
		return nil, nil, err
	}
	key, err := app.AuditSigningKey(cfg)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, key, nil
}
