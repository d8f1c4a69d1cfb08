package provider

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
)

// crashableSim is a simulator with a state directory and fixed ports that a
// test crashes and starts again, as Proxmox VE restarting under the
// provider: crash keeps the state file as it was at that instant (what
// kill -9 leaves), so the tasks that were running end with "unexpected
// status" after the restart and the create locks they held stay.
type crashableSim struct {
	t    *testing.T
	base []pvesimtest.Option
	mu   sync.Mutex
	sim  *pvesim.Server
}

// newCrashableSim starts the simulator; crashOnly options (faults) apply
// only until the first crash.
func newCrashableSim(t *testing.T, crashOnly []pvesimtest.Option, opts ...pvesimtest.Option) *crashableSim {
	t.Helper()
	dir := t.TempDir()
	api, ssh := freeLocalAddr(t), freeLocalAddr(t)
	base := append([]pvesimtest.Option{
		pvesimtest.WithStateDir(dir),
		func(c *pvesim.Config) { c.Listen, c.SSHListen = api, ssh },
	}, opts...)
	s := &crashableSim{t: t, base: base}
	s.sim = s.start(append(append([]pvesimtest.Option{}, base...), crashOnly...))
	t.Cleanup(func() { _ = s.current().Close() })
	return s
}

func (s *crashableSim) start(opts []pvesimtest.Option) *pvesim.Server {
	cfg := pvesim.Config{Logf: s.t.Logf}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := pvesim.Start(context.Background(), cfg)
	if err != nil {
		s.t.Errorf("pvesim: %v", err)
		return nil
	}
	return srv
}

// current is the simulator running now.
func (s *crashableSim) current() *pvesim.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sim
}

// stateFile is the simulator's saved state.
func (s *crashableSim) stateFile() string {
	cfg := pvesim.Config{}
	for _, o := range s.base {
		o(&cfg)
	}
	return filepath.Join(cfg.StateDir, "state.json")
}

// crashWhen waits in the background until the saved state contains marker,
// then crashes and restarts the simulator. done is closed afterwards.
func (s *crashableSim) crashWhen(marker string) (done <-chan struct{}) {
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
			data, _ := os.ReadFile(s.stateFile())
			if bytes.Contains(data, []byte(marker)) {
				s.crashAndRestart(data)
				return
			}
			if time.Now().After(deadline) {
				s.t.Errorf("the simulator's state never showed %q", marker)
				return
			}
		}
	}()
	return ch
}

// crashAndRestart stops the simulator, puts back the state as it was
// (data), and starts it again on the same ports without crash-only options.
func (s *crashableSim) crashAndRestart(data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.sim.Close()
	if err := os.WriteFile(s.stateFile(), data, 0o600); err != nil {
		s.t.Errorf("restoring the state: %v", err)
		return
	}
	s.sim = s.start(s.base)
}

// checkStateMatches is checkStateMatchesSim on the simulator running at
// check time.
func (s *crashableSim) checkStateMatches(want int) resource.TestCheckFunc {
	return func(st *terraform.State) error {
		return checkStateMatchesSim(&pvesimtest.Sim{Server: s.current()}, want)(st)
	}
}

// freeLocalAddr is a 127.0.0.1 address with a port free right now.
func freeLocalAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}
