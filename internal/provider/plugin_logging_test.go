package provider

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestSilencedLoggers(t *testing.T) {
	off := map[string]string{"TF_LOG_SDK": "off", "TF_LOG_SDK_PROTO": "off", "TF_LOG_SDK_FRAMEWORK": "off", "TF_LOG_PROVIDER_PVE": "off"}
	for _, tc := range []struct {
		name    string
		environ []string
		debug   bool
		want    map[string]string
	}{
		{"no logging asked for", []string{"HOME=/root", "TF_IN_AUTOMATION=1", "TF_PLUGIN_MAGIC_COOKIE=x"}, false, off},
		{"empty TF_LOG is unset", []string{"TF_LOG="}, false, off},
		{"TF_LOG", []string{"TF_LOG=TRACE"}, false, nil},
		{"TF_LOG=JSON", []string{"TF_LOG=JSON"}, false, nil},
		{"TF_LOG_PATH", []string{"TF_LOG_PATH=/tmp/tf.log"}, false, nil},
		{"TF_LOG_PROVIDER", []string{"TF_LOG_PROVIDER=DEBUG"}, false, nil},
		{"TF_LOG_PROVIDER_PVE", []string{"TF_LOG_PROVIDER_PVE=INFO"}, false, nil},
		{"TF_LOG_PROVIDER_PVE_PVEAPI", []string{"TF_LOG_PROVIDER_PVE_PVEAPI=TRACE"}, false, nil},
		{"TF_LOG_SDK", []string{"TF_LOG_SDK=TRACE"}, false, nil},
		{"TF_LOG_SDK_FRAMEWORK", []string{"TF_LOG_SDK_FRAMEWORK=TRACE"}, false, nil},
		{"TF_LOG_SDK_PROTO", []string{"TF_LOG_SDK_PROTO=TRACE"}, false, nil},
		{"debug mode logs to the terminal", nil, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := silencedLoggers(tc.environ, tc.debug)
			if len(got) != len(tc.want) {
				t.Fatalf("silencedLoggers(%q, %v) = %v, want %v", tc.environ, tc.debug, got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("silencedLoggers(%q, %v) = %v, want %v", tc.environ, tc.debug, got, tc.want)
				}
			}
		})
	}
}

// loggingConfig is a configuration whose plan makes one API request, the
// connection check of configuring the provider (which logs), against a
// simulator, and plans a package bucket (which the SDK and the framework
// log).
func loggingConfig(t *testing.T) string {
	t.Helper()
	return requiredProviders + providerBlock(newSim(t)) + `
resource "pve_package_bucket" "tools" {
  name = "tools"
  package {
    manager = "apt"
    spec    = "curl"
  }
}
`
}

// Log lines of the SDK (terraform-plugin-go), the framework and the
// provider itself, as the provider writes them (hclog JSON) and as
// terraform writes them to TF_LOG_PATH.
var (
	sdkLogLine      = regexp.MustCompile(`"@module":"sdk\.(proto|framework)"|@module=sdk\.(proto|framework)`)
	protoTraceLine  = regexp.MustCompile(`\[TRACE\] provider\.terraform-provider-pve: Received request: .*@module=sdk\.proto`)
	frameworkLine   = regexp.MustCompile(`\[(TRACE|DEBUG)\] provider\.terraform-provider-pve: .*@module=sdk\.framework`)
	providerOwnLine = regexp.MustCompile(`\[DEBUG\] provider\.terraform-provider-pve: configured Proxmox VE API client: .*@module=pve`)
	moduleLogLine   = regexp.MustCompile(`(?m)^\{.*"@module":`)
)

// With TF_LOG=TRACE the log holds the provider's own lines and the SDK's
// and the framework's trace lines, as it did before unread logging was
// switched off.
func TestAccProviderLogging_traceWhenAsked(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("runs the Terraform CLI; set TF_ACC=1 (make test does)")
	}
	tf := terraformBinary(t)
	provider := buildTappedProvider(t)
	dir := writeConfig(t, loggingConfig(t))
	logPath := filepath.Join(t.TempDir(), "terraform.log")
	code, out := runTerraform(t, tf, dir, provider.Env("TF_LOG=TRACE", "TF_LOG_PATH="+logPath), "plan", "-input=false", "-no-color")
	if code != 0 {
		t.Fatalf("terraform plan exited %d:\n%s", code, out)
	}
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	log := string(data)
	for what, re := range map[string]*regexp.Regexp{
		"the SDK's protocol trace lines":   protoTraceLine,
		"the framework's lines":            frameworkLine,
		"the provider's own (tflog) lines": providerOwnLine,
	} {
		if !re.MatchString(log) {
			t.Errorf("TF_LOG=TRACE: the log at TF_LOG_PATH lacks %s (%s); it has %d lines", what, re, strings.Count(log, "\n"))
		}
	}
	if n := len(sdkLogLine.FindAllString(provider.Stderr(t), -1)); n == 0 {
		t.Error("TF_LOG=TRACE: the provider wrote no SDK log lines to stderr")
	}
}

// Without any TF_LOG variable terraform discards the provider's log lines,
// so the provider formats none: its stderr holds no line of the SDK, the
// framework or the provider itself (go-plugin's two start-up lines stay),
// where it held every SDK trace line of the plan before.
func TestAccProviderLogging_silentWhenUnread(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("runs the Terraform CLI; set TF_ACC=1 (make test does)")
	}
	tf := terraformBinary(t)
	provider := buildTappedProvider(t)
	dir := writeConfig(t, loggingConfig(t))
	code, out := runTerraform(t, tf, dir, provider.Env(), "plan", "-input=false", "-no-color")
	if code != 0 {
		t.Fatalf("terraform plan exited %d:\n%s", code, out)
	}
	stderr := provider.Stderr(t)
	if n := len(moduleLogLine.FindAllString(stderr, -1)); n != 0 {
		t.Errorf("without TF_LOG the provider wrote %d log lines to stderr, want 0; the first lines:\n%s", n, firstLines(stderr, 5))
	}
	if !strings.Contains(out, "pve_package_bucket.tools will be created") {
		t.Errorf("the plan did not plan the bucket:\n%s", out)
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
