package pvesim

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// ContainerInfo is a container as tests inspect it.
type ContainerInfo struct {
	VMID          int
	Node          string
	Status        string            // "running" or "stopped"
	Lock          string            // the config's lock, "" when unlocked
	Config        map[string]string // current values as stored (description with its "\n"s)
	Pending       map[string]string
	PendingDelete []string
	ConfigText    string // the config file, as PVE would write it
	Digest        string
}

func (st ctState) info(text string) ContainerInfo {
	status := "stopped"
	if st.Running {
		status = "running"
	}
	return ContainerInfo{VMID: st.VMID, Node: st.Node, Status: status, Lock: st.Config.lock(),
		Config: st.Config.Values, Pending: st.Config.Pending, PendingDelete: st.Config.PendingDelete,
		ConfigText: text, Digest: st.Digest}
}

// Containers lists every container of the cluster, sorted by VMID.
func (s *Server) Containers() []ContainerInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ContainerInfo
	for _, vmid := range sortedInts(s.containers) {
		if st, err := s.stateLocked(vmid); err == nil {
			out = append(out, st.info(s.containers[vmid].Text))
		}
	}
	return out
}

// Container returns one container.
func (s *Server) Container(vmid int) (ContainerInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.stateLocked(vmid)
	if err != nil {
		return ContainerInfo{}, false
	}
	return st.info(s.containers[vmid].Text), true
}

// VolumeInfo is a storage volume as tests inspect it.
type VolumeInfo struct {
	VolID   string
	Content string // "vztmpl" or "rootdir"
	Format  string
	Size    int64
	VMID    int
	Parent  string // a linked clone's base volume
	Path    string // vztmpl: the file on disk
}

// Volumes lists a node's volumes on a storage, sorted by volid.
func (s *Server) Volumes(node, storage string) []VolumeInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []VolumeInfo
	for _, v := range s.volumes {
		if v.Node != node || v.Storage != storage {
			continue
		}
		vi := VolumeInfo{VolID: v.VolID, Content: v.Content, Format: v.Format, Size: v.Size, VMID: v.VMID, Parent: v.Parent}
		if v.File != "" {
			vi.Path = s.nodeFS(node) + "/" + v.File
		}
		out = append(out, vi)
	}
	slices.SortFunc(out, func(a, b VolumeInfo) int { return strings.Compare(a.VolID, b.VolID) })
	return out
}

// DeleteContainerOutOfBand removes a container behind the API's back, as
// if someone had deleted it on the node: config, volumes and backend state.
func (s *Server) DeleteContainerOutOfBand(vmid int) error {
	s.mu.Lock()
	c, ok := s.containers[vmid]
	var node, text string
	if ok {
		node, text = c.Node, c.Text
	}
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("CT %d does not exist", vmid)
	}
	cfg, err := parseCTConfig(text)
	if err != nil {
		return err
	}
	ctx := context.Background()
	_ = s.backendCall(ctx, vmid, func() error {
		if s.isRunning(vmid) {
			_ = s.backend.Stop(ctx, vmid, true)
		}
		return s.backend.Destroy(ctx, vmid)
	})
	for _, vol := range configVolumes(cfg) {
		_ = s.freeVolume(node, vol)
	}
	s.removeCT(vmid)
	return nil
}

// EditConfigOutOfBand rewrites a container's config file behind the API's
// back, as someone editing /etc/pve/lxc/<vmid>.conf on the node would: edit
// gets the file's text and returns the new one. Values are not checked
// (PVE does not check a hand-edited file either); the text must still read
// as a config file of "key: value" lines.
func (s *Server) EditConfigOutOfBand(vmid int, edit func(text string) string) error {
	s.mu.Lock()
	c, ok := s.containers[vmid]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("CT %d does not exist", vmid)
	}
	text := edit(c.Text)
	if _, err := parseCTConfig(text); err != nil {
		s.mu.Unlock()
		return fmt.Errorf("CT %d: the edited config does not read as a config file: %w", vmid, err)
	}
	c.Text = text
	s.mu.Unlock()
	s.persist()
	return nil
}

// WaitTask waits until the task with upid has finished and returns its
// exitstatus ("OK", "WARNINGS: n" or the error text).
func (s *Server) WaitTask(ctx context.Context, upid string) (string, error) {
	s.tasksMu.Lock()
	t, ok := s.tasks[upid]
	s.tasksMu.Unlock()
	if !ok {
		return "", errors.New("no such task")
	}
	select {
	case <-t.done:
		return t.record().ExitStatus, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// TaskLog returns a task's log lines so far.
func (s *Server) TaskLog(upid string) []string {
	s.tasksMu.Lock()
	t, ok := s.tasks[upid]
	s.tasksMu.Unlock()
	if !ok {
		return nil
	}
	return t.record().Lines
}

// HTTPClient is a client that trusts the simulator's CA.
func (s *Server) HTTPClient() *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.tls.caPEM)
	return &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		},
	}
}
