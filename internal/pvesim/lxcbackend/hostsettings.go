package lxcbackend

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Host settings the backend changes and the registry restores.
const (
	ipForwardPath = "/proc/sys/net/ipv4/ip_forward"
	subUIDPath    = "/etc/subuid"
	subGIDPath    = "/etc/subgid"
)

// subIDEntry is the line Proxmox VE hosts carry so root may map the
// unprivileged id range.
var subIDEntry = fmt.Sprintf("root:%d:%d", unprivilegedIDBase, idMapSize)

// enableForwarding turns on IPv4 forwarding for NAT egress, remembering the
// original value for the last simulator to restore.
func (r hostRegistry) enableForwarding() error {
	return r.locked(func() error {
		current, err := os.ReadFile(ipForwardPath)
		if err != nil {
			return fmt.Errorf("reading ip_forward: %w", err)
		}
		if err := r.rememberOriginal("ip_forward", strings.TrimSpace(string(current))); err != nil {
			return fmt.Errorf("host registry: %w", err)
		}
		if err := os.WriteFile(ipForwardPath, []byte("1\n"), 0o600); err != nil {
			return fmt.Errorf("enabling ip_forward: %w", err)
		}
		return nil
	})
}

// ensureSubIDs gives root the unprivileged id range in /etc/subuid and
// /etc/subgid (newuidmap, when installed, refuses mappings without it),
// remembering what it added.
func (r hostRegistry) ensureSubIDs() error {
	return r.locked(func() error {
		for _, file := range []string{subUIDPath, subGIDPath} {
			covered, err := subIDCovered(file)
			if err != nil {
				return err
			}
			if covered {
				continue
			}
			if err := r.rememberOriginal(filepath.Base(file), "added "+subIDEntry); err != nil {
				return fmt.Errorf("host registry: %w", err)
			}
			if err := editLines(file, func(lines []string) []string { return append(lines, subIDEntry) }); err != nil {
				return err
			}
		}
		return nil
	})
}

// restoreIfLast undoes the host settings simulators changed when no
// simulator but self is alive, and drops self from the list.
func (r hostRegistry) restoreIfLast(self string) error {
	return r.locked(func() error {
		if err := r.unregister(self); err != nil {
			return fmt.Errorf("host registry: %w", err)
		}
		alive, err := r.othersAlive(self)
		if err != nil || alive {
			return err
		}
		if value, ok, err := r.takeOriginal("ip_forward"); err != nil {
			return fmt.Errorf("host registry: %w", err)
		} else if ok {
			if err := os.WriteFile(ipForwardPath, []byte(value+"\n"), 0o600); err != nil {
				return fmt.Errorf("restoring ip_forward: %w", err)
			}
		}
		for _, file := range []string{subUIDPath, subGIDPath} {
			_, ok, err := r.takeOriginal(filepath.Base(file))
			if err != nil {
				return fmt.Errorf("host registry: %w", err)
			}
			if !ok {
				continue
			}
			removed := false
			if err := editLines(file, func(lines []string) []string {
				kept := lines[:0]
				for _, line := range lines {
					if !removed && strings.TrimSpace(line) == subIDEntry {
						removed = true
						continue
					}
					kept = append(kept, line)
				}
				return kept
			}); err != nil {
				return err
			}
		}
		return nil
	})
}

// subIDCovered reports whether a sub-id file already gives root the
// unprivileged range.
func subIDCovered(file string) (bool, error) {
	f, err := os.Open(file)
	if os.IsNotExist(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer func() { _ = f.Close() }()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		parts := strings.Split(strings.TrimSpace(scanner.Text()), ":")
		if len(parts) != 3 || (parts[0] != "root" && parts[0] != "0") {
			continue
		}
		start, err1 := strconv.Atoi(parts[1])
		count, err2 := strconv.Atoi(parts[2])
		if err1 == nil && err2 == nil && start <= unprivilegedIDBase && start+count >= unprivilegedIDBase+idMapSize {
			return true, nil
		}
	}
	return false, scanner.Err()
}

// editLines rewrites a text file through edit, atomically and keeping its
// mode; a missing file starts empty.
func editLines(file string, edit func([]string) []string) error {
	mode := os.FileMode(0o644)
	var lines []string
	data, err := os.ReadFile(file)
	switch {
	case err == nil:
		if info, err := os.Stat(file); err == nil {
			mode = info.Mode().Perm()
		}
		text := strings.TrimSuffix(string(data), "\n")
		if text != "" {
			lines = strings.Split(text, "\n")
		}
	case !os.IsNotExist(err):
		return err
	}
	lines = edit(lines)
	out := ""
	if len(lines) > 0 {
		out = strings.Join(lines, "\n") + "\n"
	}
	return writeFileAtomic(file, []byte(out), mode)
}
