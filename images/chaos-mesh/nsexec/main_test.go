package main

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// daemonArgs builds nsexec's arguments the way chaos-daemon's
// bpm.CommandBuilder.Build does: each namespace option is prepended in turn,
// then -l.
func daemonArgs(local bool, ns [][2]string, cmd ...string) []string {
	args := append([]string{"--"}, cmd...)
	for _, o := range ns {
		args = append([]string{"-" + o[0], o[1]}, args...)
	}
	if local {
		args = append([]string{"-l"}, args...)
	}
	return args
}

func TestArgv(t *testing.T) {
	const localFD = 7
	tests := []struct {
		name string
		args []string
		want string
	}{{
		name: "tc server: net namespace",
		args: daemonArgs(false, [][2]string{{"n", "/proc/42/ns/net"}}, "ip", "-j", "addr", "show"),
		want: "nsenter --net=/proc/42/ns/net --no-fork -- ip -j addr show",
	}, {
		name: "stress server: pid namespace",
		args: daemonArgs(false, [][2]string{{"p", "/proc/42/ns/pid"}}, "stress-ng", "--cpu", "1"),
		want: "nsenter --pid=/proc/42/ns/pid --no-fork -- stress-ng --cpu 1",
	}, {
		name: "dns server: mount namespace",
		args: daemonArgs(false, [][2]string{{"m", "/proc/42/ns/mnt"}}, "sh", "-c", "cp /etc/resolv.conf x"),
		want: "nsenter --mount=/proc/42/ns/mnt --no-fork -- sh -c cp /etc/resolv.conf x",
	}, {
		name: "http chaos: -l without a mount namespace changes nothing",
		args: daemonArgs(true, [][2]string{{"p", "/proc/42/ns/pid"}, {"n", "/proc/42/ns/net"}}, "tproxy", "-i", "-vv"),
		want: "nsenter --net=/proc/42/ns/net --pid=/proc/42/ns/pid --no-fork -- tproxy -i -vv",
	}, {
		name: "block chaos: -l with a mount namespace runs the local binary",
		args: daemonArgs(true, [][2]string{{"m", "/proc/1/ns/mnt"}}, "cdh", "normalize-volume-name", "/var"),
		want: "nsenter --mount=/proc/1/ns/mnt --no-fork -- /proc/self/fd/7 normalize-volume-name /var",
	}, {
		name: "io chaos: local, mount and pid",
		args: daemonArgs(true, [][2]string{{"m", "/proc/9/ns/mnt"}, {"p", "/proc/9/ns/pid"}}, "toda", "--path", "/data"),
		want: "nsenter --pid=/proc/9/ns/pid --mount=/proc/9/ns/mnt --no-fork -- /proc/self/fd/7 --path /data",
	}, {
		name: "ipc, uts and cgroup",
		args: []string{"-i", "/proc/1/ns/ipc", "-u", "/proc/1/ns/uts", "-c", "/proc/1/ns/cgroup", "--", "true"},
		want: "nsenter --ipc=/proc/1/ns/ipc --uts=/proc/1/ns/uts --cgroup=/proc/1/ns/cgroup --no-fork -- true",
	}, {
		name: "inline and long forms",
		args: []string{"-n=/a", "-p/b", "--mnt=/c", "--ipc", "/d", "--local", "--", "x"},
		want: "nsenter --net=/a --pid=/b --mount=/c --ipc=/d --no-fork -- /proc/self/fd/7",
	}, {
		name: "command without --",
		args: []string{"-n", "/proc/1/ns/net", "ip", "link"},
		want: "nsenter --net=/proc/1/ns/net --no-fork -- ip link",
	}, {
		name: "flags after -- belong to the command",
		args: []string{"-n", "/proc/1/ns/net", "--", "iptables", "-w", "-n", "-L"},
		want: "nsenter --net=/proc/1/ns/net --no-fork -- iptables -w -n -L",
	}, {
		name: "keep-fd and library-path are accepted and dropped",
		args: []string{"-k", "3", "--library-path", "/usr/local/lib/libnsenter.so", "-n", "/x", "--", "y"},
		want: "nsenter --net=/x --no-fork -- y",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := parse(tt.args)
			if err != nil {
				t.Fatalf("parse(%q): %v", tt.args, err)
			}
			if got := strings.Join(inv.argv(localFD), " "); got != tt.want {
				t.Errorf("parse(%q).argv()\n got %s\nwant %s", tt.args, got, tt.want)
			}
		})
	}
}

func TestLoadsLocally(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want bool
	}{
		{[]string{"-l", "-m", "/m", "--", "x"}, true},
		{[]string{"-m", "/m", "--", "x"}, false},
		{[]string{"-l", "-n", "/n", "--", "x"}, false},
	} {
		inv, err := parse(tt.args)
		if err != nil {
			t.Fatalf("parse(%q): %v", tt.args, err)
		}
		if got := inv.loadsLocally(); got != tt.want {
			t.Errorf("parse(%q).loadsLocally() = %v, want %v", tt.args, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"-n", "/proc/1/ns/net"},
		{"-n", "/proc/1/ns/net", "--"},
		{"-x", "/proc/1/ns/net", "--", "true"},
		{"-n"},
		{"-n="},
		{"-l=1", "--", "true"},
		{"--user=/proc/1/ns/user", "--", "true"},
	} {
		if _, err := parse(args); !errors.Is(err, errUsage) {
			t.Errorf("parse(%q) = %v, want a usage error", args, err)
		}
	}
}

func TestArgvKeepsCommand(t *testing.T) {
	inv, err := parse([]string{"-l", "-m", "/m", "--", "cdh", "a"})
	if err != nil {
		t.Fatal(err)
	}
	inv.argv(3)
	if !slices.Equal(inv.cmd, []string{"cdh", "a"}) {
		t.Errorf("argv changed the parsed command: %q", inv.cmd)
	}
}
