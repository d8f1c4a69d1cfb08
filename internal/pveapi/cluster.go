package pveapi

import (
	"context"
	"net/http"
)

// VersionInfo is GET /version.
type VersionInfo struct {
	Version string `json:"version"` // "9.1.2"
	Release string `json:"release"` // "9.1"
	RepoID  string `json:"repoid"`
	Console string `json:"console"`
}

// Version reads the API server's version; it is also the cheapest
// authenticated request, used to check a configuration.
func (c *Client) Version(ctx context.Context) (*VersionInfo, error) {
	var out VersionInfo
	if err := c.Do(ctx, http.MethodGet, "/version", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Node is one entry of GET /nodes.
type Node struct {
	Node           string  `json:"node"`
	Status         string  `json:"status"` // online | offline | unknown
	CPU            float64 `json:"cpu"`
	MaxCPU         int     `json:"maxcpu"`
	Mem            int64   `json:"mem"`
	MaxMem         int64   `json:"maxmem"`
	Uptime         int64   `json:"uptime"`
	Level          string  `json:"level"`
	SSLFingerprint string  `json:"ssl_fingerprint"`
}

// Nodes lists the cluster's nodes.
func (c *Client) Nodes(ctx context.Context) ([]Node, error) {
	var out []Node
	if err := c.Do(ctx, http.MethodGet, "/nodes", nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// NodeStatus is the part of GET /nodes/{node}/status the provider uses.
type NodeStatus struct {
	Uptime     int64         `json:"uptime"`
	CPU        float64       `json:"cpu"`
	LoadAvg    []string      `json:"loadavg"`
	KVersion   string        `json:"kversion"`
	PVEVersion string        `json:"pveversion"`
	CPUInfo    NodeCPUInfo   `json:"cpuinfo"`
	Memory     NodeUsage     `json:"memory"`
	Swap       NodeUsage     `json:"swap"`
	RootFS     NodeDiskUsage `json:"rootfs"`
}

// NodeCPUInfo describes a node's processors.
type NodeCPUInfo struct {
	Model   string `json:"model"`
	CPUs    int    `json:"cpus"`
	Cores   int    `json:"cores"`
	Sockets int    `json:"sockets"`
}

// NodeUsage is a total/used/free triple in bytes.
type NodeUsage struct {
	Total int64 `json:"total"`
	Used  int64 `json:"used"`
	Free  int64 `json:"free"`
}

// NodeDiskUsage is NodeUsage plus the space available to unprivileged use.
type NodeDiskUsage struct {
	Total int64 `json:"total"`
	Used  int64 `json:"used"`
	Free  int64 `json:"free"`
	Avail int64 `json:"avail"`
}

// NodeStatus reads one node's status.
func (c *Client) NodeStatus(ctx context.Context, node string) (*NodeStatus, error) {
	var out NodeStatus
	if err := c.Do(ctx, http.MethodGet, apiPath("nodes", node, "status"), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// NextID asks for the lowest free VMID (GET /cluster/nextid). With a hint it
// checks that id instead: a taken id is an error matching ErrAlreadyExists
// (PVE: 400, "VM <id> already exists"). The answer is not a reservation;
// use AllocateVMID/CreateContainerAuto to create without collisions.
func (c *Client) NextID(ctx context.Context, hint *int) (int, error) {
	var params *Params
	if hint != nil {
		params = NewParams().SetInt("vmid", int64(*hint))
	}
	var id int
	if err := c.Do(ctx, http.MethodGet, "/cluster/nextid", params, &id); err != nil {
		return 0, err
	}
	return id, nil
}

// ClusterResource is one entry of GET /cluster/resources; which fields are
// set depends on Type (lxc, qemu, storage, node, …).
type ClusterResource struct {
	ID         string  `json:"id"` // "lxc/100", "storage/pve/local", "node/pve"
	Type       string  `json:"type"`
	Node       string  `json:"node"`
	Name       string  `json:"name"`
	Status     string  `json:"status"`
	VMID       int     `json:"vmid"`
	Template   bool    `json:"template"`
	Tags       string  `json:"tags"`
	Lock       string  `json:"lock"`
	HAState    string  `json:"hastate"`
	Pool       string  `json:"pool"`
	Storage    string  `json:"storage"`
	Content    string  `json:"content"`
	PluginType string  `json:"plugintype"`
	Shared     bool    `json:"shared"`
	CPU        float64 `json:"cpu"`
	MaxCPU     float64 `json:"maxcpu"`
	Mem        int64   `json:"mem"`
	MaxMem     int64   `json:"maxmem"`
	Disk       int64   `json:"disk"`
	MaxDisk    int64   `json:"maxdisk"`
	Uptime     int64   `json:"uptime"`
}

// ClusterResources lists cluster resources; typ filters ("vm" returns both
// qemu and lxc guests, "storage", "node", "sdn"); empty means all.
func (c *Client) ClusterResources(ctx context.Context, typ string) ([]ClusterResource, error) {
	var params *Params
	if typ != "" {
		params = NewParams().Set("type", typ)
	}
	var out []ClusterResource
	if err := c.Do(ctx, http.MethodGet, "/cluster/resources", params, &out); err != nil {
		return nil, err
	}
	return out, nil
}
