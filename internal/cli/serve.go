package cli

import (
	"context"

	"github.com/genguard/genguard/internal/app"
)

func runServe(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet("serve", env)
	var c commonFlags
	c.register(fs)
	listen := fs.String("listen", "", "address to listen on (overrides listen from the config; default 127.0.0.1:8080)")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := c.load(env)
	if err != nil {
		return err
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	log := newLogger(env.Stderr, cfg)
	a, err := app.New(ctx, cfg, log, env.Stdout)
	if err != nil {
		return err
	}
	return a.Run(ctx)
}
