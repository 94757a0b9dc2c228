package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/firedrill-dev/firedrill/internal/appcontract"
)

// readHeaderTimeout bounds how long a client may take to send its headers,
// so that stuck connections cannot hold the server.
const readHeaderTimeout = 10 * time.Second

// drainTimes shape the graceful stop. Delay must cover the time the endpoints
// controller and kube-proxy take to stop sending new connections; Timeout
// must cover the slowest in-flight request and stay below the pod's
// terminationGracePeriodSeconds minus Delay.
type drainTimes struct {
	Delay   time.Duration
	Timeout time.Duration
}

// serve runs the user and admin servers on the given listeners until ctx is
// cancelled, then drains. It returns nil only after a complete drain.
func serve(ctx context.Context, logger *slog.Logger, a *app, user, admin net.Listener, d drainTimes) error {
	servers := []*http.Server{
		{Handler: a.userHandler(), ReadHeaderTimeout: readHeaderTimeout},
		{Handler: a.adminHandler(), ReadHeaderTimeout: readHeaderTimeout},
	}
	listeners := []net.Listener{user, admin}
	errc := make(chan error, len(servers))
	for i, s := range servers {
		go func() { errc <- s.Serve(listeners[i]) }()
	}
	logger.Info("serving", "version", a.version, "addr", user.Addr().String(), "adminAddr", admin.Addr().String())
	select {
	case err := <-errc:
		closeAll(servers)
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	return drain(logger, a, servers, d)
}

// drain stops the servers in the order that loses no request: fail
// readiness and keep serving while the pod leaves the endpoints, then stop
// accepting and let in-flight requests finish.
func drain(logger *slog.Logger, a *app, servers []*http.Server, d drainTimes) error {
	a.startDraining()
	logger.Info("draining: readiness fails, still serving", "delay", d.Delay)
	time.Sleep(d.Delay)

	logger.Info("shutting down: no new connections, waiting for in-flight requests", "timeout", d.Timeout)
	ctx, cancel := context.WithTimeout(context.Background(), d.Timeout)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(ctx); err != nil {
			closeAll(servers)
			return fmt.Errorf("drain did not finish within %s=%s: %w", appcontract.EnvDrainTimeout, d.Timeout, err)
		}
	}
	logger.Info("stopped")
	return nil
}

// closeAll cuts every connection. It is the last resort when a server failed
// or the drain ran out of time.
func closeAll(servers []*http.Server) {
	for _, s := range servers {
		s.Close()
	}
}
