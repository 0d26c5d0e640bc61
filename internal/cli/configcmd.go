package cli

import (
	"context"
	"fmt"

	"github.com/genguard/genguard/internal/config"
)

func runConfig(ctx context.Context, env Env, args []string) error {
	if len(args) != 2 || args[0] != "check" {
		return fmt.Errorf("%w: genguard config check FILE", errUsage)
	}
	cfg, err := config.Load(args[1], env.Getenv)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: ok (%d upstreams, %d models, listen %s)\n", args[1], len(cfg.Upstreams), len(cfg.Models), cfg.Listen)
	return nil
}
