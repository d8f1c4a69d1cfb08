package provider

import (
	"archive/zip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend/lxctest"
)

// TestAccSimulatorInCIScript runs the guide "The simulator in your CI" for
// real: examples/devbox-fleet/simulate-apply.sh, verbatim, in a copy of the
// root example and its module. terraform init installs the provider from a
// filesystem mirror holding the provider built from this module, packed as
// the registry packs it; the script finds the binary under
// .terraform/providers, starts the simulator, parses its JSON line, applies
// the module, checks that the second plan is empty and destroys it: on the
// memory backend (API only), and on the lxc backend with the template
// provisioned over the node's SSH server when real containers can run here.
func TestAccSimulatorInCIScript(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("runs the terraform CLI; set TF_ACC=1 (make test does)")
	}
	tf := terraformBinary(t)
	for _, tool := range []string{"bash", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the guide's script needs %s, which is not installed here", tool)
		}
	}
	cliConfig := registryMirror(t, t.TempDir())
	t.Run("memory backend", func(t *testing.T) {
		out := runSimulateApply(t, tf, cliConfig)
		if strings.Contains(out, "provisioned       = {") {
			t.Errorf("containers were provisioned without SSH:\n%s", out)
		}
	})
	t.Run("lxc backend, provisioned", func(t *testing.T) {
		lxctest.RequireInstalling(t)
		out := runSimulateApply(t, tf, cliConfig, "PVE_SIMULATE_FLAGS=--backend lxc", "PVE_SIMULATE_PROVISION=1")
		// The destroy plan shows what provisioning applied.
		if !regexp.MustCompile(`(?s)provisioned\s+= \{.*10-motd\.sh`).MatchString(out) {
			t.Errorf("the containers were not provisioned:\n%s", out)
		}
	})
}

// runSimulateApply runs simulate-apply.sh on a fresh copy of the root
// example and its module, checks what it printed, and returns it.
func runSimulateApply(t *testing.T, tf, cliConfig string, env ...string) string {
	t.Helper()
	work := t.TempDir()
	for _, dir := range []string{"devbox-fleet", "modules/devbox-fleet"} {
		if err := os.CopyFS(filepath.Join(work, "examples", dir), os.DirFS(filepath.Join("..", "..", "examples", dir))); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), terraformCommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "examples/devbox-fleet/simulate-apply.sh", "examples/devbox-fleet")
	cmd.Dir = work
	// On timeout the script is terminated, as a cancelled pipeline's step
	// would be, so it stops the simulator it started.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = time.Minute
	cmd.Env = terraformEnv(cliConfig, append([]string{"PATH=" + filepath.Dir(tf) + string(os.PathListSeparator) + os.Getenv("PATH")}, env...)...)
	started := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("simulate-apply.sh took %s", time.Since(started).Round(time.Second))
	if err != nil {
		t.Fatalf("simulate-apply.sh: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{
		"Apply complete! Resources: 3 added, 0 changed, 0 destroyed.",
		"No changes. Your infrastructure matches the configuration.",
		"Destroy complete! Resources: 3 destroyed.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the script's output lacks %q:\n%s", want, text)
		}
	}
	// terraform output -json shows each container's address.
	for _, host := range []string{"devbox-1", "devbox-2"} {
		if !regexp.MustCompile(`"` + host + `": "\d+\.\d+\.\d+\.\d+"`).MatchString(text) {
			t.Errorf("the outputs lack an IPv4 address of %s:\n%s", host, text)
		}
	}
	return text
}

// registryMirror packs the provider built from this module the way the
// registry does (terraform-provider-pve_<version>_<os>_<arch>.zip holding
// terraform-provider-pve_v<version>) into a filesystem mirror under dir and
// returns a CLI configuration that installs lxctm/pve from it.
func registryMirror(t *testing.T, dir string) string {
	t.Helper()
	const version = "0.1.0"
	bin := goBuild(t, "../..", filepath.Join(dir, "build"), "terraform-provider-pve_v"+version)
	pkgDir := filepath.Join(dir, "mirror", "registry.terraform.io", "lxctm", "pve")
	if err := os.MkdirAll(pkgDir, 0o755); err != nil { //nolint:gosec // a test directory
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(pkgDir, fmt.Sprintf("terraform-provider-pve_%s_%s_%s.zip", version, runtime.GOOS, runtime.GOARCH)))
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	hdr := &zip.FileHeader{Name: filepath.Base(bin), Method: zip.Deflate}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(bin) //nolint:gosec // the binary this test built
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "mirror.tfrc")
	content := fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path    = %q\n    include = [\"registry.terraform.io/lxctm/pve\"]\n  }\n}\n",
		filepath.Join(dir, "mirror"))
	if err := os.WriteFile(cfg, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}
