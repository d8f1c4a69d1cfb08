package provider

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
)

// simBinary is `terraform-provider-pve simulate` running as its own
// process, so that a test can kill it with SIGKILL.
type simBinary struct {
	cmd    *exec.Cmd
	done   chan struct{}
	stderr bytes.Buffer
	ready  struct {
		Endpoint       string            `json:"endpoint"`
		APIToken       string            `json:"api_token"`
		Password       string            `json:"password"`
		TLSFingerprint string            `json:"tls_fingerprint"`
		Nodes          []pvesim.NodeInfo `json:"nodes"`
	}
}

// startSimBinary starts the simulator binary and waits for its JSON line.
func startSimBinary(t *testing.T, bin string, args ...string) *simBinary {
	t.Helper()
	p := &simBinary{cmd: exec.Command(bin, append([]string{"simulate"}, args...)...), done: make(chan struct{})}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.kill)
	select {
	case line, ok := <-lines:
		if !ok {
			<-p.done
			t.Fatalf("simulate printed nothing; stderr:\n%s", p.stderr.String())
		}
		if err := json.Unmarshal([]byte(line), &p.ready); err != nil {
			t.Fatalf("ready line %q: %v", line, err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("simulate did not become ready within 2 minutes")
	}
	return p
}

// kill sends SIGKILL, as a crash or kill -9 would, and waits for the end.
func (p *simBinary) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

func (p *simBinary) api(t *testing.T) *pveapi.Client {
	t.Helper()
	c, err := pveapi.New(pveapi.Config{Endpoint: p.ready.Endpoint, APIToken: p.ready.APIToken, TLSFingerprint: p.ready.TLSFingerprint})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (p *simBinary) providerBlock() string {
	n := p.ready.Nodes[0]
	return fmt.Sprintf(`
terraform {
  required_providers {
    pve = { source = "lxctm/pve" }
  }
}

provider "pve" {
  endpoint        = %q
  api_token       = %q
  tls_fingerprint = %q
  ssh {
    password = %q
    host_key = %q
    node {
      name    = %q
      address = %q
      port    = %d
    }
  }
}
`, p.ready.Endpoint, p.ready.APIToken, p.ready.TLSFingerprint, p.ready.Password, n.SSHHostKey, n.Name, n.SSHHost, n.SSHPort)
}

// waitForState waits until the simulator's state file holds marker n times.
func waitForState(t *testing.T, stateDir, marker string, n int) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		data, _ := os.ReadFile(filepath.Join(stateDir, "state.json"))
		if bytes.Count(data, []byte(marker)) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the simulator's state never held %q %d times", marker, n)
		}
	}
}

// stateContainers lists the VMIDs and host names of the containers in the
// working directory's state.
func stateContainers(t *testing.T, cli *cliSession) map[int]string {
	t.Helper()
	var st struct {
		Resources []struct {
			Type      string `json:"type"`
			Instances []struct {
				Attributes struct {
					VMID     int    `json:"vmid"`
					Hostname string `json:"hostname"`
				} `json:"attributes"`
			} `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(cli.dir, "terraform.tfstate"))), &st); err != nil {
		t.Fatal(err)
	}
	out := map[int]string{}
	for _, r := range st.Resources {
		for _, i := range r.Instances {
			if r.Type == "pve_lxc_container" {
				out[i.Attributes.VMID] = i.Attributes.Hostname
			}
		}
	}
	return out
}

// clusterContainers lists the VMIDs, host names and locks of the
// simulator's containers.
func clusterContainers(t *testing.T, api *pveapi.Client) (names map[int]string, locked []int) {
	t.Helper()
	list, err := api.ClusterResources(context.Background(), "vm")
	if err != nil {
		t.Fatal(err)
	}
	names = map[int]string{}
	for _, g := range list {
		if g.Type == "lxc" {
			names[g.VMID] = g.Name
			if g.Lock != "" {
				locked = append(locked, g.VMID)
			}
		}
	}
	return names, locked
}

// The simulator binary is killed with SIGKILL while five create tasks run
// and restarted on the same ports and state directory, as Proxmox VE
// restarting under an apply: at once (the apply sees the tasks end with
// "unexpected status"), or after the apply gave up waiting. Either way the
// interrupted creates leave their configs locked; the provider tracks
// them, the next applies unlock them over SSH and replace them, and the
// cluster ends with exactly the containers in state, one per host name,
// and an empty plan.
func TestAccContainer_simulatorKilledMidCreate(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("runs the simulator binary and the Terraform CLI; set TF_ACC=1 (make test does)")
	}
	for _, tc := range []struct {
		name   string
		down   time.Duration
		marker string // what the interrupted apply reports
	}{
		{name: "restarted at once", marker: "unexpected status"},
		{name: "down longer than the client retries", down: 10 * time.Second, marker: "Container Creation Did Not Finish"},
	} {
		t.Run(tc.name, func(t *testing.T) { killMidCreate(t, tc.down, tc.marker) })
	}
}

func killMidCreate(t *testing.T, down time.Duration, marker string) {
	bin := filepath.Join(builtProviderDir(t), "terraform-provider-pve")
	stateDir := t.TempDir()
	args := []string{"--state-dir", stateDir, "--listen", freeLocalAddr(t), "--ssh-listen", freeLocalAddr(t),
		"--task-duration", "20ms", "--template", "debian-12-standard_12.7-1_amd64.tar.zst"}
	sim := startSimBinary(t, bin, append(args, "--fault", "kind=task-slow,type=vzcreate,delay=1h")...)
	const n = 5
	dir := writeConfig(t, sim.providerBlock()+fmt.Sprintf(`
resource "pve_lxc_container" "c" {
  count       = %d
  node        = "pve"
  hostname    = "ct${count.index}"
  os_template = "debian-12-standard"
  memory      = 128
  disk_size   = 0.5
}
`, n))
	cli := newCLISession(t, terraformBinary(t), dir)

	type result struct {
		code int
		out  string
	}
	first := make(chan result, 1)
	go func() {
		code, out := runTerraform(t, cli.bin, cli.dir, cli.env, "apply", "-no-color", "-auto-approve")
		first <- result{code, out}
	}()
	waitForState(t, stateDir, "extracting archive", n)
	sim.kill()
	time.Sleep(down)
	sim = startSimBinary(t, bin, args...)
	r := <-first
	if r.code == 0 {
		t.Fatalf("the apply interrupted by the crash succeeded:\n%s", r.out)
	}
	t.Logf("apply during the crash (exit %d):\n%s", r.code, r.out)

	applies := 1
	for ; applies <= 4; applies++ {
		code, out := cli.exitCode("apply", "-auto-approve")
		if code == 0 {
			break
		}
		t.Logf("re-apply %d failed:\n%s", applies, out)
	}
	if applies > 4 {
		t.Fatal("four applies after the crash did not converge")
	}
	t.Logf("converged with %d apply(s) after the crash", applies)
	if code, out := cli.exitCode("plan", "-detailed-exitcode"); code != 0 {
		t.Fatalf("the plan after converging is not empty (exit %d):\n%s", code, out)
	}

	inState := stateContainers(t, cli)
	inCluster, locked := clusterContainers(t, sim.api(t))
	if fmt.Sprint(inState) != fmt.Sprint(inCluster) {
		t.Errorf("state holds %v, the cluster %v: orphans or lost containers", inState, inCluster)
	}
	var names []string
	for _, name := range inCluster {
		names = append(names, name)
	}
	slices.Sort(names)
	if want := []string{"ct0", "ct1", "ct2", "ct3", "ct4"}; !slices.Equal(names, want) {
		t.Errorf("the cluster's containers are named %v, want %v (one each)", names, want)
	}
	if len(locked) != 0 {
		t.Errorf("containers %v are still locked", locked)
	}
	if !strings.Contains(r.out, marker) {
		t.Errorf("the interrupted apply does not report %q:\n%s", marker, r.out)
	}
}
