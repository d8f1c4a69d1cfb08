package pvesim_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

func TestParseFault(t *testing.T) {
	tests := []struct {
		spec string
		want pvesim.Fault
		err  string
	}{
		{"method=GET,path=/nodes/*/lxc/*/status/current,status=502,count=3",
			pvesim.Fault{Kind: pvesim.FaultStatus, Method: "GET", Path: "/nodes/*/lxc/*/status/current", Status: 502, Count: 3}, ""},
		{"kind=drop,count=1", pvesim.Fault{Kind: pvesim.FaultDrop, Count: 1}, ""},
		{"kind=lost-answer,method=POST,path=/nodes/*/lxc,count=1", pvesim.Fault{Kind: pvesim.FaultLostAnswer, Method: "POST", Path: "/nodes/*/lxc", Count: 1}, ""},
		{"kind=task-fail,type=vzcreate,message=disk full", pvesim.Fault{Kind: pvesim.FaultTaskFail, TaskType: "vzcreate", Message: "disk full"}, ""},
		{"delay=1500ms,path=/version", pvesim.Fault{Kind: pvesim.FaultLatency, Delay: 1500 * time.Millisecond, Path: "/version"}, ""},
		{"kind=broken-pipe,probability=0.25", pvesim.Fault{Kind: pvesim.FaultBrokenPipe, Probability: 0.25}, ""},
		{"kind=lock-timeout,path=re:^/nodes/[^/]+/lxc/10[0-9]/config$", pvesim.Fault{Kind: pvesim.FaultLockTimeout, Path: "re:^/nodes/[^/]+/lxc/10[0-9]/config$"}, ""},
		{"kind=task-slow,type=vzstart,delay=2s,vmid=100", pvesim.Fault{Kind: pvesim.FaultTaskSlow, TaskType: "vzstart", Delay: 2 * time.Second, VMID: 100}, ""},
		{"kind=nope", pvesim.Fault{}, `unknown kind "nope"`},
		{"method=GET", pvesim.Fault{}, "kind is missing"},
		{"kind=status", pvesim.Fault{}, "a status fault needs status="},
		{"kind=task-fail", pvesim.Fault{}, "needs message="},
		{"status=502,bogus=1", pvesim.Fault{}, "invalid key in comma-separated list property: bogus"},
		{"status=abc", pvesim.Fault{}, "status must be a non-negative integer"},
		{"kind=latency,delay=soon", pvesim.Fault{}, "delay must be a duration"},
		{"kind=drop,path=re:(", pvesim.Fault{}, "path regexp"},
		{"kind=drop,method=PATCH", pvesim.Fault{}, "method must be GET, POST, PUT or DELETE"},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := pvesim.ParseFault(tc.spec)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			again, err := pvesim.ParseFault(got.String())
			if err != nil || again != got {
				t.Errorf("String() %q does not round-trip: %+v, %v", got.String(), again, err)
			}
		})
	}
}

func TestBrokenPipeAndStatusFaults(t *testing.T) {
	sim := fastSim(t)
	c := tokenClient(t, sim)
	sim.Faults().MustAdd(pvesim.Fault{Kind: pvesim.FaultBrokenPipe, Method: http.MethodGet, Path: "/nodes/*/status", Count: 1})
	r := c.do(http.MethodGet, "/nodes/pve/status", nil)
	if r.Status != 596 || r.Reason != "Broken pipe" || len(r.Body) != 0 {
		t.Fatalf("got %d %q %q, want 596 Broken pipe with an empty body", r.Status, r.Reason, r.Body)
	}
	c.do(http.MethodGet, "/nodes/pve/status", nil).ok(t)

	sim.Faults().MustAdd(pvesim.Fault{Kind: pvesim.FaultStatus, Method: http.MethodGet, Path: "/version", Status: 502, Message: "Bad Gateway", Count: 2})
	c.do(http.MethodGet, "/version", nil).wantErr(t, 502, "Bad Gateway")
	c.do(http.MethodGet, "/version", nil).wantErr(t, 502, "Bad Gateway")
	c.do(http.MethodGet, "/version", nil).ok(t)
	if len(sim.Faults().Active()) != 0 {
		t.Errorf("used-up faults still armed: %v", sim.Faults().Active())
	}
	var faulted int
	for _, rec := range sim.Requests() {
		if rec.Fault != "" {
			faulted++
		}
	}
	if faulted != 3 {
		t.Errorf("%d requests logged with a fault, want 3", faulted)
	}

	id := sim.Faults().MustAdd(pvesim.Fault{Kind: pvesim.FaultLatency, Path: "/version", Delay: 200 * time.Millisecond})
	start := time.Now()
	c.do(http.MethodGet, "/version", nil).ok(t)
	if time.Since(start) < 200*time.Millisecond {
		t.Error("latency fault did not delay the request")
	}
	sim.Faults().Remove(id)
}

func TestDroppedConnectionFault(t *testing.T) {
	sim := fastSim(t)
	sim.Faults().MustAdd(pvesim.Fault{Kind: pvesim.FaultDrop, Path: "/version", Count: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, sim.Endpoint()+"/api2/json/version", nil)
	req.Header.Set("Authorization", "PVEAPIToken="+sim.APIToken())
	client := sim.HTTPClient()
	client.Transport.(*http.Transport).DisableKeepAlives = true
	resp, err := client.Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		t.Fatalf("dropped connection answered %s", resp.Status)
	}
	if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "reset") {
		t.Errorf("error = %v, want a closed connection", err)
	}
	recs := sim.Requests()
	if last := recs[len(recs)-1]; last.Status != 0 || last.Fault != "kind=drop,path=/version,count=1" {
		t.Errorf("request log = %+v", last)
	}
	tokenClient(t, sim).do(http.MethodGet, "/version", url.Values{}).ok(t)
}

// sendUnchecked sends one request on a fresh connection and returns the
// transport error instead of failing the test.
func sendUnchecked(t *testing.T, sim *pvesimtest.Sim, method, path string, form url.Values) (int, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, sim.Endpoint()+"/api2/json"+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Authorization", "PVEAPIToken="+sim.APIToken())
	client := sim.HTTPClient()
	client.Transport.(*http.Transport).DisableKeepAlives = true
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// A lost-answer fault lets the create happen (config with "lock: create",
// a vzcreate task that finishes) and closes the connection instead of
// sending the UPID; the request log says what would have been answered.
func TestLostAnswerFault(t *testing.T) {
	sim := fastSim(t)
	f, err := pvesim.ParseFault("kind=lost-answer,method=POST,path=/nodes/*/lxc,count=1")
	if err != nil {
		t.Fatal(err)
	}
	sim.Faults().MustAdd(f)
	status, err := sendUnchecked(t, sim, http.MethodPost, "/nodes/pve/lxc",
		url.Values{"vmid": {"100"}, "ostemplate": {debianVol}, "storage": {"local-lvm"}, "hostname": {"lost"}})
	if err == nil {
		t.Fatalf("the create was answered (%d), want a closed connection", status)
	}
	if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "reset") {
		t.Errorf("error = %v, want a closed connection", err)
	}
	recs := sim.Requests()
	last := recs[len(recs)-1]
	if last.Status != 0 || last.Fault != f.String() || !strings.Contains(last.Message, "would have answered 200") {
		t.Errorf("request log = %+v", last)
	}
	// The request was carried out: the container exists and its create task runs to the end.
	c := tokenClient(t, sim)
	tasks := c.do(http.MethodGet, "/nodes/pve/tasks", url.Values{"vmid": {"100"}, "source": {"all"}}).ok(t)
	var list []map[string]any
	tasks.decode(t, &list)
	if len(list) != 1 || list[0]["type"] != "vzcreate" {
		t.Fatalf("tasks of 100: %v", list)
	}
	st := c.waitTask("pve", list[0]["upid"].(string))
	if st["exitstatus"] != "OK" {
		t.Fatalf("create task: %v", st)
	}
	ct, ok := sim.Container(100)
	if !ok || ct.Config["hostname"] != "lost" || ct.Config["lock"] != "" {
		t.Fatalf("container after the lost answer: %+v %v", ct, ok)
	}
	// The fault is spent; the same create now answers (with PVE's refusal).
	c.do(http.MethodPost, "/nodes/pve/lxc", url.Values{"vmid": {"100"}, "ostemplate": {debianVol}, "storage": {"local-lvm"}}).
		wantErr(t, 500, "CT 100 already exists on node 'pve'")
}

// A lost answer also hides an error: the request log keeps it.
func TestLostAnswerOfAnError(t *testing.T) {
	sim := fastSim(t)
	sim.Faults().MustAdd(pvesim.Fault{Kind: pvesim.FaultLostAnswer, Method: http.MethodPut, Path: "/nodes/*/lxc/*/config", Count: 1})
	if _, err := sendUnchecked(t, sim, http.MethodPut, "/nodes/pve/lxc/555/config", url.Values{"cores": {"2"}}); err == nil {
		t.Fatal("answered despite the lost-answer fault")
	}
	recs := sim.Requests()
	if last := recs[len(recs)-1]; last.Status != 0 || !strings.Contains(last.Message, "would have answered 500 Configuration file 'nodes/pve/lxc/555.conf' does not exist") {
		t.Errorf("request log = %+v", last)
	}
}

// Two faults that would both answer the same request: the first answers
// it, and the second keeps its count for a later request.
func TestAnsweringFaultsDoNotShadowEachOther(t *testing.T) {
	sim := pvesimtest.New(t, pvesimtest.WithoutSSH())
	sim.Faults().MustAdd(pvesim.Fault{Kind: pvesim.FaultStatus, Method: http.MethodGet, Path: "/version", Status: 502, Count: 1})
	sim.Faults().MustAdd(pvesim.Fault{Kind: pvesim.FaultStatus, Method: http.MethodGet, Path: "/version", Status: 503, Count: 1})
	c := tokenClient(t, sim)
	c.do(http.MethodGet, "/version", nil).wantErr(t, 502, "Bad Gateway")
	c.do(http.MethodGet, "/version", nil).wantErr(t, 503, "Service Unavailable")
	c.do(http.MethodGet, "/version", nil).ok(t)
}
