package pveapi

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"testing"
)

func TestErrorClassification(t *testing.T) {
	cases := []struct {
		name       string
		status     int
		reason     string
		body       string
		wantMsg    string
		wantErrors map[string]string
		want       error // sentinel or nil
	}{
		{
			name: "CT config missing (PVE 9 body)", status: 500,
			reason:  "Configuration file 'nodes/pve/lxc/100.conf' does not exist",
			body:    `{"data":null,"message":"Configuration file 'nodes/pve/lxc/100.conf' does not exist\n"}`,
			wantMsg: "Configuration file 'nodes/pve/lxc/100.conf' does not exist", want: ErrNotFound,
		},
		{
			name: "older PVE: text only in the reason phrase", status: 500,
			reason: "CT is locked (disk)", body: `{"data":null}`,
			wantMsg: "CT is locked (disk)", want: ErrLocked,
		},
		{
			name: "flock timeout", status: 500,
			reason:  "can't lock file '/run/lock/lxc/pve-config-100.lock' - got timeout",
			body:    `{"data":null,"message":"can't lock file '/run/lock/lxc/pve-config-100.lock' - got timeout\n"}`,
			wantMsg: "can't lock file '/run/lock/lxc/pve-config-100.lock' - got timeout", want: ErrLocked,
		},
		{
			name: "create on a taken id", status: 500, reason: "CT 100 already exists on node 'pve'",
			body:    `{"data":null,"message":"CT 100 already exists on node 'pve'\n"}`,
			wantMsg: "CT 100 already exists on node 'pve'", want: ErrAlreadyExists,
		},
		{
			name: "start of a running container", status: 500, reason: "CT 100 already running",
			body:    `{"data":null,"message":"CT 100 already running\n"}`,
			wantMsg: "CT 100 already running", want: ErrAlreadyRunning,
		},
		{
			name: "stop of a stopped container", status: 500, reason: "CT 100 not running",
			body:    `{"data":null,"message":"CT 100 not running\n"}`,
			wantMsg: "CT 100 not running", want: ErrNotRunning,
		},
		{
			name: "nextid hint taken (400 with errors)", status: 400, reason: "Parameter verification failed.",
			body:       `{"data":null,"message":"Parameter verification failed.\n","errors":{"vmid":"VM 100 already exists\n"}}`,
			wantMsg:    "Parameter verification failed.",
			wantErrors: map[string]string{"vmid": "VM 100 already exists"}, want: ErrAlreadyExists,
		},
		{
			name: "no such task", status: 400, reason: "Parameter verification failed.",
			body:       `{"data":null,"message":"Parameter verification failed.\n","errors":{"upid":"no such task\n"}}`,
			wantMsg:    "Parameter verification failed.",
			wantErrors: map[string]string{"upid": "no such task"}, want: ErrNotFound,
		},
		{
			name: "parameter error", status: 400, reason: "Parameter verification failed.",
			body:       `{"message":"Parameter verification failed.\n","errors":{"net0":"invalid format - missing key in comma-separated list property\n"},"data":null}`,
			wantMsg:    "Parameter verification failed.",
			wantErrors: map[string]string{"net0": "invalid format - missing key in comma-separated list property"},
		},
		{
			name: "plain 404", status: 404, reason: "Not Found", body: "",
			wantMsg: "Not Found", want: ErrNotFound,
		},
		{
			name: "401 with empty body", status: 401, reason: "Authentication failed!", body: "",
			wantMsg: "Authentication failed!",
		},
		{
			name: "403 permission", status: 403, reason: "Permission check failed (/vms/100, VM.Allocate)",
			body:    `{"data":null,"message":"Permission check failed (/vms/100, VM.Allocate)\n"}`,
			wantMsg: "Permission check failed (/vms/100, VM.Allocate)",
		},
		{
			name: "framework error as plain text (no such uri is not 'not found')", status: 501, reason: "no such uri",
			body: "no such uri", wantMsg: "no such uri",
		},
		{
			name: "501 not implemented", status: 501, reason: "Method 'POST /nodes/pve/lxc/100/config' not implemented",
			body:    `{"data":null,"message":"Method 'POST /nodes/pve/lxc/100/config' not implemented\n"}`,
			wantMsg: "Method 'POST /nodes/pve/lxc/100/config' not implemented",
		},
		{
			name: "596 proxy failure", status: 596, reason: "Broken pipe", body: "",
			wantMsg: "Broken pipe",
		},
		{
			name: "HTML from a reverse proxy", status: 502, reason: "Bad Gateway",
			body: "<html><body>502</body></html>", wantMsg: "Bad Gateway",
		},
		{
			name: "missing reason and body", status: 503, reason: "", body: "",
			wantMsg: "Service Unavailable",
		},
		{
			name: "plain 500 is nothing special", status: 500, reason: "unable to create CT 100 - no space left",
			body:    `{"data":null,"message":"unable to create CT 100 - no space left\n"}`,
			wantMsg: "unable to create CT 100 - no space left",
		},
		{
			name: "snapshot missing", status: 500, reason: "snapshot 'pre' does not exist",
			body: `{"data":null,"message":"snapshot 'pre' does not exist\n"}`, wantMsg: "snapshot 'pre' does not exist", want: ErrNotFound,
		},
		{
			name: "unknown template (400 errors)", status: 400, reason: "Parameter verification failed.",
			body:       `{"data":null,"message":"Parameter verification failed.\n","errors":{"template":"no such template\n"}}`,
			wantMsg:    "Parameter verification failed.",
			wantErrors: map[string]string{"template": "no such template"}, want: ErrNotFound,
		},
		{
			name: "snapshot name taken", status: 500, reason: "snapshot name 'pre' already used",
			body: `{"data":null,"message":"snapshot name 'pre' already used\n"}`, wantMsg: "snapshot name 'pre' already used", want: ErrAlreadyExists,
		},
		{
			name: "storage without snapshots", status: 500, reason: "snapshot feature is not available",
			body: `{"data":null,"message":"snapshot feature is not available\n"}`, wantMsg: "snapshot feature is not available", want: ErrSnapshotUnsupported,
		},
	}
	sentinels := []error{ErrNotFound, ErrAlreadyExists, ErrLocked, ErrNotRunning, ErrAlreadyRunning, ErrSnapshotUnsupported}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newAPIError(http.MethodGet, "/x", tc.status, tc.reason, []byte(tc.body))
			if e.Status != tc.status || e.Message != tc.wantMsg || !reflect.DeepEqual(e.Errors, tc.wantErrors) {
				t.Errorf("got status %d message %q errors %v", e.Status, e.Message, e.Errors)
			}
			wrapped := fmt.Errorf("reading container: %w", e)
			for _, s := range sentinels {
				if got := errors.Is(wrapped, s); got != errors.Is(tc.want, s) {
					t.Errorf("errors.Is(err, %v) = %v", s, got)
				}
			}
			var asAPI *APIError
			if !errors.As(wrapped, &asAPI) || asAPI != e {
				t.Error("errors.As must find the *APIError")
			}
		})
	}
}

func TestAPIErrorText(t *testing.T) {
	e := newAPIError(http.MethodPost, "/nodes/pve/lxc", 400, "Parameter verification failed.",
		[]byte(`{"data":null,"message":"Parameter verification failed.\n","errors":{"vmid":"invalid format - value does not look like a valid VM ID\n","net0":"invalid format - missing key in comma-separated list property\n"}}`))
	want := "POST /nodes/pve/lxc: HTTP 400: Parameter verification failed. (net0: invalid format - missing key in comma-separated list property; vmid: invalid format - value does not look like a valid VM ID)"
	if e.Error() != want {
		t.Errorf("Error() =\n%s\nwant\n%s", e.Error(), want)
	}
}

// TestTaskErrorClassification: a worker's refusals reach the client only as
// the task's exit status, and match the same sentinels.
func TestTaskErrorClassification(t *testing.T) {
	for _, tc := range []struct {
		exit string
		want error
	}{
		{"snapshot feature is not available", ErrSnapshotUnsupported},
		{"snapshot name 'pre' already used", ErrAlreadyExists},
		{"snapshot 'pre' does not exist", ErrNotFound},
		{"Configuration file 'nodes/pve/lxc/100.conf' does not exist", ErrNotFound},
		{"CT is locked (snapshot)", ErrLocked},
		{"can't lock file '/run/lock/lxc/pve-config-100.lock' - got timeout", ErrLocked},
		{"unable to rollback vm 100: vm is running", nil},
		{"base volume 'base-100-disk-0' is still in use by linked clones", ErrUsedByLinkedClones},
		{"base volume 'local:100/base-100-disk-0.qcow2' is still in use by linked cloned", ErrUsedByLinkedClones},
		{"OK", nil},
	} {
		err := fmt.Errorf("rolling back: %w", &TaskError{ExitStatus: tc.exit})
		for _, s := range []error{ErrNotFound, ErrAlreadyExists, ErrLocked, ErrSnapshotUnsupported, ErrUsedByLinkedClones} {
			if got := errors.Is(err, s); got != errors.Is(tc.want, s) {
				t.Errorf("exit status %q: errors.Is(err, %v) = %v", tc.exit, s, got)
			}
		}
	}
}
