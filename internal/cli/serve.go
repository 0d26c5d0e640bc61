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
	var opts []app.Option
	if env.Now != nil {
		opts = append(opts, app.WithClock(env.Now))
	}
	a, err := app.New(ctx, cfg, log, env.Stdout, opts...)
	if err != nil {
		return err
	}
	return a.Run(ctx)
}
