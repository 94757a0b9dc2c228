package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/firedrill-dev/firedrill/internal/appcontract"
)

// errCrashOnStart is returned when CRASH_ON_START is set, so that the pod
// exits at once and Kubernetes puts it in CrashLoopBackOff.
var errCrashOnStart = errors.New(appcontract.EnvCrashOnStart + " is set: exiting on purpose")

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	// After the first signal, restore the default action so that a second
	// Ctrl-C stops a drain that a person does not want to wait for.
	context.AfterFunc(ctx, stop)
	err := run(ctx, logger, os.Getenv)
	stop()
	if err != nil {
		logger.Error("exiting", "err", err)
		os.Exit(1)
	}
}

// run reads the configuration, binds both ports and serves until ctx is
// cancelled and the drain is over. It takes getenv so that tests can pass
// their own environment.
func run(ctx context.Context, logger *slog.Logger, getenv func(string) string) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	if cfg.CrashOnStart {
		return errCrashOnStart
	}
	user, err := net.Listen("tcp", fmt.Sprintf(":%d", cfg.Port))
	if err != nil {
		return err
	}
	admin, err := net.Listen("tcp", fmt.Sprintf(":%d", cfg.AdminPort))
	if err != nil {
		user.Close()
		return err
	}
	a := newApp(cfg, logger)
	if cfg.Flags != nil {
		if a.flags, err = newFlags(*cfg.Flags); err != nil {
			user.Close()
			admin.Close()
			return err
		}
		logger.Info("evaluating a feature flag", "server", cfg.Flags.Server, "flag", cfg.Flags.Key, "newPathVersion", cfg.Flags.OnVersion)
	}
	return serve(ctx, logger, a, user, admin, cfg.Drain)
}
