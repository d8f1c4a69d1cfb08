package pvesim

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// The PVE release the simulator imitates.
const (
	pveVersion = "9.1.9"
	pveRelease = "9.1"
	pveRepoID  = "1c3a5ba8c4a2a2e7"
)

// Simulated node hardware.
const (
	nodeCPUs   = 8
	nodeMemory = 32 * pveformat.GiB
	nodeDisk   = 100 * pveformat.GiB
)

// VMID range of /cluster/nextid (datacenter default next-id).
const (
	nextIDLower = 100
	nextIDUpper = 1000000
)

func (s *Server) handleVersion(*request) (any, error) {
	return map[string]any{"version": pveVersion, "release": pveRelease, "repoid": pveRepoID}, nil
}

func (s *Server) uptime() int64 { return int64(s.now().Sub(s.bootTime).Seconds()) }

// handleNodes is GET /nodes.
func (s *Server) handleNodes(*request) (any, error) {
	out := []map[string]any{}
	for _, n := range s.cfg.Nodes {
		out = append(out, map[string]any{
			"node": n, "status": "online", "cpu": 0.0123, "maxcpu": nodeCPUs, "mem": s.nodeMemUsed(n), "maxmem": nodeMemory,
			"disk": 5 * pveformat.GiB, "maxdisk": nodeDisk, "uptime": s.uptime(), "level": "",
			"ssl_fingerprint": s.tls.fingerprint, "id": "node/" + n, "type": "node",
		})
	}
	return out, nil
}

// nodeMemUsed is 2 GiB for the host plus what running containers use.
func (s *Server) nodeMemUsed(node string) int64 {
	used := 2 * pveformat.GiB
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.containers {
		if c.Node == node && c.Running {
			used += ctMemUsed
		}
	}
	return used
}

// handleNodeIndex is GET /nodes/{node}.
func (s *Server) handleNodeIndex(*request) (any, error) {
	out := []map[string]string{}
	for _, n := range []string{"aplinfo", "apt", "capabilities", "ceph", "certificates", "config", "disks", "dns",
		"firewall", "hardware", "hosts", "journal", "lxc", "netstat", "network", "qemu", "query-url-metadata",
		"replication", "report", "rrd", "rrddata", "scan", "sdn", "services", "spiceshell", "startall", "status",
		"stopall", "storage", "subscription", "syslog", "tasks", "termproxy", "time", "version", "vncshell", "vzdump",
		"wakeonlan"} {
		out = append(out, map[string]string{"name": n})
	}
	return out, nil
}

// handleNodeStatus is GET /nodes/{node}/status.
func (s *Server) handleNodeStatus(q *request) (any, error) {
	used := s.nodeMemUsed(q.node())
	return map[string]any{
		"cpu": 0.0123, "wait": 0.0004, "idle": 0,
		"cpuinfo": map[string]any{"cpus": nodeCPUs, "cores": nodeCPUs / 2, "sockets": 1, "model": "pvesim Virtual CPU",
			"mhz": "2400.000", "hvm": "1", "user_hz": 100, "flags": "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov"},
		"loadavg":        []string{"0.08", "0.03", "0.01"},
		"memory":         map[string]any{"total": nodeMemory, "used": used, "free": nodeMemory - used, "available": nodeMemory - used},
		"swap":           map[string]any{"total": 8 * pveformat.GiB, "used": 0, "free": 8 * pveformat.GiB},
		"rootfs":         map[string]any{"total": nodeDisk, "used": 5 * pveformat.GiB, "free": nodeDisk - 5*pveformat.GiB, "avail": nodeDisk - 5*pveformat.GiB},
		"ksm":            map[string]any{"shared": 0},
		"uptime":         s.uptime(),
		"kversion":       "Linux 6.14.11-4-pve #1 SMP PREEMPT_DYNAMIC PMX 6.14.11-4 (2025-10-10T08:04Z)",
		"current-kernel": map[string]any{"sysname": "Linux", "release": "6.14.11-4-pve", "version": "#1 SMP PREEMPT_DYNAMIC PMX 6.14.11-4 (2025-10-10T08:04Z)", "machine": "x86_64"},
		"boot-info":      map[string]any{"mode": "efi", "secureboot": 0},
		"pveversion":     "pve-manager/" + pveVersion + "/" + pveRepoID,
	}, nil
}

// handleClusterStatus is GET /cluster/status for a cluster of the
// simulator's nodes.
func (s *Server) handleClusterStatus(*request) (any, error) {
	out := []map[string]any{}
	if len(s.cfg.Nodes) > 1 {
		out = append(out, map[string]any{"type": "cluster", "id": "cluster", "name": "pvesim", "nodes": len(s.cfg.Nodes), "quorate": 1, "version": len(s.cfg.Nodes)})
	}
	for i, n := range s.cfg.Nodes {
		local := 0
		if i == 0 {
			local = 1
		}
		out = append(out, map[string]any{"type": "node", "id": "node/" + n, "name": n, "nodeid": i + 1, "online": 1,
			"local": local, "ip": "127.0.0.1", "level": ""})
	}
	return out, nil
}

// handleNextID is GET /cluster/nextid: the lowest free VMID as a string,
// or with vmid the given id when it is free.
func (s *Server) handleNextID(q *request) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q.has("vmid") {
		id := q.vmid()
		if _, used := s.containers[id]; used {
			return nil, paramErr1("vmid", fmt.Sprintf("VM %d already exists", id))
		}
		return q.str("vmid"), nil
	}
	for id := nextIDLower; id < nextIDUpper; id++ {
		if _, used := s.containers[id]; !used {
			return strconv.Itoa(id), nil
		}
	}
	return nil, errf("unable to get any free VMID in range [%d, %d]", nextIDLower, nextIDUpper)
}

// handleClusterResources is GET /cluster/resources[?type=vm|storage|node|sdn].
func (s *Server) handleClusterResources(q *request) (any, error) {
	typ := q.str("type")
	out := []map[string]any{}
	if typ == "" || typ == "vm" {
		for _, st := range s.containerStates() {
			out = append(out, st.resourceJSON(s.now()))
		}
	}
	if typ == "" || typ == "node" {
		for _, n := range s.cfg.Nodes {
			out = append(out, map[string]any{
				"id": "node/" + n, "type": "node", "node": n, "status": "online", "cpu": 0.0123, "maxcpu": nodeCPUs,
				"mem": s.nodeMemUsed(n), "maxmem": nodeMemory, "disk": 5 * pveformat.GiB, "maxdisk": nodeDisk,
				"uptime": s.uptime(), "level": "", "cgroup-mode": 2,
			})
		}
	}
	if typ == "" || typ == "storage" {
		for _, n := range s.cfg.Nodes {
			for _, sc := range s.storages {
				st := s.storageStatus(n, sc)
				out = append(out, map[string]any{
					"id": "storage/" + n + "/" + sc.ID, "type": "storage", "storage": sc.ID, "node": n,
					"status": "available", "content": strings.Join(sc.Content, ","), "plugintype": sc.Type,
					"shared": 0, "disk": st["used"], "maxdisk": sc.Total,
				})
			}
		}
	}
	if typ == "" || typ == "sdn" {
		for _, n := range s.cfg.Nodes {
			out = append(out, map[string]any{"id": "sdn/" + n + "/localnetwork", "type": "sdn", "sdn": "localnetwork", "node": n, "status": "ok"})
		}
	}
	return out, nil
}

// handleLogin is POST /access/ticket: username + password (or a valid
// ticket as password, to renew it) → ticket and CSRF token.
func (s *Server) handleLogin(q *request) (any, error) {
	user := q.str("username")
	if realm := q.str("realm"); realm != "" {
		user += "@" + realm
	}
	if !s.auth.checkPassword(user, q.str("password")) {
		return nil, &apiError{Status: 401, Message: "authentication failure"}
	}
	ticket, csrf := s.auth.issue(user)
	return map[string]any{"username": user, "ticket": ticket, "CSRFPreventionToken": csrf, "cap": capabilities()}, nil
}

// handleLoginForm is GET /access/ticket, the "dummy" PVE keeps for its GUI.
func (s *Server) handleLoginForm(*request) (any, error) { return nil, nil }

// handlePermissions is GET /access/permissions: root may do everything.
func (s *Server) handlePermissions(*request) (any, error) {
	all := map[string]int{}
	for _, privs := range capabilities() {
		for p := range privs {
			all[p] = 1
		}
	}
	return map[string]any{"/": all}, nil
}
