package backend

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"sync"
)

// ExecHook answers Exec for the memory backend: a Go test installs one to
// script what commands "inside" a container print and return.
type ExecHook func(vmid int, argv []string, stdin io.Reader, stdout, stderr io.Writer) (exitCode int, err error)

// Memory is the backend that needs no root and runs nothing: it remembers
// which containers exist and run, derives their addresses from their
// configs, and answers Exec only through a test's hook.
//
// Addresses: a static ip=/ip6= is reported as configured. ip=dhcp gets
// 10.77.<node index>.<n>/24 and ip6=dhcp|auto gets fd77:0:0:<node index>::<n>/64,
// where the node index is the node's position in SetNodes (or the order in
// which nodes were first seen) and n counts up from 10 per node, allocated
// the first time the interface is reported and kept until Destroy.
type Memory struct {
	mu         sync.Mutex
	containers map[int]*memContainer
	nodes      map[string]int
	hook       ExecHook
}

type memContainer struct {
	spec    ContainerSpec
	running bool
	// template is set once the container is a template; linkedTo is the
	// template a linked clone shares its filesystem with (0 for none).
	template bool
	linkedTo int
	leases   map[int]int // netN index → host number of its DHCP lease
	// snapshots are the specs the container had when each snapshot was
	// taken: the memory backend's stand-in for a captured filesystem.
	snapshots map[string]ContainerSpec
}

// NewMemory returns an empty memory backend.
func NewMemory() *Memory {
	return &Memory{
		containers: map[int]*memContainer{},
		nodes:      map[string]int{},
	}
}

// Name implements Backend.
func (m *Memory) Name() string { return "memory" }

// SetNodes fixes the node indexes used in DHCP addresses, in cluster order.
func (m *Memory) SetNodes(names []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, n := range names {
		m.nodes[n] = i
	}
}

// SetExecHook installs (or, with nil, removes) the function that answers Exec.
func (m *Memory) SetExecHook(hook ExecHook) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hook = hook
}

// Running reports whether the backend holds vmid and whether it runs.
func (m *Memory) Running(vmid int) (exists, running bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.containers[vmid]
	if !ok {
		return false, false
	}
	return true, c.running
}

// Spec returns the last spec the API layer gave for vmid.
func (m *Memory) Spec(vmid int) (ContainerSpec, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.containers[vmid]
	if !ok {
		return ContainerSpec{}, false
	}
	return c.spec, true
}

// PrepareImage implements Backend by writing a placeholder image (see
// WritePlaceholderImage).
func (m *Memory) PrepareImage(ctx context.Context, appliance, path string, log func(string)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	size, err := WritePlaceholderImage(path, appliance)
	if err != nil {
		return err
	}
	log(fmt.Sprintf("wrote placeholder image %s (%d bytes)", appliance, size))
	return nil
}

// Create implements Backend.
func (m *Memory) Create(ctx context.Context, spec ContainerSpec, log func(string)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.containers[spec.VMID]; ok {
		return fmt.Errorf("container %d already exists in the memory backend", spec.VMID)
	}
	m.containers[spec.VMID] = &memContainer{spec: spec, leases: map[int]int{}}
	log(fmt.Sprintf("memory backend: container %d created from %s", spec.VMID, spec.ImagePath))
	return nil
}

// Update implements Backend.
func (m *Memory) Update(ctx context.Context, spec ContainerSpec) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.containers[spec.VMID]
	if !ok {
		return fmt.Errorf("container %d does not exist in the memory backend", spec.VMID)
	}
	c.spec = spec
	return nil
}

// Start implements Backend; a template cannot start.
func (m *Memory) Start(ctx context.Context, vmid int) error {
	m.mu.Lock()
	c, ok := m.containers[vmid]
	template := ok && c.template
	m.mu.Unlock()
	if template {
		return errors.New("you can't start a CT if it's a template")
	}
	return m.setRunning(ctx, vmid, true)
}

// Stop implements Backend.
func (m *Memory) Stop(ctx context.Context, vmid int, _ bool) error {
	return m.setRunning(ctx, vmid, false)
}

func (m *Memory) setRunning(ctx context.Context, vmid int, running bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.containers[vmid]
	if !ok {
		return fmt.Errorf("container %d does not exist in the memory backend", vmid)
	}
	c.running = running
	return nil
}

// Destroy implements Backend; a template that linked clones still share
// is refused.
func (m *Memory) Destroy(ctx context.Context, vmid int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if clones := m.linkedClonesLocked(vmid); len(clones) > 0 {
		return fmt.Errorf("unable to destroy CT %d - it is a template that linked clones %v still use", vmid, clones)
	}
	delete(m.containers, vmid)
	return nil
}

// linkedClonesLocked lists the linked clones of vmid, in VMID order.
func (m *Memory) linkedClonesLocked(vmid int) []int {
	var clones []int
	for id, c := range m.containers {
		if c.linkedTo == vmid {
			clones = append(clones, id)
		}
	}
	slices.Sort(clones)
	return clones
}

// Clone implements Backend: a linked clone of a template remembers the
// template it shares its filesystem with.
func (m *Memory) Clone(ctx context.Context, src int, dst ContainerSpec, linked bool, log func(string)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	source, ok := m.containers[src]
	if !ok {
		return fmt.Errorf("source container %d does not exist in the memory backend", src)
	}
	if linked && !source.template {
		return fmt.Errorf("clone CT %d to %d failed - only a template can have linked clones", src, dst.VMID)
	}
	if _, ok := m.containers[dst.VMID]; ok {
		return fmt.Errorf("container %d already exists in the memory backend", dst.VMID)
	}
	c := &memContainer{spec: dst, leases: map[int]int{}}
	kind := "full"
	if linked {
		c.linkedTo, kind = src, "linked"
	}
	m.containers[dst.VMID] = c
	log(fmt.Sprintf("memory backend: container %d is a %s clone of %d", dst.VMID, kind, src))
	return nil
}

// Template implements Backend.
func (m *Memory) Template(ctx context.Context, vmid int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.containers[vmid]
	switch {
	case !ok:
		return fmt.Errorf("container %d does not exist in the memory backend", vmid)
	case c.running:
		return errors.New("you can't convert a CT to template if the CT is running")
	}
	c.template = true
	return nil
}

// TemplateInfo reports whether the backend holds vmid as a template, and the
// template a linked clone shares its filesystem with (0 for none).
func (m *Memory) TemplateInfo(vmid int) (template bool, linkedTo int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.containers[vmid]
	if !ok {
		return false, 0
	}
	return c.template, c.linkedTo
}

// Exec implements Backend: it calls the test's hook, or fails with
// ErrExecUnavailable when none is installed.
func (m *Memory) Exec(ctx context.Context, vmid int, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	if err := ctx.Err(); err != nil {
		return -1, err
	}
	m.mu.Lock()
	hook := m.hook
	c, ok := m.containers[vmid]
	running := ok && c.running
	m.mu.Unlock()
	if !running {
		return -1, fmt.Errorf("container %d is not running", vmid)
	}
	if hook == nil {
		return -1, ErrExecUnavailable
	}
	return hook(vmid, argv, stdin, stdout, stderr)
}

// Interfaces implements Backend.
func (m *Memory) Interfaces(ctx context.Context, vmid int) ([]Interface, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.containers[vmid]
	if !ok || !c.running {
		return nil, fmt.Errorf("container %d is not running", vmid)
	}
	out := []Interface{{Name: "lo", HWAddr: "00:00:00:00:00:00", Addresses: []netip.Prefix{
		netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128"),
	}}}
	node := m.nodeIndexLocked(c.spec.Node)
	for _, n := range c.spec.Networks {
		iface := Interface{Name: n.Name, HWAddr: strings.ToLower(n.HWAddr)}
		switch ip := n.IP; {
		case ip == "dhcp":
			iface.Addresses = append(iface.Addresses, netip.MustParsePrefix(fmt.Sprintf("10.77.%d.%d/24", node, m.leaseLocked(c, n.Index))))
		case validPrefix(ip):
			iface.Addresses = append(iface.Addresses, netip.MustParsePrefix(ip))
		}
		switch ip6 := n.IP6; {
		case ip6 == "dhcp" || ip6 == "auto":
			iface.Addresses = append(iface.Addresses, netip.MustParsePrefix(fmt.Sprintf("fd77:0:0:%x::%x/64", node, m.leaseLocked(c, n.Index))))
		case validPrefix(ip6):
			iface.Addresses = append(iface.Addresses, netip.MustParsePrefix(ip6))
		}
		// Every interface also has its link-local IPv6 address, listed last.
		if ll := LinkLocalIPv6(n.HWAddr); ll.IsValid() {
			iface.Addresses = append(iface.Addresses, ll)
		}
		out = append(out, iface)
	}
	return out, nil
}

func validPrefix(s string) bool {
	_, err := netip.ParsePrefix(s)
	return err == nil
}

func (m *Memory) nodeIndexLocked(node string) int {
	if i, ok := m.nodes[node]; ok {
		return i
	}
	i := len(m.nodes)
	m.nodes[node] = i
	return i
}

func (m *Memory) leaseLocked(c *memContainer, netIndex int) int {
	if h, ok := c.leases[netIndex]; ok {
		return h
	}
	used := map[int]bool{}
	for _, other := range m.containers {
		if other.spec.Node != c.spec.Node {
			continue
		}
		for _, h := range other.leases {
			used[h] = true
		}
	}
	h := 10
	for used[h] && h < 254 {
		h++
	}
	c.leases[netIndex] = h
	return h
}

// Close implements Backend.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.containers = map[int]*memContainer{}
	return nil
}

var _ Backend = (*Memory)(nil)
