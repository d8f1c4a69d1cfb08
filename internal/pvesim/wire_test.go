package pvesim_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// rawRequest sends request bytes over TLS and returns everything the
// server wrote back, status line included.
func rawRequest(t *testing.T, sim *pvesimtest.Sim, request string) string {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(sim.CACertPEM())
	host := strings.TrimPrefix(sim.Endpoint(), "https://")
	conn, err := tls.Dial("tcp", host, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(conn)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestReasonPhraseAndErrorEnvelopeOnTheWire(t *testing.T) {
	sim := pvesimtest.New(t, pvesimtest.WithTemplates(debian12), pvesimtest.WithTaskDurationFor("vzcreate", 2*time.Second), pvesimtest.WithTaskDuration(5*time.Millisecond))
	c := tokenClient(t, sim)
	c.do(http.MethodPost, "/nodes/pve/lxc", url.Values{"vmid": {"100"}, "ostemplate": {debianVol}, "storage": {"local-lvm"}}).ok(t)
	body := "memory=1024"
	out := rawRequest(t, sim, "PUT /api2/json/nodes/pve/lxc/100/config HTTP/1.1\r\nHost: x\r\n"+
		"Authorization: PVEAPIToken="+sim.APIToken()+"\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"Content-Length: 11\r\n\r\n"+body)
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(out)), nil)
	if err != nil {
		t.Fatalf("%v in %q", err, out)
	}
	defer func() { _ = resp.Body.Close() }()
	if !strings.HasPrefix(out, "HTTP/1.1 500 CT is locked (create)\r\n") {
		t.Fatalf("status line: %q", out)
	}
	for k, want := range map[string]string{
		"Server": "pve-api-daemon/3.0", "Cache-Control": "max-age=0", "Pragma": "no-cache",
		"Content-Type": "application/json;charset=UTF-8",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if !resp.Close || !strings.Contains(out, "\r\nConnection: close\r\n") {
		t.Errorf("no Connection: close in %q", out)
	}
	if _, err := http.ParseTime(resp.Header.Get("Expires")); err != nil {
		t.Errorf("Expires = %q: %v", resp.Header.Get("Expires"), err)
	}
	data, _ := io.ReadAll(resp.Body)
	if string(data) != `{"data":null,"message":"CT is locked (create)\n"}` {
		t.Errorf("body = %s", data)
	}
}

func TestParamErrorEnvelope(t *testing.T) {
	sim := fastSim(t)
	out := rawRequest(t, sim, "GET /api2/json/cluster/nextid?vmid=abc&foo=1 HTTP/1.1\r\nHost: x\r\nAuthorization: PVEAPIToken="+sim.APIToken()+"\r\n\r\n")
	if !strings.HasPrefix(out, "HTTP/1.1 400 Parameter verification failed.\r\n") {
		t.Fatalf("status line: %q", out)
	}
	_, body, _ := strings.Cut(out, "\r\n\r\n")
	var env map[string]any
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatal(err)
	}
	want := `{"data":null,"message":"Parameter verification failed.\n","errors":{"foo":"property is not defined in schema and the schema does not allow additional properties","vmid":"type check ('integer') failed - got 'abc'"}}`
	if !jsonEqual(env, want) {
		t.Errorf("body = %s\nwant   %s", body, want)
	}
}

func TestSuccessEnvelopeKeepsConnection(t *testing.T) {
	sim := fastSim(t)
	c := tokenClient(t, sim)
	r := c.do(http.MethodGet, "/version", nil).ok(t)
	if r.Header.Get("Server") != "pve-api-daemon/3.0" || r.Header.Get("Connection") == "close" {
		t.Errorf("headers = %v", r.Header)
	}
	v := r.object(t)
	if v["release"] != "9.1" || !strings.HasPrefix(v["version"].(string), "9.1.") || v["repoid"] == "" {
		t.Errorf("version = %v", v)
	}
	if string(r.Body) != `{"data":`+string(r.Data)+`}` {
		t.Errorf("body %s is not a bare data envelope", r.Body)
	}
}

func TestFrameworkErrors(t *testing.T) {
	sim := fastSim(t)
	c := tokenClient(t, sim)
	tests := []struct {
		name       string
		req        func() apiResp
		status     int
		reason     string
		body       string
		bodyIsJSON bool
	}{
		{"no such uri", func() apiResp {
			return c.rawURL(http.MethodGet, "/api2/xml/version", "")
		}, 501, "no such uri", "no such uri", false},
		{"outside api2", func() apiResp { return c.rawURL(http.MethodGet, "/", "") }, 501, "no such uri", "no such uri", false},
		{"unknown path", func() apiResp { return c.do(http.MethodGet, "/nodes/pve/foo", nil) },
			501, "Method 'GET /nodes/pve/foo' not implemented", `{"data":null,"message":"Method 'GET /nodes/pve/foo' not implemented\n"}`, true},
		{"POST on lxc config", func() apiResp { return c.do(http.MethodPost, "/nodes/pve/lxc/100/config", url.Values{}) },
			501, "Method 'POST /nodes/pve/lxc/100/config' not implemented", `{"data":null,"message":"Method 'POST /nodes/pve/lxc/100/config' not implemented\n"}`, true},
		{"body on DELETE", func() apiResp { return c.rawURL(http.MethodDelete, "/api2/json/nodes/pve/lxc/100", "purge=1") },
			501, "Unexpected content for method 'DELETE'", "Unexpected content for method 'DELETE'", false},
		{"body on GET", func() apiResp { return c.rawURL(http.MethodGet, "/api2/json/version", "x=1") },
			501, "Unexpected content for method 'GET'", "Unexpected content for method 'GET'", false},
		{"body too large", func() apiResp {
			return c.rawURL(http.MethodPost, "/api2/json/nodes/pve/lxc", "description="+strings.Repeat("a", 512*1024))
		}, 501, "for data too large", "for data too large", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.req()
			if r.Status != tc.status || r.Reason != tc.reason {
				t.Fatalf("got %d %q, want %d %q", r.Status, r.Reason, tc.status, tc.reason)
			}
			if string(r.Body) != tc.body {
				t.Errorf("body = %q, want %q", r.Body, tc.body)
			}
			if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/json") != tc.bodyIsJSON {
				t.Errorf("content type %q", ct)
			}
		})
	}
}

// rawURL sends a request to a full path with an optional form body.
func (c *apiClient) rawURL(method, path, body string) apiResp {
	c.t.Helper()
	u, _ := url.Parse(c.sim.Endpoint())
	u.Path = path
	cl := *c
	cl.sim = c.sim
	return cl.doRaw(method, "", nil, func(r *http.Request) {
		r.URL = u
		if body != "" {
			r.Body = io.NopCloser(strings.NewReader(body))
			r.ContentLength = int64(len(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	})
}

func TestParametersFromQueryBodyAndJSON(t *testing.T) {
	sim := fastSim(t)
	c := tokenClient(t, sim)
	c.createCT("100", nil)
	// The query string wins over the body.
	c.doRaw(http.MethodPut, "/nodes/pve/lxc/100/config?memory=2048", url.Values{"memory": {"1024"}}, nil).ok(t)
	if ct, _ := sim.Container(100); ct.Config["memory"] != "2048" {
		t.Errorf("memory = %q, want the query's 2048", ct.Config["memory"])
	}
	// JSON bodies, with real booleans and numbers.
	c.doRaw(http.MethodPut, "/nodes/pve/lxc/100/config", nil, func(r *http.Request) {
		body := `{"cores":2,"onboot":true,"description":"from json"}`
		r.Body = io.NopCloser(strings.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Type", "application/json")
	}).ok(t)
	ct, _ := sim.Container(100)
	if ct.Config["cores"] != "2" || ct.Config["onboot"] != "1" || ct.Config["description"] != "from json\n" {
		t.Errorf("config after JSON PUT = %v", ct.Config)
	}
	// _dc is dropped; a repeated form key becomes an array (rejected for a scalar).
	c.do(http.MethodGet, "/cluster/nextid", url.Values{"_dc": {"12345"}}).ok(t)
	r := c.doRaw(http.MethodPut, "/nodes/pve/lxc/100/config", nil, func(r *http.Request) {
		body := "cores=1&cores=2"
		r.Body = io.NopCloser(strings.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	})
	if r.Status != 400 || r.Errors["cores"] == "" {
		t.Errorf("repeated scalar key: %d %s", r.Status, r.Body)
	}
	// Path parameters clash with given ones.
	c.do(http.MethodGet, "/nodes/pve/lxc/100/config", url.Values{"vmid": {"101"}}).wantParamErr(t, map[string]string{
		"vmid": "duplicate parameter (already defined in URI) with conflicting values!",
	})
	// Unknown nodes are looked up like hostnames.
	c.do(http.MethodGet, "/nodes/nosuchnode/status", nil).wantErr(t, 500,
		"hostname lookup 'nosuchnode' failed - failed to get address info for: nosuchnode: Name or service not known")
	c.do(http.MethodGet, "/nodes/localhost/lxc/100/config", nil).ok(t)
}

func TestGzipForLargeAnswers(t *testing.T) {
	sim := fastSim(t)
	c := tokenClient(t, sim)
	r := c.doRaw(http.MethodGet, "/nodes/pve/aplinfo", nil, func(r *http.Request) { r.Header.Set("Accept-Encoding", "gzip") })
	if r.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("aplinfo (%d bytes) not gzip-compressed: %v", len(r.Body), r.Header)
	}
}
