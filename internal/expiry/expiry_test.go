package expiry

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMarkerIsAPlainPattern(t *testing.T) {
	got := Marker("run 1/ä", "node-pause.firedrill-control-plane")
	if want := "firedrill-expiry:run-1--:node-pause-firedrill-control-plane"; got != want {
		t.Fatalf("Marker = %q, want %q", got, want)
	}
	if !strings.HasPrefix(got, RunMarker("run 1/ä")) {
		t.Fatalf("%q does not start with its run marker", got)
	}
}

func TestScriptQuotes(t *testing.T) {
	got := Script(1500*time.Millisecond, []string{"echo", "it's"}, []string{"true"})
	if want := `sleep 1.500; 'echo' 'it'\''s'; 'true'`; got != want {
		t.Fatalf("Script = %q, want %q", got, want)
	}
}

// helperEnv makes the test binary, run again as a child, arm a host timer
// that touches the file it names and then wait to be killed.
const helperEnv = "FIREDRILL_EXPIRY_HELPER"

func TestMain(m *testing.M) {
	if file := os.Getenv(helperEnv); file != "" {
		if err := StartHost(Marker("helper", "outlive"), 300*time.Millisecond, []string{"touch", file}); err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		fmt.Println("armed")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestTimerOutlivesItsStarter has a child process arm a host timer, kills
// the child's whole process group with SIGKILL the moment the timer is
// armed, as a crashing harness would be, and checks that the timer still ran
// its undo command.
func TestTimerOutlivesItsStarter(t *testing.T) {
	done := filepath.Join(t.TempDir(), "undone")
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), helperEnv+"="+done)
	child.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "armed\n" {
		t.Fatalf("helper said %q, %v", line, err)
	}
	if err := syscall.Kill(-child.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(done); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the timer never ran its undo command (%s missing)", done)
}

// TestCancelStopsOnlyItsTimers arms two timers of one run and one of
// another, cancels one by its marker and then the rest of its run, and
// checks what ran.
func TestCancelStopsOnlyItsTimers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	run, other := "a-"+filepath.Base(dir), "b-"+filepath.Base(dir)
	file := func(n string) string { return filepath.Join(dir, n) }
	for _, tm := range []struct{ run, name string }{{run, "one"}, {run, "two"}, {other, "three"}} {
		if err := Start(ctx, Host, Marker(tm.run, tm.name), 700*time.Millisecond, []string{"touch", file(tm.name)}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := Cancel(ctx, Host, Marker(run, "one")); err != nil || n != 1 {
		t.Fatalf("cancel one: %d, %v; want 1 timer", n, err)
	}
	if n, err := Cancel(ctx, Host, RunMarker(run)); err != nil || n != 1 {
		t.Fatalf("cancel the rest of %s: %d, %v; want 1 timer", run, n, err)
	}
	time.Sleep(1500 * time.Millisecond)
	for name, want := range map[string]bool{"one": false, "two": false, "three": true} {
		_, err := os.Stat(file(name))
		if ran := err == nil; ran != want {
			t.Errorf("timer %s ran = %v, want %v", name, ran, want)
		}
	}
}

func TestStartRefusesNonsense(t *testing.T) {
	ctx := context.Background()
	if err := Start(ctx, Host, Marker("r", "n"), 0, []string{"true"}); err == nil {
		t.Error("a zero delay was accepted")
	}
	if err := Start(ctx, Host, Marker("r", "n"), time.Second); err == nil {
		t.Error("a timer with no undo command was accepted")
	}
	if _, err := Cancel(ctx, Host, "sshd"); err == nil {
		t.Error("cancel accepted a pattern that is not a timer marker")
	}
}
