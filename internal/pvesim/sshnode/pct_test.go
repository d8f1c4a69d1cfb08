package sshnode_test

import (
	"strings"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/backend"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/sshnode"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/sshnode/sshnodetest"
)

var stopped102 = sshnode.Container{VMID: 102, Status: "stopped", Name: "db"}

func TestPctCommandResults(t *testing.T) {
	n := sshnodetest.Start(t, sshnodetest.NewHost(
		running101,
		stopped102,
		sshnode.Container{VMID: 1000, Status: "running", Lock: "backup", Name: "a-container-with-a-long-name"},
	))
	c := n.Client(t)
	tests := []struct {
		name string
		line string
		want result
	}{
		{"status running", "pct status 101", result{stdout: "status: running\n"}},
		{"status stopped", "pct status 102", result{stdout: "status: stopped\n"}},
		{"status verbose", "pct status 1000 --verbose", result{stdout: "lock: backup\nname: a-container-with-a-long-name\nstatus: running\ntype: lxc\nvmid: 1000\n"}},
		{"status abbreviated", "pct stat 101", result{stdout: "status: running\n"}},
		{"status via full path", "/usr/sbin/pct status 101", result{stdout: "status: running\n"}},
		{"list", "pct list", result{stdout: "" +
			"VMID       Status     Lock         Name                \n" +
			"101        running                 web                 \n" +
			"102        stopped                 db                  \n" +
			"1000       running    backup       a-container-with-a-long-name\n"}},

		{"unknown container: status", "pct status 999", result{code: 255, stderr: "Configuration file 'nodes/pve/lxc/999.conf' does not exist\n"}},
		{"unknown container: exec", "pct exec 999 -- true", result{code: 255, stderr: "Configuration file 'nodes/pve/lxc/999.conf' does not exist\n"}},
		{"stopped container: exec", "pct exec 102 -- true", result{code: 255, stderr: "container '102' not running!\n"}},
		{"exec without command", "pct exec 101", result{code: 255, stderr: "missing command\n"}},
		{"exec without command after --", "pct exec 101 --", result{code: 255, stderr: "missing command\n"}},
		{"stopped container: push", "pct push 102 a /b", result{code: 255, stderr: "can only push files to a running CT\n"}},
		{"unknown container: push", "pct push 999 a /b", result{code: 255, stderr: "can only push files to a running CT\n"}},
		{"stopped container: pull", "pct pull 102 /a b", result{code: 255, stderr: "can only pull files from a running VM\n"}},

		{"vmid not a number", "pct exec abc -- true", result{code: 255, stderr: "400 Parameter verification failed.\n" +
			"vmid: type check ('integer') failed - got 'abc'\n" +
			"pct exec <vmid> [<extra-args>] [OPTIONS]\n"}},
		{"vmid too small", "pct status 99", result{code: 255, stderr: "400 Parameter verification failed.\n" +
			"vmid: invalid format - value does not look like a valid VM ID\n\n" +
			"pct status <vmid> [OPTIONS]\n"}},
		{"vmid missing", "pct status", result{code: 255, stderr: "400 not enough arguments\npct status <vmid> [OPTIONS]\n"}},
		{"push missing destination", "pct push 101 a", result{code: 255, stderr: "400 not enough arguments\npct push <vmid> <file> <destination> [OPTIONS]\n"}},
		{"list with an argument", "pct list 101", result{code: 255, stderr: "400 too many arguments\npct list\n"}},
		{"unknown option", "pct pull 101 /a b --mode 600", result{code: 255, stderr: "Unknown option: mode\n400 unable to parse option\npct pull <vmid> <path> <destination> [OPTIONS]\n"}},
		{"option without value", "pct push 101 a b --perms", result{code: 255, stderr: "Option perms requires an argument\n400 unable to parse option\npct push <vmid> <file> <destination> [OPTIONS]\n"}},
		{"bad boolean", "pct exec 101 --keep-env maybe -- true", result{code: 255, stderr: "400 unable to parse boolean option\npct exec <vmid> [<extra-args>] [OPTIONS]\n"}},
		{"options before -- only", "pct exec 101 ls -l", result{code: 255, stderr: "Unknown option: l\n400 unable to parse option\npct exec <vmid> [<extra-args>] [OPTIONS]\n"}},

		{"not pct", "ls -l /", result{code: 127, stderr: "bash: ls: command not found\n"}},
		{"not pct, with a path", "/usr/bin/pct list", result{code: 127, stderr: "bash: /usr/bin/pct: No such file or directory\n"}},
		{"empty command", "", result{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := run(t, c, tt.line, ""); got != tt.want {
				t.Errorf("%s\n got %+v\nwant %+v", tt.line, got, tt.want)
			}
		})
	}
}

func TestPctSubcommandErrors(t *testing.T) {
	n := sshnodetest.Start(t, sshnodetest.NewHost(running101))
	c := n.Client(t)
	tests := []struct {
		line     string
		contains []string
	}{
		{"pct", []string{"ERROR: no command specified\nUSAGE: pct <COMMAND> [ARGS] [OPTIONS]\n", "       pct exec <vmid> [<extra-args>] [OPTIONS]\n"}},
		{"pct frobnicate 101", []string{"ERROR: unknown command 'pct frobnicate'\nUSAGE: pct <COMMAND> [ARGS] [OPTIONS]\n"}},
		{"pct st 101", []string{"ERROR: unknown command 'pct st'\n"}}, // start, status, stop, suspend…
		{"pct start 101", []string{"pct start: not available on the simulated node"}},
		{"pct move_volume 101 rootfs local", []string{"pct move-volume: not available on the simulated node"}},
	}
	for _, tt := range tests {
		r := run(t, c, tt.line, "")
		if r.code != 255 || r.stdout != "" {
			t.Errorf("%s: got %+v, want exit 255 and no output", tt.line, r)
		}
		for _, want := range tt.contains {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("%s: stderr %q lacks %q", tt.line, r.stderr, want)
			}
		}
	}
}

// TestPctUnlock: pct unlock removes a config lock (a create that died
// leaves "lock: create"), prints nothing, and dies like pct for a container
// without a lock or without a config on this node.
func TestPctUnlock(t *testing.T) {
	n := sshnodetest.Start(t, sshnodetest.NewHost(
		sshnode.Container{VMID: 100, Status: "stopped", Lock: "create", Name: "CT100"},
		stopped102,
	))
	c := n.Client(t)
	tests := []struct {
		line string
		want result
	}{
		{"pct unlock 100", result{}},
		{"pct unlock 100", result{code: 255, stderr: "no lock found trying to remove any lock\n"}},
		{"pct unlock 102", result{code: 255, stderr: "no lock found trying to remove any lock\n"}},
		{"pct unlock 999", result{code: 255, stderr: "Configuration file 'nodes/pve/lxc/999.conf' does not exist\n"}},
		{"pct unlock", result{code: 255, stderr: "400 not enough arguments\npct unlock <vmid>\n"}},
		{"pct unlock 100 101", result{code: 255, stderr: "400 too many arguments\npct unlock <vmid>\n"}},
		{"pct unlock abc", result{code: 255, stderr: "400 Parameter verification failed.\n" +
			"vmid: type check ('integer') failed - got 'abc'\n" +
			"pct unlock <vmid>\n"}},
		{"pct unlock 100 --force", result{code: 255, stderr: "Unknown option: force\n400 unable to parse option\npct unlock <vmid>\n"}},
	}
	for _, tt := range tests {
		if got := run(t, c, tt.line, ""); got != tt.want {
			t.Errorf("%s\n got %+v\nwant %+v", tt.line, got, tt.want)
		}
	}
	if ct, _ := n.Host.Container(100); ct.Lock != "" {
		t.Errorf("container 100 still locked: %+v", ct)
	}
	if r := run(t, c, "pct status 100 --verbose", ""); strings.Contains(r.stdout, "lock:") {
		t.Errorf("pct status still shows a lock: %q", r.stdout)
	}
}

func TestPctListWithoutContainersPrintsNothing(t *testing.T) {
	n := sshnodetest.Start(t, sshnodetest.NewHost())
	if r := run(t, n.Client(t), "pct list", ""); r != (result{}) {
		t.Fatalf("got %+v, want no output and exit 0", r)
	}
}

func TestUnsupportedShellSyntaxIsNotRun(t *testing.T) {
	n := sshnodetest.Start(t, sshnodetest.NewHost(running101))
	c := n.Client(t)
	for _, line := range []string{
		"pct exec 101 -- true | cat",
		"pct exec 101 -- true; pct list",
		"pct exec 101 -- true && pct list",
		"pct exec 101 -- echo hi > /tmp/x",
		"pct exec 101 -- echo $(id)",
		"FOO=1 pct exec 101 -- true",
		"pct exec 101 -- ls /etc/*",
	} {
		r := run(t, c, line, "")
		if r.code != 127 || !strings.Contains(r.stderr, "not supported by the simulated node") || r.stdout != "" {
			t.Errorf("%s: got %+v", line, r)
		}
	}
	if calls := len(n.Host.Calls()); calls != 0 {
		t.Errorf("Host.Exec called %d times for refused command lines", calls)
	}
	r := run(t, c, "pct exec 101 -- echo 'unterminated", "")
	if r.code != 2 || r.stderr != "bash: -c: line 1: unexpected EOF while looking for matching `''\n" {
		t.Errorf("open quote: got %+v", r)
	}
}

func TestExecUnavailable(t *testing.T) {
	host := sshnodetest.NewHost(running101)
	host.SetExecUnavailable()
	n := sshnodetest.Start(t, host)
	c := n.Client(t)
	writeNodeFile(t, n, "etc/hostname", "pve\n")
	want := result{code: 255, stderr: backend.ErrExecUnavailable.Error() + "\n"}
	for _, line := range []string{
		"pct exec 101 -- true",
		"pct push 101 /etc/hostname /tmp/x",
		"pct pull 101 /etc/hostname out",
	} {
		if got := run(t, c, line, ""); got != want {
			t.Errorf("%s\n got %+v\nwant %+v", line, got, want)
		}
	}
}
