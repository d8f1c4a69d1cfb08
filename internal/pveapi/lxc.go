package pveapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
)

// Container endpoints under /nodes/{node}/lxc. Calls that start a PVE task
// come in pairs: XxxAsync returns the task's UPID as soon as PVE accepted
// the request; Xxx also waits for the task (WaitTask). A failed wait is
// final, with one exception: a start, stop, shutdown, reboot or destroy
// task that failed on the container's config lock ("can't lock file
// '/run/lock/lxc/pve-config-<vmid>.lock' - got timeout") did nothing, so
// it is dispatched again (runConfigLockedTask).

func lxcPath(node string, vmid int, rest ...string) string {
	return apiPath(append([]string{"nodes", node, "lxc", strconv.Itoa(vmid)}, rest...)...)
}

// ContainerStatus is GET .../status/current, and one entry of the container
// list (GET /nodes/{node}/lxc).
type ContainerStatus struct {
	VMID      int     `json:"vmid"`
	Name      string  `json:"name"`
	Status    string  `json:"status"` // running | stopped
	Lock      string  `json:"lock"`
	Tags      string  `json:"tags"`
	Template  bool    `json:"template"`
	Uptime    int64   `json:"uptime"`
	PID       int     `json:"pid"`
	CPUs      float64 `json:"cpus"`
	CPU       float64 `json:"cpu"`
	Mem       int64   `json:"mem"`
	MaxMem    int64   `json:"maxmem"`
	Swap      int64   `json:"swap"`
	MaxSwap   int64   `json:"maxswap"`
	Disk      int64   `json:"disk"`
	MaxDisk   int64   `json:"maxdisk"`
	NetIn     int64   `json:"netin"`
	NetOut    int64   `json:"netout"`
	DiskRead  int64   `json:"diskread"`
	DiskWrite int64   `json:"diskwrite"`
}

// Running reports whether the container runs.
func (s ContainerStatus) Running() bool { return s.Status == "running" }

// ListContainers lists the containers on a node.
func (c *Client) ListContainers(ctx context.Context, node string) ([]ContainerStatus, error) {
	var out []ContainerStatus
	if err := c.Do(ctx, http.MethodGet, apiPath("nodes", node, "lxc"), nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// CreateContainerAsync creates container vmid on node (POST
// /nodes/{node}/lxc) with params (ostemplate, hostname, net0, rootfs, …;
// "vmid" is set from the argument). PVE checks the id synchronously and
// writes the config with "lock: create" before answering, so once this
// returns the id is taken.
//
// A taken id is an error matching ErrAlreadyExists. Only such a definite
// refusal by PVE is a plain error: any failure after which the container
// may exist (the answer lost to a timeout, a cancellation or a closed
// connection; a proxy's 5xx; "got no worker upid" and then "already
// exists" on the retry) is an *AmbiguousCreateError, never silently
// accepted or treated as someone else's id.
func (c *Client) CreateContainerAsync(ctx context.Context, node string, vmid int, params *Params) (string, error) {
	p := params.Clone()
	p.SetInt("vmid", int64(vmid))
	return c.dispatchCreate(ctx, apiPath("nodes", node, "lxc"), vmid, p)
}

// CreateContainer creates a container and waits for the create task.
func (c *Client) CreateContainer(ctx context.Context, node string, vmid int, params *Params) (*TaskResult, error) {
	return c.waitFor(c.CreateContainerAsync(ctx, node, vmid, params))(ctx)
}

// AmbiguousCreateError reports a create (or clone) whose outcome is
// unknown: Proxmox VE may have created VMID although no clear answer came
// back. That is every failure except a definite refusal by PVE (see
// mayHaveActed): the answer was lost to a timeout, a cancellation or a
// closed connection after the request went out, a proxy answered 5xx, the
// task id could not be read, or an attempt failed with "got no worker
// upid" and a retry found VMID taken. The caller should treat VMID as
// possibly its own (record it, and look whether it exists) rather than
// pick another id and orphan it.
type AmbiguousCreateError struct {
	VMID int
	Err  error
}

func (e *AmbiguousCreateError) Error() string {
	if errors.Is(e.Err, ErrAlreadyExists) {
		return fmt.Sprintf("guest %d may have been created by an earlier attempt of this request (its answer was lost), and the retry found the id taken: %v", e.VMID, e.Err)
	}
	return fmt.Sprintf("the request creating guest %d got no clear answer, so Proxmox VE may have created it: %v", e.VMID, e.Err)
}

func (e *AmbiguousCreateError) Unwrap() error { return e.Err }

// dispatchCreate sends a create-like POST that returns a UPID. Only a
// definite refusal by PVE is returned as a plain error; any failure after
// which the guest may exist is an *AmbiguousCreateError, and so is any
// failure after an earlier attempt that may have acted.
func (c *Client) dispatchCreate(ctx context.Context, path string, vmid int, params *Params) (string, error) {
	res, err := c.send(ctx, call{method: http.MethodPost, path: path, params: params})
	if err == nil {
		upid, derr := decodeUPID(res)
		if derr != nil {
			return "", &AmbiguousCreateError{VMID: vmid, Err: derr}
		}
		return upid, nil
	}
	if mayHaveActed(err) || slices.ContainsFunc(res.retriedAfter, mayHaveActed) {
		return "", &AmbiguousCreateError{VMID: vmid, Err: err}
	}
	return "", err
}

// decodeUPID reads a task id answer.
func decodeUPID(res result) (string, error) {
	var upid string
	if err := res.decode(&upid); err != nil {
		return "", err
	}
	if upid == "" {
		return "", &DecodeError{Method: res.call.method, Path: res.call.path, Err: errors.New("expected a task id (UPID), got none")}
	}
	return upid, nil
}

// postTask sends a request that answers with a UPID.
func (c *Client) postTask(ctx context.Context, method, path string, params *Params) (string, error) {
	res, err := c.send(ctx, call{method: method, path: path, params: params})
	if err != nil {
		return "", err
	}
	return decodeUPID(res)
}

// DeleteContainerOptions are the flags of DELETE /nodes/{node}/lxc/{vmid}.
type DeleteContainerOptions struct {
	// Purge also removes the container from backup jobs, replication and HA.
	Purge bool
	// DestroyUnreferencedDisks also removes disks of this vmid that the
	// config does not reference.
	DestroyUnreferencedDisks bool
	// Force stops a running container first.
	Force bool
}

func (o DeleteContainerOptions) params() *Params {
	p := NewParams()
	if o.Purge {
		p.SetBool("purge", true)
	}
	if o.DestroyUnreferencedDisks {
		p.SetBool("destroy-unreferenced-disks", true)
	}
	if o.Force {
		p.SetBool("force", true)
	}
	return p
}

// DeleteContainerAsync destroys a container (the flags go in the query
// string; PVE rejects a DELETE body).
func (c *Client) DeleteContainerAsync(ctx context.Context, node string, vmid int, opts DeleteContainerOptions) (string, error) {
	return c.postTask(ctx, http.MethodDelete, lxcPath(node, vmid), opts.params())
}

// DeleteContainer destroys a container and waits for the task; a task
// that timed out on the config lock is dispatched again.
func (c *Client) DeleteContainer(ctx context.Context, node string, vmid int, opts DeleteContainerOptions) (*TaskResult, error) {
	return c.runConfigLockedTask(ctx, vmid, func(ctx context.Context) (string, error) {
		return c.DeleteContainerAsync(ctx, node, vmid, opts)
	})
}

// ContainerConfig reads the configuration with pending changes merged in
// (PVE's default), plus its digest. A missing container matches ErrNotFound.
func (c *Client) ContainerConfig(ctx context.Context, node string, vmid int) (*ContainerConfig, error) {
	var out ContainerConfig
	if err := c.Do(ctx, http.MethodGet, lxcPath(node, vmid, "config"), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ContainerCurrentConfig reads the active configuration, without pending
// changes (current=1).
func (c *Client) ContainerCurrentConfig(ctx context.Context, node string, vmid int) (*ContainerConfig, error) {
	var out ContainerConfig
	if err := c.Do(ctx, http.MethodGet, lxcPath(node, vmid, "config"), NewParams().SetBool("current", true), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateContainerConfig changes configuration keys (PUT .../config, which is
// synchronous for LXC: no task). Keys to remove go in params.Delete. With a
// non-empty digest PVE refuses the change if the config changed since it
// was read. Empty params send nothing (PVE would answer "no options
// specified").
func (c *Client) UpdateContainerConfig(ctx context.Context, node string, vmid int, params *Params, digest string) error {
	if params.Empty() {
		return nil
	}
	p := params
	if digest != "" {
		p = params.Clone().Set("digest", digest)
	}
	return c.Do(ctx, http.MethodPut, lxcPath(node, vmid, "config"), p, nil)
}

// PendingEntry is one row of GET .../pending.
type PendingEntry struct {
	Key string `json:"key"`
	// Value is the active value, Pending the value applied at next start.
	Value   string `json:"value"`
	Pending string `json:"pending"`
	// Delete is 1 for a pending delete, 2 for a forced one.
	Delete int `json:"delete"`
}

// ContainerPending lists active and pending values per key.
func (c *Client) ContainerPending(ctx context.Context, node string, vmid int) ([]PendingEntry, error) {
	var out []PendingEntry
	if err := c.Do(ctx, http.MethodGet, lxcPath(node, vmid, "pending"), nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// ContainerStatus reads GET .../status/current.
func (c *Client) ContainerStatus(ctx context.Context, node string, vmid int) (*ContainerStatus, error) {
	var out ContainerStatus
	if err := c.Do(ctx, http.MethodGet, lxcPath(node, vmid, "status", "current"), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// StartContainerAsync starts a container ("CT <id> already running" is a 500).
func (c *Client) StartContainerAsync(ctx context.Context, node string, vmid int) (string, error) {
	return c.postTask(ctx, http.MethodPost, lxcPath(node, vmid, "status", "start"), nil)
}

// StartContainer starts a container and waits for the task; a task that
// timed out on the config lock is dispatched again.
func (c *Client) StartContainer(ctx context.Context, node string, vmid int) (*TaskResult, error) {
	return c.runConfigLockedTask(ctx, vmid, func(ctx context.Context) (string, error) {
		return c.StartContainerAsync(ctx, node, vmid)
	})
}

// StopContainerAsync stops a container immediately (no clean shutdown).
func (c *Client) StopContainerAsync(ctx context.Context, node string, vmid int) (string, error) {
	return c.postTask(ctx, http.MethodPost, lxcPath(node, vmid, "status", "stop"), nil)
}

// StopContainer stops a container and waits for the task; a task that
// timed out on the config lock is dispatched again.
func (c *Client) StopContainer(ctx context.Context, node string, vmid int) (*TaskResult, error) {
	return c.runConfigLockedTask(ctx, vmid, func(ctx context.Context) (string, error) {
		return c.StopContainerAsync(ctx, node, vmid)
	})
}

// ShutdownContainerAsync shuts a container down cleanly. timeout is in
// seconds (0 keeps PVE's default of 60); forceStop stops it when the timeout
// passes.
func (c *Client) ShutdownContainerAsync(ctx context.Context, node string, vmid, timeout int, forceStop bool) (string, error) {
	p := NewParams()
	if timeout > 0 {
		p.SetInt("timeout", int64(timeout))
	}
	if forceStop {
		p.SetBool("forceStop", true)
	}
	return c.postTask(ctx, http.MethodPost, lxcPath(node, vmid, "status", "shutdown"), p)
}

// ShutdownContainer shuts a container down and waits for the task; a task
// that timed out on the config lock is dispatched again.
func (c *Client) ShutdownContainer(ctx context.Context, node string, vmid, timeout int, forceStop bool) (*TaskResult, error) {
	return c.runConfigLockedTask(ctx, vmid, func(ctx context.Context) (string, error) {
		return c.ShutdownContainerAsync(ctx, node, vmid, timeout, forceStop)
	})
}

// RebootContainerAsync reboots a running container.
func (c *Client) RebootContainerAsync(ctx context.Context, node string, vmid int) (string, error) {
	return c.postTask(ctx, http.MethodPost, lxcPath(node, vmid, "status", "reboot"), nil)
}

// RebootContainer reboots a container and waits for the task; a task that
// timed out on the config lock is dispatched again.
func (c *Client) RebootContainer(ctx context.Context, node string, vmid int) (*TaskResult, error) {
	return c.runConfigLockedTask(ctx, vmid, func(ctx context.Context) (string, error) {
		return c.RebootContainerAsync(ctx, node, vmid)
	})
}

// ResizeContainerDiskAsync grows a disk (PUT .../resize). disk is "rootfs"
// or "mpN"; size is absolute ("8G") or relative ("+2G"); a size without unit
// is bytes. PVE cannot shrink ("unable to shrink disk size").
func (c *Client) ResizeContainerDiskAsync(ctx context.Context, node string, vmid int, disk, size string) (string, error) {
	p := NewParams().Set("disk", disk).Set("size", size)
	return c.postTask(ctx, http.MethodPut, lxcPath(node, vmid, "resize"), p)
}

// ResizeContainerDisk grows a disk and waits for the task.
func (c *Client) ResizeContainerDisk(ctx context.Context, node string, vmid int, disk, size string) (*TaskResult, error) {
	return c.waitFor(c.ResizeContainerDiskAsync(ctx, node, vmid, disk, size))(ctx)
}

// CloneOptions are the optional parameters of POST .../clone.
type CloneOptions struct {
	Hostname    string
	Description string
	// Full selects a full copy; nil keeps PVE's default (full for normal
	// containers, linked for templates).
	Full *bool
	// Storage is the target storage (full clones only).
	Storage  string
	Pool     string
	Snapname string
	// Target is the target node.
	Target string
}

func (o CloneOptions) params(newid int) *Params {
	p := NewParams().SetInt("newid", int64(newid))
	set := func(k, v string) {
		if v != "" {
			p.Set(k, v)
		}
	}
	set("hostname", o.Hostname)
	set("description", o.Description)
	if o.Full != nil {
		p.SetBool("full", *o.Full)
	}
	set("storage", o.Storage)
	set("pool", o.Pool)
	set("snapname", o.Snapname)
	set("target", o.Target)
	return p
}

// CloneContainerAsync clones container vmid to newid. A taken newid matches
// ErrAlreadyExists (and the ambiguity rule of CreateContainerAsync applies).
func (c *Client) CloneContainerAsync(ctx context.Context, node string, vmid, newid int, opts CloneOptions) (string, error) {
	return c.dispatchCreate(ctx, lxcPath(node, vmid, "clone"), newid, opts.params(newid))
}

// CloneContainer clones a container and waits for the task.
func (c *Client) CloneContainer(ctx context.Context, node string, vmid, newid int, opts CloneOptions) (*TaskResult, error) {
	return c.waitFor(c.CloneContainerAsync(ctx, node, vmid, newid, opts))(ctx)
}

// ConvertToTemplateAsync asks PVE to turn a stopped container into a
// template. PVE answers null even though it works in a background worker;
// see ConvertToTemplate for waiting.
func (c *Client) ConvertToTemplateAsync(ctx context.Context, node string, vmid int) error {
	return c.Do(ctx, http.MethodPost, lxcPath(node, vmid, "template"), nil, nil)
}

// ConvertToTemplate converts a container to a template and waits until its
// config shows "template: 1" without a lock, polling like WaitTask.
func (c *Client) ConvertToTemplate(ctx context.Context, node string, vmid int) error {
	if err := c.ConvertToTemplateAsync(ctx, node, vmid); err != nil {
		return err
	}
	return c.WaitForTemplate(ctx, node, vmid)
}

// WaitForTemplate polls a container's config until it is a template and not
// locked. A container that disappears meanwhile matches ErrNotFound.
func (c *Client) WaitForTemplate(ctx context.Context, node string, vmid int) error {
	interval := c.poll.Initial
	for {
		cfg, err := c.ContainerConfig(ctx, node, vmid)
		if err != nil {
			return fmt.Errorf("waiting for container %d to become a template: %w", vmid, err)
		}
		if cfg.IsTemplate() && cfg.Lock() == "" {
			return nil
		}
		if err := sleep(ctx, interval); err != nil {
			return fmt.Errorf("waiting for container %d to become a template: %w", vmid, err)
		}
		interval = min(interval+interval/2, c.poll.Max)
	}
}

// ContainerInterface is one entry of GET .../interfaces.
type ContainerInterface struct {
	Name            string             `json:"name"`
	HWAddr          string             `json:"hwaddr"`
	HardwareAddress string             `json:"hardware-address"`
	Inet            string             `json:"inet"`  // "10.0.0.5/24"
	Inet6           string             `json:"inet6"` // "fe80::1/64"
	IPAddresses     []InterfaceAddress `json:"ip-addresses"`
}

// InterfaceAddress is one address of a container interface.
type InterfaceAddress struct {
	Address string `json:"ip-address"`
	Type    string `json:"ip-address-type"` // inet | inet6
	Prefix  int    `json:"prefix"`
}

// ContainerInterfaces lists a running container's interfaces (including
// lo); for a stopped container PVE answers null and this returns nil.
func (c *Client) ContainerInterfaces(ctx context.Context, node string, vmid int) ([]ContainerInterface, error) {
	var out []ContainerInterface
	if err := c.Do(ctx, http.MethodGet, lxcPath(node, vmid, "interfaces"), nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// runConfigLockedTask dispatches a task for guest vmid and waits for it. A
// task that failed on the guest's config lock did nothing (see
// isConfigLockTimeoutTask), so it is dispatched again after the retry
// policy's backoff, at most RetryPolicy.MaxRetries times; the request that
// dispatches it has its own retries. Any other outcome is returned as is.
func (c *Client) runConfigLockedTask(ctx context.Context, vmid int, dispatch func(context.Context) (string, error)) (*TaskResult, error) {
	for retry := 1; ; retry++ {
		res, err := c.waitFor(dispatch(ctx))(ctx)
		var taskErr *TaskError
		if !errors.As(err, &taskErr) || !isConfigLockTimeoutTask(taskErr, vmid) || retry > c.retry.MaxRetries {
			return res, err
		}
		wait := c.retry.backoff(retry)
		subsystemWarn(ctx, "task failed on the config lock; dispatching it again", map[string]any{
			"upid": taskErr.UPID.String(), "type": taskErr.UPID.Type, "vmid": vmid,
			"retry": retry, "max_retries": c.retry.MaxRetries, "wait_ms": wait.Milliseconds(),
		})
		if waitErr := sleep(ctx, wait); waitErr != nil {
			return nil, fmt.Errorf("%w (retry abandoned: %w)", err, waitErr)
		}
	}
}

// waitFor chains an Async call into WaitTask:
// c.waitFor(c.XxxAsync(ctx, …))(ctx). The task is waited for once; a failed
// wait is returned as is and never leads to a second dispatch.
func (c *Client) waitFor(upid string, err error) func(context.Context) (*TaskResult, error) {
	return func(ctx context.Context) (*TaskResult, error) {
		if err != nil {
			return nil, err
		}
		return c.WaitTask(ctx, upid)
	}
}
