// Command nsexec stands in for Chaos Mesh's Rust nsexec, which is not
// available offline. chaos-daemon runs every command that must see a target
// container's namespaces as
//
//	/usr/local/bin/nsexec [-l] -<m|i|n|p> /proc/PID/ns/<ns> ... -- CMD ARGS...
//
// (pkg/bpm: nsArgMap and build_linux.go). nsexec maps those flags to util-linux
// nsenter and execs it, so the pid that chaos-daemon tracks, signals and puts
// into a cgroup becomes CMD itself.
//
// nsenter runs with --no-fork. Without it nsenter forks when entering a pid
// namespace and does not forward signals, so the SIGTERM chaos-daemon sends on
// recovery would stop nsenter and leave CMD (for example stress-ng) running.
// With --no-fork CMD stays in chaos-daemon's pid namespace and the processes it
// starts (stress-ng's workers) are in the target's.
//
// -l (local) asks for CMD to be loaded from chaos-daemon's own filesystem while
// it runs in the target's mount namespace; the Rust nsexec does that with an
// LD_PRELOAD library that enters the namespace before main. nsexec instead
// opens CMD before nsenter changes the mount namespace and runs it as
// /proc/self/fd/N. That needs the /proc of the target's mount namespace to
// show this process: true for BlockChaos (cdh in the mount namespace of PID 1,
// with chaos-daemon on hostPID), not for a container's mount namespace (IOChaos,
// whose toda is not available offline anyway). A dynamically linked CMD would
// load its interpreter from the target's filesystem; cdh is static. Without
// -m, -l changes nothing, as in the Rust nsexec.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// nsenterPath is util-linux nsenter in the chaos-daemon image. chaos-daemon
// may start nsexec with an environment that has no PATH.
const nsenterPath = "/usr/bin/nsenter"

// defaultPath resolves CMD for -l when the environment has no PATH.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// nsFlags maps the Rust nsexec's short and long flags to nsenter's long
// options. chaos-daemon uses m, i, n and p; u and c are accepted too.
var nsFlags = map[string]string{
	"m": "mount", "mnt": "mount",
	"i": "ipc", "ipc": "ipc",
	"n": "net", "net": "net",
	"p": "pid", "pid": "pid",
	"u": "uts", "uts": "uts",
	"c": "cgroup", "cgroup": "cgroup",
}

// ignoredFlags take a value and need no mapping: descriptors without
// close-on-exec survive the exec anyway (keep-fd), and there is no preload
// library (library-path).
var ignoredFlags = map[string]bool{"k": true, "keep-fd": true, "library-path": true}

// invocation is a parsed nsexec command line.
type invocation struct {
	// namespaces holds nsenter options such as --net=/proc/1/ns/net, in
	// command-line order.
	namespaces []string
	// local is -l: load CMD from our filesystem even when -m is given.
	local bool
	// mount records whether -m was given.
	mount bool
	cmd   []string
}

// errUsage marks command lines nsexec cannot run.
var errUsage = errors.New("usage: nsexec [-l] [-m|-i|-n|-p|-u|-c FILE]... [--] CMD [ARG]...")

// parse reads the Rust nsexec's command line: flags, then CMD and its
// arguments after "--" or from the first argument that is not a flag.
func parse(args []string) (invocation, error) {
	var inv invocation
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			inv.cmd = args[i+1:]
			break
		}
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			inv.cmd = args[i:]
			break
		}
		name, value, hasValue := splitFlag(arg)
		if name == "l" || name == "local" {
			if hasValue {
				return inv, fmt.Errorf("%w: -l takes no value", errUsage)
			}
			inv.local = true
			continue
		}
		ns, isNS := nsFlags[name]
		if !isNS && !ignoredFlags[name] {
			return inv, fmt.Errorf("%w: unknown flag %s", errUsage, arg)
		}
		if !hasValue {
			if i+1 >= len(args) {
				return inv, fmt.Errorf("%w: %s needs a value", errUsage, arg)
			}
			i++
			value = args[i]
		}
		if !isNS {
			continue
		}
		if value == "" {
			return inv, fmt.Errorf("%w: %s needs a namespace file", errUsage, arg)
		}
		inv.namespaces = append(inv.namespaces, "--"+ns+"="+value)
		inv.mount = inv.mount || ns == "mount"
	}
	if len(inv.cmd) == 0 {
		return inv, fmt.Errorf("%w: no command", errUsage)
	}
	return inv, nil
}

// splitFlag splits "-n", "-nFILE", "-n=FILE", "--net" and "--net=FILE" into
// the flag name and an inline value.
func splitFlag(arg string) (name, value string, hasValue bool) {
	if long, ok := strings.CutPrefix(arg, "--"); ok {
		return strings.Cut(long, "=")
	}
	name, value = arg[1:2], arg[2:]
	if value == "" {
		return name, "", false
	}
	return name, strings.TrimPrefix(value, "="), true
}

// loadsLocally reports whether CMD must be opened before the mount namespace
// changes.
func (inv invocation) loadsLocally() bool { return inv.local && inv.mount }

// argv returns nsenter's argument vector. localFD is the descriptor of CMD
// opened in our mount namespace; it is used only when loadsLocally.
func (inv invocation) argv(localFD int) []string {
	argv := append([]string{"nsenter"}, inv.namespaces...)
	argv = append(argv, "--no-fork", "--")
	cmd := inv.cmd
	if inv.loadsLocally() {
		cmd = append([]string{fmt.Sprintf("/proc/self/fd/%d", localFD)}, cmd[1:]...)
	}
	return append(argv, cmd...)
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "nsexec:", err)
		os.Exit(1)
	}
}

// run replaces this process with nsenter; it returns only on failure.
func run(args []string) error {
	inv, err := parse(args)
	if err != nil {
		return err
	}
	if len(inv.namespaces) == 0 {
		path, err := lookPath(inv.cmd[0])
		if err != nil {
			return err
		}
		return syscall.Exec(path, inv.cmd, os.Environ())
	}
	localFD := -1
	if inv.loadsLocally() {
		path, err := lookPath(inv.cmd[0])
		if err != nil {
			return err
		}
		// No O_CLOEXEC: the descriptor must survive into nsenter and CMD.
		if localFD, err = syscall.Open(path, syscall.O_RDONLY, 0); err != nil {
			return fmt.Errorf("open %s: %w", path, err)
		}
	}
	nsenter := nsenterPath
	if _, err := os.Stat(nsenter); err != nil {
		if nsenter, err = exec.LookPath("nsenter"); err != nil {
			return err
		}
	}
	return syscall.Exec(nsenter, inv.argv(localFD), os.Environ())
}

// lookPath resolves name in our filesystem as execvp would, with a default
// PATH when the environment has none; CMD's environment is left alone.
func lookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	path := os.Getenv("PATH")
	if path == "" {
		path = defaultPath
	}
	for _, dir := range strings.Split(path, ":") {
		if dir == "" {
			dir = "."
		}
		candidate := dir + "/" + name
		if st, err := os.Stat(candidate); err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0 {
			return candidate, nil
		}
	}
	return "", fmt.Errorf("%s: %w", name, exec.ErrNotFound)
}
