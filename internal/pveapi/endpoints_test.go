package pveapi

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"sync/atomic"
	"testing"
)

const testUPIDGeneric = "UPID:pve:00001234:00005678:63DF62A5:vzstart:100:root@pam!tf:"

// TestEndpointContracts asserts, per typed method, the exact request sent
// (method, escaped path, query, form) and that the answer is decoded.
func TestEndpointContracts(t *testing.T) {
	upidAnswer := func(w http.ResponseWriter, _ *http.Request) { writeData(w, testUPIDGeneric) }
	cases := []struct {
		name      string
		method    string
		path      string
		wantQuery url.Values
		wantForm  url.Values
		answer    http.HandlerFunc
		call      func(context.Context, *Client) (any, error)
		want      any
	}{
		{
			name: "NodeStatus", method: "GET", path: "/nodes/pve/status",
			answer: func(w http.ResponseWriter, _ *http.Request) {
				writeData(w, map[string]any{"uptime": 3600, "cpu": 0.05, "pveversion": "pve-manager/9.1.2/abc", "kversion": "Linux 6.14",
					"loadavg": []string{"0.10", "0.20", "0.30"}, "memory": map[string]any{"total": 100, "used": 40, "free": 60},
					"cpuinfo": map[string]any{"cpus": 8, "cores": 4, "sockets": 1, "model": "x"}})
			},
			call: func(ctx context.Context, c *Client) (any, error) { return c.NodeStatus(ctx, "pve") },
			want: &NodeStatus{Uptime: 3600, CPU: 0.05, PVEVersion: "pve-manager/9.1.2/abc", KVersion: "Linux 6.14",
				LoadAvg: []string{"0.10", "0.20", "0.30"}, Memory: NodeUsage{Total: 100, Used: 40, Free: 60},
				CPUInfo: NodeCPUInfo{CPUs: 8, Cores: 4, Sockets: 1, Model: "x"}},
		},
		{
			name: "NextID", method: "GET", path: "/cluster/nextid",
			answer: func(w http.ResponseWriter, _ *http.Request) { writeData(w, "100") },
			call:   func(ctx context.Context, c *Client) (any, error) { return c.NextID(ctx, nil) },
			want:   100,
		},
		{
			name: "NextID with hint", method: "GET", path: "/cluster/nextid", wantQuery: url.Values{"vmid": {"150"}},
			answer: func(w http.ResponseWriter, _ *http.Request) { writeData(w, "150") },
			call:   func(ctx context.Context, c *Client) (any, error) { return c.NextID(ctx, new(150)) },
			want:   150,
		},
		{
			name: "ClusterResources", method: "GET", path: "/cluster/resources", wantQuery: url.Values{"type": {"vm"}},
			answer: func(w http.ResponseWriter, _ *http.Request) {
				writeData(w, []any{map[string]any{"id": "lxc/100", "type": "lxc", "vmid": 100, "node": "pve", "template": 1, "tags": "a;b"}})
			},
			call: func(ctx context.Context, c *Client) (any, error) { return c.ClusterResources(ctx, "vm") },
			want: []ClusterResource{{ID: "lxc/100", Type: "lxc", VMID: 100, Node: "pve", Template: true, Tags: "a;b"}},
		},
		{
			name: "ListContainers", method: "GET", path: "/nodes/pve/lxc",
			answer: func(w http.ResponseWriter, _ *http.Request) {
				writeData(w, []any{map[string]any{"vmid": "100", "status": "running", "name": "web", "maxmem": 536870912}})
			},
			call: func(ctx context.Context, c *Client) (any, error) { return c.ListContainers(ctx, "pve") },
			want: []ContainerStatus{{VMID: 100, Status: "running", Name: "web", MaxMem: 536870912}},
		},
		{
			name: "CreateContainerAsync", method: "POST", path: "/nodes/pve/lxc",
			wantForm: url.Values{"ostemplate": {"local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"}, "hostname": {"web"},
				"unprivileged": {"1"}, "net0": {"name=eth0,bridge=vmbr0,ip=dhcp"}, "vmid": {"100"}},
			answer: upidAnswer,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.CreateContainerAsync(ctx, "pve", 100, NewParams().
					Set("ostemplate", "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst").Set("hostname", "web").
					SetBool("unprivileged", true).Set("net0", "name=eth0,bridge=vmbr0,ip=dhcp"))
			},
			want: testUPIDGeneric,
		},
		{
			name: "ContainerCurrentConfig", method: "GET", path: "/nodes/pve/lxc/100/config", wantQuery: url.Values{"current": {"1"}},
			answer: func(w http.ResponseWriter, _ *http.Request) {
				writeData(w, map[string]any{"hostname": "web", "digest": "abc"})
			},
			call: func(ctx context.Context, c *Client) (any, error) { return c.ContainerCurrentConfig(ctx, "pve", 100) },
			want: &ContainerConfig{values: map[string]string{"hostname": "web"}, Digest: "abc"},
		},
		{
			name: "UpdateContainerConfig", method: "PUT", path: "/nodes/pve/lxc/100/config",
			wantForm: url.Values{"cores": {"4"}, "tags": {"a;b"}, "digest": {"abc"}, "delete": {"mp0,nameserver"}},
			answer:   func(w http.ResponseWriter, _ *http.Request) { writeData(w, nil) },
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.UpdateContainerConfig(ctx, "pve", 100, NewParams().SetInt("cores", 4).Set("tags", "a;b").Delete("mp0", "nameserver"), "abc")
			},
		},
		{
			name: "ContainerPending", method: "GET", path: "/nodes/pve/lxc/100/pending",
			answer: func(w http.ResponseWriter, _ *http.Request) {
				writeData(w, []any{map[string]any{"key": "cores", "value": 1, "pending": 2}, map[string]any{"key": "mp0", "value": "x", "delete": 1}})
			},
			call: func(ctx context.Context, c *Client) (any, error) { return c.ContainerPending(ctx, "pve", 100) },
			want: []PendingEntry{{Key: "cores", Value: "1", Pending: "2"}, {Key: "mp0", Value: "x", Delete: 1}},
		},
		{
			name: "ContainerStatus", method: "GET", path: "/nodes/pve/lxc/100/status/current",
			answer: func(w http.ResponseWriter, _ *http.Request) {
				writeData(w, map[string]any{"vmid": 100, "status": "stopped", "lock": "create", "template": "", "ha": map[string]any{"managed": 0}})
			},
			call: func(ctx context.Context, c *Client) (any, error) { return c.ContainerStatus(ctx, "pve", 100) },
			want: &ContainerStatus{VMID: 100, Status: "stopped", Lock: "create"},
		},
		{
			name: "StartContainerAsync", method: "POST", path: "/nodes/pve/lxc/100/status/start", answer: upidAnswer,
			call: func(ctx context.Context, c *Client) (any, error) { return c.StartContainerAsync(ctx, "pve", 100) },
			want: testUPIDGeneric,
		},
		{
			name: "StopContainerAsync", method: "POST", path: "/nodes/pve/lxc/100/status/stop", answer: upidAnswer,
			call: func(ctx context.Context, c *Client) (any, error) { return c.StopContainerAsync(ctx, "pve", 100) },
			want: testUPIDGeneric,
		},
		{
			name: "ShutdownContainerAsync with defaults", method: "POST", path: "/nodes/pve/lxc/100/status/shutdown", answer: upidAnswer,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.ShutdownContainerAsync(ctx, "pve", 100, 0, false)
			},
			want: testUPIDGeneric,
		},
		{
			name: "RebootContainerAsync", method: "POST", path: "/nodes/pve/lxc/100/status/reboot", answer: upidAnswer,
			call: func(ctx context.Context, c *Client) (any, error) { return c.RebootContainerAsync(ctx, "pve", 100) },
			want: testUPIDGeneric,
		},
		{
			name: "ResizeContainerDiskAsync", method: "PUT", path: "/nodes/pve/lxc/100/resize",
			wantForm: url.Values{"disk": {"rootfs"}, "size": {"+2G"}}, answer: upidAnswer,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.ResizeContainerDiskAsync(ctx, "pve", 100, "rootfs", "+2G")
			},
			want: testUPIDGeneric,
		},
		{
			name: "CloneContainerAsync", method: "POST", path: "/nodes/pve/lxc/9000/clone",
			wantForm: url.Values{"newid": {"101"}, "hostname": {"web-2"}, "full": {"1"}, "storage": {"local-lvm"}}, answer: upidAnswer,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.CloneContainerAsync(ctx, "pve", 9000, 101, CloneOptions{Hostname: "web-2", Full: new(true), Storage: "local-lvm"})
			},
			want: testUPIDGeneric,
		},
		{
			name: "ConvertToTemplateAsync", method: "POST", path: "/nodes/pve/lxc/9000/template",
			answer: func(w http.ResponseWriter, _ *http.Request) { writeData(w, nil) },
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.ConvertToTemplateAsync(ctx, "pve", 9000)
			},
		},
		{
			name: "ContainerInterfaces of a running CT", method: "GET", path: "/nodes/pve/lxc/100/interfaces",
			answer: func(w http.ResponseWriter, _ *http.Request) {
				writeData(w, []any{map[string]any{"name": "eth0", "hwaddr": "bc:24:11:aa:bb:cc", "inet": "10.0.0.5/24",
					"ip-addresses": []any{map[string]any{"ip-address": "10.0.0.5", "ip-address-type": "inet", "prefix": "24"}}}})
			},
			call: func(ctx context.Context, c *Client) (any, error) { return c.ContainerInterfaces(ctx, "pve", 100) },
			want: []ContainerInterface{{Name: "eth0", HWAddr: "bc:24:11:aa:bb:cc", Inet: "10.0.0.5/24",
				IPAddresses: []InterfaceAddress{{Address: "10.0.0.5", Type: "inet", Prefix: 24}}}},
		},
		{
			name: "ContainerInterfaces of a stopped CT", method: "GET", path: "/nodes/pve/lxc/100/interfaces",
			answer: func(w http.ResponseWriter, _ *http.Request) { writeData(w, nil) },
			call:   func(ctx context.Context, c *Client) (any, error) { return c.ContainerInterfaces(ctx, "pve", 100) },
			want:   []ContainerInterface(nil),
		},
		{
			name: "StorageContent", method: "GET", path: "/nodes/pve/storage/local/content", wantQuery: url.Values{"content": {"vztmpl"}},
			answer: func(w http.ResponseWriter, _ *http.Request) {
				writeData(w, []any{map[string]any{"volid": "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst", "content": "vztmpl", "format": "tzst", "size": 123, "ctime": 1700000000}})
			},
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.StorageContent(ctx, "pve", "local", "vztmpl")
			},
			want: []StorageVolume{{VolID: "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst", Content: "vztmpl", Format: "tzst", Size: 123, CTime: 1700000000}},
		},
		{
			name: "ListStorage", method: "GET", path: "/nodes/pve/storage",
			answer: func(w http.ResponseWriter, _ *http.Request) {
				writeData(w, []any{map[string]any{"storage": "local", "type": "dir", "content": "vztmpl,iso", "active": 1, "enabled": 1, "shared": 0, "avail": "1000"}})
			},
			call: func(ctx context.Context, c *Client) (any, error) { return c.ListStorage(ctx, "pve", "") },
			want: []Storage{{Storage: "local", Type: "dir", Content: "vztmpl,iso", Active: true, Enabled: true, Avail: 1000}},
		},
		{
			name: "Appliances", method: "GET", path: "/nodes/pve/aplinfo",
			answer: func(w http.ResponseWriter, _ *http.Request) {
				writeData(w, []any{map[string]any{"template": "debian-12-standard_12.7-1_amd64.tar.zst", "package": "debian-12-standard", "type": "lxc", "os": "debian-12", "sha512sum": "ff"}})
			},
			call: func(ctx context.Context, c *Client) (any, error) { return c.Appliances(ctx, "pve") },
			want: []Appliance{{Template: "debian-12-standard_12.7-1_amd64.tar.zst", Package: "debian-12-standard", Type: "lxc", OS: "debian-12", SHA512Sum: "ff"}},
		},
		{
			name: "DownloadApplianceAsync", method: "POST", path: "/nodes/pve/aplinfo",
			wantForm: url.Values{"storage": {"local"}, "template": {"debian-12-standard_12.7-1_amd64.tar.zst"}}, answer: upidAnswer,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.DownloadApplianceAsync(ctx, "pve", "local", "debian-12-standard_12.7-1_amd64.tar.zst")
			},
			want: testUPIDGeneric,
		},
		{
			name: "DeleteVolumeAsync", method: "DELETE", path: "/nodes/pve/storage/local/content/local:vztmpl%2Fold.tar.zst", answer: upidAnswer,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.DeleteVolumeAsync(ctx, "pve", "local", "local:vztmpl/old.tar.zst")
			},
			want: testUPIDGeneric,
		},
		{
			name: "TaskLog", method: "GET", path: "/nodes/pve/tasks/UPID:pve:00001234:00005678:63DF62A5:vzstart:100:root@pam%21tf:/log",
			wantQuery: url.Values{"start": {"0"}, "limit": {"2"}},
			answer:    func(w http.ResponseWriter, r *http.Request) { writeLog(w, r, []string{"starting", "done", "TASK OK"}) },
			call: func(ctx context.Context, c *Client) (any, error) {
				lines, total, err := c.TaskLog(ctx, testUPIDGeneric, 0, 2)
				return []any{lines, total}, err
			},
			want: []any{[]TaskLogLine{{N: 1, T: "starting"}, {N: 2, T: "done"}}, 3},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakePVE(t, map[string]http.HandlerFunc{tc.method + " " + tc.path: tc.answer})
			c := newTestClient(t, f, nil)
			got, err := tc.call(t.Context(), c)
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if tc.want != nil && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("result = %#v\nwant %#v", got, tc.want)
			}
			reqs := f.recorded()
			if len(reqs) != 1 {
				t.Fatalf("requests = %d, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != tc.method || r.Path != tc.path {
				t.Errorf("sent %s %s", r.Method, r.Path)
			}
			if want := orEmpty(tc.wantQuery); !reflect.DeepEqual(orEmpty(r.Query), want) {
				t.Errorf("query = %v, want %v", r.Query, want)
			}
			if want := orEmpty(tc.wantForm); !reflect.DeepEqual(orEmpty(r.Form), want) {
				t.Errorf("form = %v, want %v", r.Form, want)
			}
		})
	}
}

func orEmpty(v url.Values) url.Values {
	if v == nil {
		return url.Values{}
	}
	return v
}

func TestConvertToTemplateWaitsForTemplateFlag(t *testing.T) {
	var polls atomic.Int32
	f := newFakePVE(t, map[string]http.HandlerFunc{
		"POST /nodes/pve/lxc/9000/template": func(w http.ResponseWriter, _ *http.Request) { writeData(w, nil) },
		"GET /nodes/pve/lxc/9000/config": func(w http.ResponseWriter, _ *http.Request) {
			switch polls.Add(1) {
			case 1:
				writeData(w, map[string]any{"hostname": "golden", "digest": "a"})
			case 2:
				writeData(w, map[string]any{"hostname": "golden", "template": 1, "lock": "disk", "digest": "b"})
			default:
				writeData(w, map[string]any{"hostname": "golden", "template": 1, "digest": "c"})
			}
		},
	})
	c := newTestClient(t, f, nil)
	if err := c.ConvertToTemplate(t.Context(), "pve", 9000); err != nil {
		t.Fatal(err)
	}
	if polls.Load() != 3 {
		t.Errorf("config polls = %d, want 3 (until template=1 and unlocked)", polls.Load())
	}
}

func TestUpdateWithNothingToChangeSendsNothing(t *testing.T) {
	f := newFakePVE(t, nil)
	c := newTestClient(t, f, nil)
	if err := c.UpdateContainerConfig(t.Context(), "pve", 100, NewParams(), "digest"); err != nil {
		t.Fatal(err)
	}
	if len(f.recorded()) != 0 {
		t.Error("an empty update must not reach PVE (it answers 'no options specified')")
	}
}

func TestSyncWaitersChainTaskWaits(t *testing.T) {
	routes := taskRoutes(testUPIDGeneric, "OK", nil)
	routes["POST /nodes/pve/lxc/100/status/start"] = func(w http.ResponseWriter, _ *http.Request) { writeData(w, testUPIDGeneric) }
	f := newFakePVE(t, routes)
	c := newTestClient(t, f, nil)
	res, err := c.StartContainer(t.Context(), "pve", 100)
	if err != nil || res.ExitStatus != "OK" {
		t.Fatalf("res %+v err %v", res, err)
	}
	reqs := f.recorded()
	if len(reqs) != 2 || reqs[1].Method != http.MethodGet {
		t.Errorf("requests = %+v, want the start then one status poll", reqs)
	}
}
