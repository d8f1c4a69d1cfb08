package pvesim_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
)

// buildBinary compiles the provider binary once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go tool is not on PATH: cannot build the binary")
	}
	bin := filepath.Join(t.TempDir(), "terraform-provider-pve")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", bin, "github.com/lxctm/terraform-provider-pve")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// simProcess is a running `simulate` process.
type simProcess struct {
	cmd    *exec.Cmd
	ready  pvesim.ReadyLine
	stderr *lockedBuffer
	done   chan error
}

func startBinary(t *testing.T, bin string, args ...string) *simProcess {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"simulate"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &simProcess{cmd: cmd, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
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
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	select {
	case line, ok := <-lines:
		if !ok {
			t.Fatalf("simulate printed nothing; stderr:\n%s", p.stderr.String())
		}
		if err := json.Unmarshal([]byte(line), &p.ready); err != nil {
			t.Fatalf("ready line %q: %v", line, err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("simulate did not become ready; stderr:\n%s", p.stderr.String())
	}
	return p
}

func (p *simProcess) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-p.done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("simulate did not exit")
		return nil
	}
}

// call makes an API request the way an outside client configured from the
// ready line would: CA file from disk, token or ticket.
func (p *simProcess) call(t *testing.T, method, path string, form url.Values, auth func(*http.Request)) (int, []byte) {
	t.Helper()
	caPEM, err := os.ReadFile(p.ready.CACertFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca_cert_file holds no certificate")
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, p.ready.Endpoint+"/api2/json"+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if auth != nil {
		auth(req)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, _ := io.ReadAll(resp.Body)
	// The pinned fingerprint is the leaf certificate's.
	sum := sha256.Sum256(resp.TLS.PeerCertificates[0].Raw)
	if got := colonHex(sum[:]); got != p.ready.TLSFingerprint {
		t.Errorf("tls_fingerprint %s, server presents %s", p.ready.TLSFingerprint, got)
	}
	return resp.StatusCode, data
}

func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02X", x)
	}
	return strings.Join(parts, ":")
}

func TestSimulateBinary(t *testing.T) {
	bin := buildBinary(t)
	p := startBinary(t, bin, "--listen", "127.0.0.1:0", "--ssh-listen", "127.0.0.1:0", "--nodes", "pve,pve2")
	r := p.ready
	if !strings.HasPrefix(r.Endpoint, "https://127.0.0.1:") || r.Username != "root@pam" || r.Password == "" ||
		!strings.HasPrefix(r.APIToken, "root@pam!sim=") || len(r.Nodes) != 2 || r.Nodes[1].Name != "pve2" ||
		r.Nodes[0].SSHPort == 0 || !strings.HasPrefix(r.Nodes[0].SSHHostKey, "ssh-ed25519 ") {
		t.Fatalf("ready line = %+v", r)
	}
	status, body := p.call(t, http.MethodGet, "/version", nil, func(req *http.Request) {
		req.Header.Set("Authorization", "PVEAPIToken="+r.APIToken)
	})
	if status != 200 || !strings.Contains(string(body), `"release":"9.1"`) {
		t.Fatalf("/version with the token: %d %s", status, body)
	}
	status, body = p.call(t, http.MethodPost, "/access/ticket", url.Values{"username": {r.Username}, "password": {r.Password}}, nil)
	var login struct {
		Data struct {
			Ticket string `json:"ticket"`
		} `json:"data"`
	}
	if status != 200 || json.Unmarshal(body, &login) != nil || login.Data.Ticket == "" {
		t.Fatalf("login: %d %s", status, body)
	}
	status, body = p.call(t, http.MethodGet, "/version", nil, func(req *http.Request) {
		req.AddCookie(&http.Cookie{Name: "PVEAuthCookie", Value: login.Data.Ticket})
	})
	if status != 200 {
		t.Fatalf("/version with the ticket: %d %s", status, body)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(t); err != nil {
		t.Fatalf("simulate exited with %v; stderr:\n%s", err, p.stderr.String())
	}
	if strings.Contains(p.stderr.String(), r.Password) || strings.Contains(p.stderr.String(), strings.SplitN(r.APIToken, "=", 2)[1]) {
		t.Error("a secret reached the log")
	}
	if _, err := os.Stat(r.CACertFile); !os.IsNotExist(err) {
		t.Errorf("temporary CA file left behind: %v", err)
	}
}

// TestSimulateBinaryKilledKeepsState kills the simulator with SIGKILL
// while it is writing state and checks that a restart reads a consistent
// state with the same credentials.
func TestSimulateBinaryKilledKeepsState(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	reqLog := filepath.Join(dir, "requests.jsonl")
	args := []string{"--listen", "127.0.0.1:0", "--ssh-listen", "127.0.0.1:0", "--state-dir", dir, "--task-duration", "1ms",
		"--template", debian12, "--request-log", reqLog}
	p := startBinary(t, bin, args...)
	token := func(req *http.Request) { req.Header.Set("Authorization", "PVEAPIToken="+p.ready.APIToken) }
	for i := 0; i < 5; i++ {
		status, body := p.call(t, http.MethodPost, "/nodes/pve/lxc", url.Values{
			"vmid": {fmt.Sprint(100 + i)}, "ostemplate": {debianVol}, "storage": {"local-lvm"},
		}, token)
		if status != 200 {
			t.Fatalf("create: %d %s", status, body)
		}
	}
	// Keep the simulator writing state and kill it in the middle.
	stop := make(chan struct{})
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_, _ = p.callQuiet(http.MethodPut, "/nodes/pve/lxc/100/config", url.Values{"description": {fmt.Sprint("write ", i)}})
		}
	}()
	time.Sleep(300 * time.Millisecond)
	_ = p.cmd.Process.Kill()
	close(stop)
	_ = p.wait(t)

	p2 := startBinary(t, bin, args...)
	if p2.ready.APIToken != p.ready.APIToken || p2.ready.Password != p.ready.Password || p2.ready.TLSFingerprint != p.ready.TLSFingerprint {
		t.Error("credentials or certificate changed across the restart")
	}
	status, body := p2.call(t, http.MethodGet, "/cluster/resources", url.Values(nil), token)
	if status != 200 {
		t.Fatalf("resources after restart: %d %s", status, body)
	}
	var res struct {
		Data []map[string]any `json:"data"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range res.Data {
		if e["type"] == "lxc" {
			n++
		}
	}
	if n != 5 {
		t.Errorf("%d containers after the kill, want 5", n)
	}
	_ = p2.cmd.Process.Signal(syscall.SIGTERM)
	if err := p2.wait(t); err != nil {
		t.Errorf("exit: %v", err)
	}
	logData, err := os.ReadFile(reqLog)
	if err != nil || !bytes.Contains(logData, []byte(`"path":"/api2/json/nodes/pve/lxc"`)) {
		t.Errorf("request log: %v", err)
	}
}

// TestSimulateBinaryKilledMidCreate kills the simulator with SIGKILL while
// two create tasks run and restarts it on the same state directory: the
// tasks have ended with "unexpected status", the configs still say
// "lock: create", and pct unlock over SSH lifts the lock.
func TestSimulateBinaryKilledMidCreate(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	args := []string{"--listen", "127.0.0.1:0", "--ssh-listen", "127.0.0.1:0", "--state-dir", dir, "--task-duration", "1ms", "--template", debian12}
	p := startBinary(t, bin, append(args, "--fault", "kind=task-slow,type=vzcreate,delay=1h")...)
	token := func(req *http.Request) { req.Header.Set("Authorization", "PVEAPIToken="+p.ready.APIToken) }
	upids := map[string]string{}
	for _, vmid := range []string{"100", "101"} {
		status, body := p.call(t, http.MethodPost, "/nodes/pve/lxc", url.Values{"vmid": {vmid}, "ostemplate": {debianVol}, "storage": {"local-lvm"}}, token)
		var res struct {
			Data string `json:"data"`
		}
		if status != 200 || json.Unmarshal(body, &res) != nil {
			t.Fatalf("create %s: %d %s", vmid, status, body)
		}
		upids[vmid] = res.Data
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		data, _ := os.ReadFile(filepath.Join(dir, "state.json"))
		if bytes.Count(data, []byte("extracting archive")) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the create tasks never reached their extraction step")
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = p.cmd.Process.Kill()
	_ = p.wait(t)

	p2 := startBinary(t, bin, args...)
	token = func(req *http.Request) { req.Header.Set("Authorization", "PVEAPIToken="+p2.ready.APIToken) }
	for vmid, upid := range upids {
		status, body := p2.call(t, http.MethodGet, "/nodes/pve/tasks/"+url.PathEscape(upid)+"/status", nil, token)
		if status != 200 || !bytes.Contains(body, []byte(`"status":"stopped"`)) || !bytes.Contains(body, []byte(`"exitstatus":"unexpected status"`)) {
			t.Errorf("task of %s after the restart: %d %s", vmid, status, body)
		}
		status, body = p2.call(t, http.MethodGet, "/nodes/pve/lxc/"+vmid+"/config", nil, token)
		if status != 200 || !bytes.Contains(body, []byte(`"lock":"create"`)) {
			t.Errorf("config of %s after the restart: %d %s", vmid, status, body)
		}
	}
	if _, errOut, code := sshRun(t, p2.ready.Nodes[0], p2.ready.Password, "pct unlock 100", ""); code != 0 {
		t.Fatalf("pct unlock 100: exit %d, %s", code, errOut)
	}
	if status, body := p2.call(t, http.MethodGet, "/nodes/pve/lxc/100/config", nil, token); status != 200 || bytes.Contains(body, []byte(`"lock"`)) {
		t.Errorf("config of 100 after pct unlock: %d %s", status, body)
	}
	_ = p2.cmd.Process.Signal(syscall.SIGTERM)
	if err := p2.wait(t); err != nil {
		t.Errorf("exit: %v", err)
	}
}

// callQuiet is call without test assertions, for background load.
func (p *simProcess) callQuiet(method, path string, form url.Values) (int, error) {
	caPEM, err := os.ReadFile(p.ready.CACertFile)
	if err != nil {
		return 0, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, p.ready.Endpoint+"/api2/json"+path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "PVEAPIToken="+p.ready.APIToken)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

func TestRunCLIFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--backend", "qemu"}, 2, `unknown --backend "qemu"`},
		{[]string{"--fault", "kind=bogus"}, 2, `unknown kind "bogus"`},
		{[]string{"--api-token", "nonsense"}, 1, "API token must look like user@realm!name=secret"},
		{[]string{"--nodes", "bad_name", "--listen", "127.0.0.1:0"}, 1, `node name "bad_name"`},
		{[]string{"extra"}, 2, `unexpected argument "extra"`},
		{[]string{"--template", "nosuch-standard"}, 1, `template "nosuch-standard" is neither an appliance name`},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := pvesim.RunCLI(append(tc.args, "--listen", "127.0.0.1:0", "--ssh-listen", "127.0.0.1:0"), &out, &errOut)
			if code != tc.code || !strings.Contains(errOut.String(), tc.msg) || out.Len() != 0 {
				t.Errorf("code %d stdout %q stderr %q; want %d and %q", code, out.String(), errOut.String(), tc.code, tc.msg)
			}
		})
	}
}

func TestRunCLIInProcess(t *testing.T) {
	var out lockedBuffer
	var errOut lockedBuffer
	stop := make(chan struct{})
	done := make(chan int, 1)
	dir := t.TempDir()
	go func() {
		done <- pvesim.RunCLIUntil([]string{"--listen", "127.0.0.1:0", "--ssh-listen", "127.0.0.1:0", "--state-dir", dir,
			"--api-token", "root@pam!ci=11111111-2222-3333-4444-555555555555", "--root-password", "pw12345",
			"--fault", "kind=broken-pipe,path=/nodes,count=1", "--template", "debian-12-standard"}, &out, &errOut, stop)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "\n") {
		if time.Now().After(deadline) {
			t.Fatalf("no ready line; stderr %s", errOut.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	var ready pvesim.ReadyLine
	if err := json.Unmarshal([]byte(out.String()), &ready); err != nil {
		t.Fatal(err)
	}
	if ready.APIToken != "root@pam!ci=11111111-2222-3333-4444-555555555555" || ready.Password != "pw12345" ||
		ready.CACertFile != filepath.Join(dir, "ca.pem") {
		t.Errorf("ready = %+v", ready)
	}
	p := &simProcess{ready: ready}
	status, _ := p.call(t, http.MethodGet, "/nodes", nil, func(r *http.Request) { r.Header.Set("Authorization", "PVEAPIToken="+ready.APIToken) })
	if status != 596 {
		t.Errorf("--fault not armed: %d", status)
	}
	// --template takes an appliance name, as os_template does, and installs
	// its newest indexed version.
	status, body := p.call(t, http.MethodGet, "/nodes/pve/storage/local/content?content=vztmpl", nil,
		func(r *http.Request) { r.Header.Set("Authorization", "PVEAPIToken="+ready.APIToken) })
	if status != 200 || !strings.Contains(string(body), `"local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"`) {
		t.Errorf("--template debian-12-standard: %d %s", status, body)
	}
	close(stop)
	if code := <-done; code != 0 {
		t.Errorf("exit code %d; stderr %s", code, errOut.String())
	}
}
