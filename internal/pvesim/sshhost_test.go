package pvesim_test

import (
	"bytes"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// sshRun runs one command on a node over SSH as root and returns its
// output and exit status.
func sshRun(t *testing.T, node pvesim.NodeInfo, password, command, stdin string) (stdout, stderr string, code int) {
	t.Helper()
	hostKey, _, _, _, err := ssh.ParseAuthorizedKey([]byte(node.SSHHostKey))
	if err != nil {
		t.Fatalf("host key %q: %v", node.SSHHostKey, err)
	}
	client, err := ssh.Dial("tcp", net.JoinHostPort(node.SSHHost, strconv.Itoa(node.SSHPort)), &ssh.ClientConfig{
		User: "root", Auth: []ssh.AuthMethod{ssh.Password(password)}, HostKeyCallback: ssh.FixedHostKey(hostKey),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Close() }()
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sess.Close() }()
	var out, errOut bytes.Buffer
	sess.Stdout, sess.Stderr, sess.Stdin = &out, &errOut, strings.NewReader(stdin)
	err = sess.Run(command)
	var exitErr *ssh.ExitError
	switch {
	case err == nil:
	case asExitError(err, &exitErr):
		code = exitErr.ExitStatus()
	default:
		t.Fatalf("%s: %v", command, err)
	}
	return out.String(), errOut.String(), code
}

func asExitError(err error, target **ssh.ExitError) bool {
	e, ok := err.(*ssh.ExitError) //nolint:errorlint // ssh returns it unwrapped.
	if ok {
		*target = e
	}
	return ok
}

func TestSSHNodeExecThroughBackend(t *testing.T) {
	sim := fastSim(t, pvesimtest.WithNodes("pve", "pve2"))
	c := tokenClient(t, sim)
	c.createCT("100", url.Values{"start": {"1"}})
	c.mustTask("POST", "/nodes/pve2/lxc", url.Values{"vmid": {"200"}, "ostemplate": {debianVol}, "storage": {"local-lvm"}})
	sim.Memory().SetExecHook(func(vmid int, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
		in, _ := io.ReadAll(stdin)
		_, _ = io.WriteString(stdout, strconv.Itoa(vmid)+":"+strings.Join(argv, "|")+":"+string(in))
		_, _ = io.WriteString(stderr, "err-line")
		return 3, nil
	})
	nodes := sim.Nodes()
	if len(nodes) != 2 || nodes[0].SSHPort == nodes[1].SSHPort || !strings.HasPrefix(nodes[0].SSHHostKey, "ssh-ed25519 ") {
		t.Fatalf("nodes = %+v", nodes)
	}
	out, errOut, code := sshRun(t, nodes[0], sim.Password(), "pct exec 100 -- sh -c 'cat; exit 3'", "input")
	if out != "100:sh|-c|cat; exit 3:input" || errOut != "err-line" || code != 3 {
		t.Errorf("pct exec: stdout %q stderr %q code %d", out, errOut, code)
	}
	// Container 200 lives on pve2, and is stopped.
	_, errOut, code = sshRun(t, nodes[0], sim.Password(), "pct exec 200 -- true", "")
	if code == 0 || !strings.Contains(errOut, "Configuration file 'nodes/pve/lxc/200.conf' does not exist") {
		t.Errorf("exec on the wrong node: code %d stderr %q", code, errOut)
	}
	out, _, code = sshRun(t, nodes[1], sim.Password(), "pct status 200", "")
	if code != 0 || strings.TrimSpace(out) != "status: stopped" {
		t.Errorf("pct status: %q %d", out, code)
	}
	out, _, _ = sshRun(t, nodes[0], sim.Password(), "pct list", "")
	if !strings.Contains(out, "100") || !strings.Contains(out, "running") || strings.Contains(out, "200") {
		t.Errorf("pct list on pve: %q", out)
	}
}
