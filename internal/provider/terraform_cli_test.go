package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
)

// The helpers in this file run the real terraform CLI, for what
// terraform-plugin-testing cannot do (saved plans, terraform query, the
// provider as its own process). Terraform reaches the provider one of two
// ways: built as its own binary and served as a separate plugin process, the
// way users run it (buildTappedProvider, for measuring that process), or
// served from this test process through TF_REATTACH_PROVIDERS
// (newCLISession, so coverage and debuggers see it), as the acceptance
// tests serve it.

// terraformBinary is the terraform binary the acceptance tests use.
func terraformBinary(tb testing.TB) string {
	tb.Helper()
	if tf := os.Getenv("TF_ACC_TERRAFORM_PATH"); tf != "" {
		return tf
	}
	tf, err := exec.LookPath("terraform")
	if err != nil {
		tb.Skip("no terraform CLI: set TF_ACC_TERRAFORM_PATH or put terraform on PATH (make test and make bench do)")
	}
	return tf
}

// goBuild builds the main package pkg (an import path or a ./relative
// directory) into dir/name and returns its path.
func goBuild(tb testing.TB, pkg, dir, name string) string {
	tb.Helper()
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, pkg)
	if msg, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build %s: %v\n%s", pkg, err, msg)
	}
	return out
}

// tappedProvider is the provider built from this module for one test and
// served to terraform through the testdata/plugintap stand-in, which
// records the provider process's CPU time and copies its stderr (see
// there). Terraform finds the stand-in through a dev_overrides CLI
// configuration, so no terraform init is needed.
type tappedProvider struct {
	cliConfig, binary string
	// RusageFile and StderrFile collect the CPU times and the stderr of
	// every provider process terraform starts.
	RusageFile, StderrFile string
}

// buildTappedProvider builds the provider and the stand-in into temporary
// directories. The stand-in is Linux-only.
func buildTappedProvider(tb testing.TB) *tappedProvider {
	tb.Helper()
	if runtime.GOOS != "linux" {
		tb.Skip("the plugin stand-in that observes the provider process (testdata/plugintap) runs on Linux only")
	}
	binDir, tapDir, outDir := tb.TempDir(), tb.TempDir(), tb.TempDir()
	goBuild(tb, "./testdata/plugintap", tapDir, "terraform-provider-pve")
	return &tappedProvider{
		cliConfig:  writeDevOverrides(tb, tapDir),
		binary:     goBuild(tb, "github.com/lxctm/terraform-provider-pve", binDir, "terraform-provider-pve"),
		RusageFile: filepath.Join(outDir, "rusage"),
		StderrFile: filepath.Join(outDir, "stderr"),
	}
}

// Env is the environment terraform runs in: this process's, without the
// variables that change how terraform or the provider behave, plus extra.
func (p *tappedProvider) Env(extra ...string) []string {
	return terraformEnv(p.cliConfig, append([]string{
		"PLUGIN_TAP_EXEC=" + p.binary, "PLUGIN_TAP_RUSAGE=" + p.RusageFile, "PLUGIN_TAP_STDERR=" + p.StderrFile,
	}, extra...)...)
}

// Reset forgets what earlier provider processes recorded.
func (p *tappedProvider) Reset(tb testing.TB) {
	tb.Helper()
	for _, f := range []string{p.RusageFile, p.StderrFile} {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			tb.Fatal(err)
		}
	}
}

// Usage sums the CPU time (user and system) of the provider processes
// since the last Reset and returns the largest peak resident set size
// among them, in bytes.
func (p *tappedProvider) Usage(tb testing.TB) (cpu time.Duration, maxRSS int64) {
	tb.Helper()
	data, err := os.ReadFile(p.RusageFile)
	if err != nil {
		tb.Fatalf("no provider CPU time was recorded: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var user, system, rssKiB int64
		if _, err := fmt.Sscanf(line, "%d %d %d", &user, &system, &rssKiB); err != nil {
			tb.Fatalf("%s: %q is not \"user_ns system_ns maxrss_kib\": %v", p.RusageFile, line, err)
		}
		cpu += time.Duration(user + system)
		maxRSS = max(maxRSS, rssKiB<<10)
	}
	return cpu, maxRSS
}

// Stderr is what the provider processes wrote to stderr since the last
// Reset.
func (p *tappedProvider) Stderr(tb testing.TB) string {
	tb.Helper()
	data, err := os.ReadFile(p.StderrFile)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		tb.Fatal(err)
	}
	return string(data)
}

// writeDevOverrides writes a CLI configuration in which terraform takes the
// pve provider from pluginDir, which holds an executable named
// terraform-provider-pve. The source "lxctm/pve" means
// registry.terraform.io/lxctm/pve to Terraform and
// registry.opentofu.org/lxctm/pve to OpenTofu; both are overridden.
func writeDevOverrides(tb testing.TB, pluginDir string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "dev.tfrc")
	cfg := fmt.Sprintf(`provider_installation {
  dev_overrides {
    "registry.terraform.io/lxctm/pve"  = %q
    "registry.opentofu.org/lxctm/pve" = %q
  }
  direct {}
}
`, pluginDir, pluginDir)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// cpuProfileEnv makes the provider write CPU profiles (main.go).
const cpuProfileEnv = "TF_PROVIDER_PVE_CPUPROFILE"

// terraformEnv is this process's environment without the variables that
// change how terraform or the provider behave (logging, extra CLI
// arguments, CLI configuration, profiling), plus the given ones.
func terraformEnv(cliConfig string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "TF_LOG") || strings.HasPrefix(name, "TF_CLI_ARGS") ||
			name == "TF_CLI_CONFIG_FILE" || name == cpuProfileEnv {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "TF_CLI_CONFIG_FILE="+cliConfig, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
	return append(env, extra...)
}

// terraformCommandTimeout bounds one terraform command, so a hung provider
// fails the test instead of the whole test binary's timeout.
const terraformCommandTimeout = 15 * time.Minute

// runTerraform runs terraform in dir and returns its exit status; output
// (stdout and stderr) is returned for error messages. Only a failure to
// start is fatal: callers decide which exit statuses are fine.
func runTerraform(tb testing.TB, tf, dir string, env []string, args ...string) (int, string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), terraformCommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, tf, args...)
	cmd.Dir, cmd.Env = dir, env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil && cmd.ProcessState == nil {
		tb.Fatalf("terraform %s: %v", strings.Join(args, " "), err)
	}
	return cmd.ProcessState.ExitCode(), out.String()
}

// writeConfig writes main.tf into a new working directory and returns it.
func writeConfig(tb testing.TB, config string) string {
	tb.Helper()
	dir := tb.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o600); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// cliSession runs a Terraform CLI in a directory against this test
// process's provider.
type cliSession struct {
	t   testing.TB
	bin string
	dir string
	env []string
}

func newCLISession(t *testing.T, bin, dir string) *cliSession {
	t.Helper()
	rc := filepath.Join(t.TempDir(), "empty.tfrc")
	writeFile(t, rc, "")
	env := terraformEnv(rc, "TF_REATTACH_PROVIDERS="+serveProviderForCLI(t), "TF_INPUT=0")
	return &cliSession{t: t, bin: bin, dir: dir, env: env}
}

// newBuiltProviderSession is a session in which terraform runs the provider
// built from this module as its own plugin process, started in dir as
// users' terraform starts it: relative paths in the configuration (a
// template's source) resolve against dir, as they do for users, and not
// against this test's package directory. No init is needed
// (dev_overrides).
func newBuiltProviderSession(t testing.TB, bin, dir string) *cliSession {
	t.Helper()
	return &cliSession{t: t, bin: bin, dir: dir, env: terraformEnv(writeDevOverrides(t, builtProviderDir(t)), "TF_INPUT=0")}
}

var builtProvider struct {
	once sync.Once
	dir  string
	err  error
}

// builtProviderDir builds the provider binary once per test process and
// returns the directory holding it as terraform-provider-pve.
func builtProviderDir(tb testing.TB) string {
	tb.Helper()
	builtProvider.once.Do(func() {
		// Built once for every test of the binary: a test's TempDir would go
		// with the first test that asked.
		builtProvider.dir, builtProvider.err = os.MkdirTemp("", "terraform-provider-pve-build-") //nolint:usetesting // see above
		if builtProvider.err != nil {
			return
		}
		out, err := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(builtProvider.dir, "terraform-provider-pve"),
			"github.com/lxctm/terraform-provider-pve").CombinedOutput()
		if err != nil {
			builtProvider.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if builtProvider.err != nil {
		tb.Fatal(builtProvider.err)
	}
	return builtProvider.dir
}

// run runs a command that must succeed and returns its output.
func (c *cliSession) run(args ...string) string {
	c.t.Helper()
	code, out := c.exitCode(args...)
	if code != 0 {
		c.t.Fatalf("terraform %s failed (exit %d):\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// exitCode runs a command without colours and returns its exit status and
// output.
func (c *cliSession) exitCode(args ...string) (int, string) {
	c.t.Helper()
	return runTerraform(c.t, c.bin, c.dir, c.env, append([]string{args[0], "-no-color"}, args[1:]...)...)
}

// serveProviderForCLI serves the provider from this test process until the
// test ends and returns the TF_REATTACH_PROVIDERS value that points a
// Terraform CLI at it.
func serveProviderForCLI(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	configs := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	go func() {
		err := tf6server.Serve(providerAddressForTests(), providerserver.NewProtocol6(New("test")()),
			tf6server.WithDebug(ctx, configs, closed), tf6server.WithLoggingSink(t),
			tf6server.WithGoPluginLogger(hclog.NewNullLogger()))
		if err != nil {
			t.Errorf("serving the provider: %v", err)
		}
	}()
	var cfg *plugin.ReattachConfig
	select {
	case cfg = <-configs:
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("the provider server did not start within 30 s")
	}
	t.Cleanup(func() {
		cancel()
		<-closed
	})
	type addr struct{ Network, String string }
	reattach, err := json.Marshal(map[string]any{providerAddressForTests(): map[string]any{
		"Protocol": string(cfg.Protocol), "ProtocolVersion": cfg.ProtocolVersion, "Pid": cfg.Pid, "Test": true,
		"Addr": addr{Network: cfg.Addr.Network(), String: cfg.Addr.String()},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return string(reattach)
}

// providerAddressForTests is the address the test configurations' source
// "lxctm/pve" resolves to: under OpenTofu the host is its registry's, which
// TF_ACC_PROVIDER_HOST names for the acceptance test harness too.
func providerAddressForTests() string {
	host := "registry.terraform.io"
	if h := os.Getenv("TF_ACC_PROVIDER_HOST"); h != "" {
		host = h
	}
	return host + "/lxctm/pve"
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
