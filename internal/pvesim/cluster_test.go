package pvesim_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

func TestNextIDAndResources(t *testing.T) {
	sim := fastSim(t, pvesimtest.WithNodes("pve", "pve2"))
	c := tokenClient(t, sim)
	r := c.do(http.MethodGet, "/cluster/nextid", nil).ok(t)
	if string(r.Data) != `"100"` {
		t.Fatalf("nextid = %s, want the string \"100\"", r.Data)
	}
	c.createCT("100", url.Values{"tags": {"web"}})
	c.do(http.MethodGet, "/cluster/nextid", url.Values{"vmid": {"100"}}).wantParamErr(t, map[string]string{"vmid": "VM 100 already exists"})
	if got := c.do(http.MethodGet, "/cluster/nextid", url.Values{"vmid": {"150"}}).ok(t).str(t); got != "150" {
		t.Errorf("nextid?vmid=150 = %q", got)
	}
	if got := c.do(http.MethodGet, "/cluster/nextid", nil).ok(t).str(t); got != "101" {
		t.Errorf("nextid = %q", got)
	}
	// VMIDs are cluster-wide: creating 100 on pve2 fails.
	c.do(http.MethodPost, "/nodes/pve2/lxc", url.Values{"vmid": {"100"}, "ostemplate": {debianVol}, "storage": {"local-lvm"}}).
		wantErr(t, 500, "CT 100 already exists on node 'pve'")

	var res []map[string]any
	c.do(http.MethodGet, "/cluster/resources", nil).ok(t).decode(t, &res)
	kinds := map[string]int{}
	for _, e := range res {
		kinds[e["type"].(string)]++
		if e["type"] == "lxc" {
			if e["id"] != "lxc/100" || e["vmid"] != float64(100) || e["node"] != "pve" || e["name"] != "CT100" ||
				e["status"] != "stopped" || e["template"] != float64(0) || e["tags"] != "web" {
				t.Errorf("lxc entry = %v", e)
			}
		}
		if e["type"] == "storage" && !strings.HasPrefix(e["id"].(string), "storage/") {
			t.Errorf("storage entry = %v", e)
		}
	}
	if kinds["lxc"] != 1 || kinds["node"] != 2 || kinds["storage"] != 4 {
		t.Errorf("resource kinds = %v", kinds)
	}
	c.do(http.MethodGet, "/cluster/resources", url.Values{"type": {"node"}}).ok(t).decode(t, &res)
	if len(res) != 2 || res[0]["id"] != "node/pve" {
		t.Errorf("nodes = %v", res)
	}
	c.do(http.MethodGet, "/cluster/resources", url.Values{"type": {"qemu"}}).wantParamErr(t, map[string]string{
		"type": "value 'qemu' does not have a value in the enumeration 'vm, storage, node, sdn'",
	})
	var nodes []map[string]any
	c.do(http.MethodGet, "/nodes", nil).ok(t).decode(t, &nodes)
	if len(nodes) != 2 || nodes[1]["node"] != "pve2" || nodes[1]["status"] != "online" || nodes[1]["ssl_fingerprint"] != sim.Fingerprint() {
		t.Errorf("nodes = %v", nodes)
	}
	st := c.do(http.MethodGet, "/nodes/pve2/status", nil).ok(t).object(t)
	if st["pveversion"] == nil || st["memory"] == nil || st["uptime"] == nil {
		t.Errorf("node status = %v", st)
	}
}

// TestNextIDUniqueUnderConcurrentCreates runs 50 clients that each take
// /cluster/nextid and create with it, retrying on "already exists", the
// way a provider without a cluster-wide lock has to.
func TestNextIDUniqueUnderConcurrentCreates(t *testing.T) {
	sim := fastSim(t)
	const clients = 50
	var wg sync.WaitGroup
	errs := make(chan string, clients)
	upids := make(chan string, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := tokenClient(t, sim)
			for attempt := 0; attempt < 200; attempt++ {
				id := c.do(http.MethodGet, "/cluster/nextid", nil)
				if id.Status != 200 {
					errs <- "nextid: " + string(id.Body)
					return
				}
				var vmid string
				if err := json.Unmarshal(id.Data, &vmid); err != nil {
					errs <- err.Error()
					return
				}
				r := c.do(http.MethodPost, "/nodes/pve/lxc", url.Values{"vmid": {vmid}, "ostemplate": {debianVol}, "storage": {"local-lvm"}})
				if r.Status == 200 {
					var upid string
					_ = json.Unmarshal(r.Data, &upid)
					upids <- upid
					return
				}
				if !strings.Contains(r.Message, "already exists on node") {
					errs <- r.Message
					return
				}
			}
			errs <- "gave up after 200 attempts"
		}()
	}
	wg.Wait()
	close(errs)
	close(upids)
	for e := range errs {
		t.Error(e)
	}
	c := tokenClient(t, sim)
	for upid := range upids {
		if st := c.waitTask("pve", upid); st["exitstatus"] != "OK" {
			t.Errorf("%s: %v", upid, st["exitstatus"])
		}
	}
	cts := sim.Containers()
	if len(cts) != clients {
		t.Fatalf("%d containers, want %d", len(cts), clients)
	}
	seen := map[int]bool{}
	for _, ct := range cts {
		if seen[ct.VMID] || ct.Lock != "" {
			t.Errorf("CT %d duplicated or still locked (%q)", ct.VMID, ct.Lock)
		}
		seen[ct.VMID] = true
	}
	for id := 100; id < 100+clients; id++ {
		if !seen[id] {
			t.Errorf("VMID %s not used; nextid should hand out the lowest free ids", strconv.Itoa(id))
		}
	}
	if vols := sim.Volumes("pve", "local-lvm"); len(vols) != clients {
		t.Errorf("%d volumes, want %d", len(vols), clients)
	}
}
