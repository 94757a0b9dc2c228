package expiry

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Shell runs a command where a timer lives (the host, or a node) and
// returns its combined output; faults.Exec has this shape.
type Shell func(ctx context.Context, args ...string) (string, error)

// Prefix starts every timer's marker.
const Prefix = "firedrill-expiry"

// Marker names one timer of a run. Run and name are reduced to letters,
// digits and dashes, so that the marker is also a plain pkill pattern.
func Marker(run, name string) string { return RunMarker(run) + clean(name) }

// RunMarker is the part of the marker that every timer of a run shares.
func RunMarker(run string) string { return Prefix + ":" + clean(run) + ":" }

func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-':
			return r
		}
		return '-'
	}, s)
}

// Script is the shell script a timer runs: sleep, then every undo command,
// each one's failure ignored so that the next still runs.
func Script(after time.Duration, undo ...[]string) string {
	var b strings.Builder
	b.WriteString("sleep " + strconv.FormatFloat(after.Seconds(), 'f', 3, 64))
	for _, argv := range undo {
		b.WriteString("; ")
		quoted := make([]string, len(argv))
		for i, a := range argv {
			quoted[i] = Quote(a)
		}
		b.WriteString(strings.Join(quoted, " "))
	}
	return b.String()
}

// Quote quotes s for a POSIX shell.
func Quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Start arms a timer through sh, on a node: a shell there starts it in a
// session of its own (setsid) and returns at once; the timer's output goes
// nowhere, so nothing waits on it. Killing the harness kills only its local
// docker exec client, never what that started inside the node.
func Start(ctx context.Context, sh Shell, marker string, after time.Duration, undo ...[]string) error {
	if err := check(marker, after, undo); err != nil {
		return err
	}
	launch := "setsid sh -c " + Quote(Script(after, undo...)) + " " + Quote(marker) + " </dev/null >/dev/null 2>&1 &"
	if out, err := sh(ctx, "sh", "-c", launch); err != nil {
		return fmt.Errorf("expiry %s: start timer: %w: %s", marker, err, strings.TrimSpace(out))
	}
	return nil
}

func check(marker string, after time.Duration, undo [][]string) error {
	switch {
	case after <= 0:
		return fmt.Errorf("expiry %s: delay %s must be positive", marker, after)
	case len(undo) == 0:
		return fmt.Errorf("expiry %s: no undo command", marker)
	}
	return nil
}

// Cancel stops every timer whose marker starts with marker (one timer, or
// with RunMarker all of a run's) and says how many it stopped. The pattern
// brackets its first letter so that it never matches the shell that runs
// pkill, whose own argv holds the pattern.
func Cancel(ctx context.Context, sh Shell, marker string) (int, error) {
	if !strings.HasPrefix(marker, Prefix) {
		return 0, errors.New("expiry: cancel: marker " + Quote(marker) + " is not a timer's")
	}
	pattern := "[" + marker[:1] + "]" + marker[1:]
	out, err := sh(ctx, "sh", "-c", "pkill -c -f -- "+Quote(pattern)+"; true")
	if err != nil {
		return 0, fmt.Errorf("expiry %s: cancel: %w: %s", marker, err, strings.TrimSpace(out))
	}
	n, _ := strconv.Atoi(lastLine(out))
	return n, nil
}

// lastLine returns the last non-empty line of out, trimmed.
func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// Host runs commands on this machine; Cancel takes it for host timers.
func Host(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	return string(out), err
}

// StartHost arms a timer on this machine. The kernel puts the timer in a
// session of its own as it forks it, so no instant exists at which killing
// the caller's process group would take the timer with it. A goroutine
// reaps it should the caller outlive it.
func StartHost(marker string, after time.Duration, undo ...[]string) error {
	if err := check(marker, after, undo); err != nil {
		return err
	}
	cmd := exec.Command("sh", "-c", Script(after, undo...), marker)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("expiry %s: start timer: %w", marker, err)
	}
	go func() { _ = cmd.Wait() }()
	return nil
}
