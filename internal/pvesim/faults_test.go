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
