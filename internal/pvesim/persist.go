package pvesim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// stateFileName is the simulator's cluster state inside --state-dir:
// container configs (as PVE config text), runtime status, volumes and tasks.
const stateFileName = "state.json"

// stateVersion is bumped when the state file changes incompatibly.
const stateVersion = 1

type persistedState struct {
	Version    int           `json:"version"`
	Containers []persistedCT `json:"containers"`
	Volumes    []*volume     `json:"volumes"`
	Tasks      []taskRecord  `json:"tasks"`
	NextPID    uint32        `json:"next_pid"`
}

type persistedCT struct {
	VMID    int    `json:"vmid"`
	Node    string `json:"node"`
	Config  string `json:"config"` // the config file text
	Running bool   `json:"running"`
}

// maxPersistedTasks bounds the task history kept across restarts.
const maxPersistedTasks = 1000

// writeFileAtomic replaces path with data so that a crash at any moment
// leaves either the old or the new content: temp file in the same
// directory, fsync, rename, fsync of the directory.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			_ = os.Remove(name)
		}
	}()
	if err := tmp.Chmod(perm); err != nil {
		_ = tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(name, path); err != nil {
		return err
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// persist writes the whole state to the state directory (no-op without
// one). Writers are serialised, so the file always holds the newest snapshot.
func (s *Server) persist() {
	if s.cfg.StateDir == "" {
		return
	}
	s.persistMu.Lock()
	defer s.persistMu.Unlock()
	data, err := json.MarshalIndent(s.snapshot(), "", " ")
	if err != nil {
		s.logf("pvesim: encoding state: %v", err)
		return
	}
	if err := s.writeState(filepath.Join(s.cfg.StateDir, stateFileName), data, 0o600); err != nil {
		s.logf("pvesim: writing state: %v", err)
	}
}

func (s *Server) snapshot() persistedState {
	st := persistedState{Version: stateVersion}
	s.mu.Lock()
	for _, vmid := range sortedInts(s.containers) {
		c := s.containers[vmid]
		st.Containers = append(st.Containers, persistedCT{VMID: vmid, Node: c.Node, Config: c.Text, Running: c.Running})
	}
	for _, k := range sortedKeys(s.volumes) {
		v := *s.volumes[k]
		st.Volumes = append(st.Volumes, &v)
	}
	s.mu.Unlock()
	s.tasksMu.Lock()
	order := s.taskOrder
	if len(order) > maxPersistedTasks {
		order = order[len(order)-maxPersistedTasks:]
	}
	st.NextPID = s.nextPID
	s.tasksMu.Unlock()
	for _, t := range order {
		st.Tasks = append(st.Tasks, t.record())
	}
	return st
}

// loadState restores what persist wrote. A missing file is an empty
// cluster; leftover temp files of an interrupted write are ignored.
func (s *Server) loadState() error {
	if s.cfg.StateDir == "" {
		return nil
	}
	path := filepath.Join(s.cfg.StateDir, stateFileName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var st persistedState
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if st.Version != stateVersion {
		return fmt.Errorf("%s: state version %d, this simulator reads version %d", path, st.Version, stateVersion)
	}
	now := s.now()
	s.mu.Lock()
	for _, c := range st.Containers {
		if _, err := parseCTConfig(c.Config); err != nil {
			s.mu.Unlock()
			return fmt.Errorf("%s: container %d: %w", path, c.VMID, err)
		}
		if !s.isNode(c.Node) {
			s.logf("pvesim: state: container %d lives on unknown node %q; dropped", c.VMID, c.Node)
			continue
		}
		s.containers[c.VMID] = &container{VMID: c.VMID, Node: c.Node, Text: c.Config, Running: c.Running, StartedAt: now}
	}
	for _, v := range st.Volumes {
		if s.isNode(v.Node) {
			s.volumes[volumeKey(v.Node, v.VolID)] = v
		}
	}
	s.mu.Unlock()
	s.tasksMu.Lock()
	defer s.tasksMu.Unlock()
	for _, r := range st.Tasks {
		t, err := restoreTask(r, now)
		if err != nil {
			s.logf("pvesim: state: task %q: %v; dropped", r.UPID, err)
			continue
		}
		s.tasks[t.upid] = t
		s.taskOrder = append(s.taskOrder, t)
	}
	if st.NextPID > s.nextPID {
		s.nextPID = st.NextPID
	}
	return nil
}

func sortedInts[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}
