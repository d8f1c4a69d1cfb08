package pveapi

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/hashicorp/terraform-plugin-log/tflogtest"
)

// traceContext returns a ctx whose provider logger (and "pveapi" subsystem)
// writes JSON lines at TRACE into buf.
func traceContext(t *testing.T, buf *bytes.Buffer) context.Context {
	t.Helper()
	ctx := tflogtest.RootLogger(t.Context(), buf)
	return tflog.NewSubsystem(ctx, LogSubsystem)
}

func TestLogsNeverContainSecrets(t *testing.T) {
	const password = "pw-7f3a9c-not-in-logs"
	const ticket = "PVE:root@pam:63DF62A5::dGlja2V0LXNpZ25hdHVyZS1zZWNyZXQ="
	const csrf = "63DF62A5:Y3NyZi1zZWNyZXQtdmFsdWU"
	const rootPassword = "container-root-pw-secret"
	var logins int
	routes := taskRoutes(testUPIDCreate, "WARNINGS: 1", []string{"WARN: something odd", "TASK WARNINGS: 1"})
	routes["POST /access/ticket"] = func(w http.ResponseWriter, _ *http.Request) {
		logins++
		if logins == 1 {
			writeRaw(w, http.StatusBadGateway, "Bad Gateway", "") // force a logged retry of the login
			return
		}
		writeData(w, map[string]any{"username": "root@pam", "ticket": ticket, "CSRFPreventionToken": csrf})
	}
	routes["POST /nodes/pve/lxc"] = func(w http.ResponseWriter, _ *http.Request) { writeData(w, testUPIDCreate) }
	f := newFakePVE(t, routes)
	c := newTestClient(t, f, func(cfg *Config) { cfg.APIToken, cfg.Username, cfg.Password = "", "root@pam", password })

	var buf bytes.Buffer
	ctx := traceContext(t, &buf)
	params := NewParams().Set("hostname", "web").Set("password", rootPassword).Set("ostemplate", "local:vztmpl/debian.tar.zst")
	if _, err := c.CreateContainer(ctx, "pve", 100, params); err != nil {
		t.Fatal(err)
	}

	out := buf.String()
	for _, want := range []string{`"@module":"provider.pveapi"`, "retrying Proxmox VE API request", `"path":"/access/ticket"`, `"path":"/nodes/pve/lxc"`, `"status":200`, `"attempt":2`} {
		if !strings.Contains(out, want) {
			t.Errorf("log output lacks %s; the test would not see leaks in lines that are never written", want)
		}
	}
	for name, secret := range map[string]string{
		"password": password, "ticket": ticket, "ticket signature": "dGlja2V0LXNpZ25hdHVyZS1zZWNyZXQ",
		"CSRF token": csrf, "container root password": rootPassword,
	} {
		if strings.Contains(out, secret) {
			t.Errorf("the %s appears in the logs", name)
		}
	}
}

func TestLogsNeverContainTheAPIToken(t *testing.T) {
	f := newFakePVE(t, map[string]http.HandlerFunc{
		"GET /version": failThen(1, func(w http.ResponseWriter, _ *http.Request) {
			writeRaw(w, http.StatusUnauthorized, "Authentication failed!", "")
		}, versionOK),
	})
	c := newTestClient(t, f, nil)
	var buf bytes.Buffer
	_, err := c.Version(traceContext(t, &buf))
	if err == nil {
		t.Fatal("want the 401")
	}
	if strings.Contains(err.Error(), "9f1c1d3e-5b7a-4c1e-8d2a-0123456789ab") || !strings.Contains(err.Error(), "root@pam!tf") {
		t.Errorf("err = %q: must name the token id, never the secret", err)
	}
	out := buf.String()
	if !strings.Contains(out, `"path":"/version"`) {
		t.Fatal("no request was logged")
	}
	if strings.Contains(out, "9f1c1d3e-5b7a-4c1e-8d2a-0123456789ab") {
		t.Error("the token secret appears in the logs")
	}
}
