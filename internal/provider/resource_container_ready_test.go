package provider

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/pvesimtest"
	"github.com/lxctm/terraform-provider-pve/internal/sshexec"
)

// simSSHConfig is the provider's SSH settings for the simulator's first node.
func simSSHConfig(sim *pvesimtest.Sim) *sshexec.Config {
	n := sim.Nodes()[0]
	return &sshexec.Config{Username: "root", Password: sim.Password(), HostKeys: []string{n.SSHHostKey},
		Nodes: map[string]sshexec.NodeAddress{n.Name: {Address: n.SSHHost, Port: n.SSHPort}}}
}

// Readiness waits out "not running" (a container still starting), fails
// fast with the exit status and stderr on anything else, and gives up
// after its own bound, whatever the create timeout.
func TestWaitReady(t *testing.T) {
	notRunning := func(vmid int, stderr io.Writer) int {
		_, _ = fmt.Fprintf(stderr, "container '%d' not running!\n", vmid)
		return 255
	}
	tests := []struct {
		name      string
		answer    func(call int, vmid int, stderr io.Writer) int
		wait      time.Duration
		wantErr   []string // substrings; none: ready
		wantCalls int32
	}{
		{
			name: "starting, then ready",
			answer: func(call, vmid int, stderr io.Writer) int {
				if call <= 2 {
					return notRunning(vmid, stderr)
				}
				return 0
			},
			wait: time.Minute, wantCalls: 3,
		},
		{
			name: "a failure that does not go away",
			answer: func(_, _ int, stderr io.Writer) int {
				_, _ = fmt.Fprintln(stderr, "lxc-attach: 150: attach.c: lxc_attach: 1096 Failed to get init pid")
				return 1
			},
			wait:      time.Minute,
			wantErr:   []string{"container 150 is not ready to be provisioned", "exited with status 1", "Failed to get init pid"},
			wantCalls: readyOtherTries,
		},
		{
			name:    "never running",
			answer:  func(_, vmid int, stderr io.Writer) int { return notRunning(vmid, stderr) },
			wait:    2 * time.Second,
			wantErr: []string{"container 150 did not become ready within 2s", "not running"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := newSim(t)
			api := simClient(t, sim)
			handMadeContainer(t, api, "local-lvm")
			var calls atomic.Int32
			sim.Memory().SetExecHook(func(vmid int, _ []string, _ io.Reader, _, stderr io.Writer) (int, error) {
				return tt.answer(int(calls.Add(1)), vmid, stderr), nil
			})
			r := &containerResource{data: &providerData{API: api, SSH: simSSHConfig(sim), Timeouts: builtinTimeouts, readyWait: tt.wait}}
			// The create timeout is far longer than the readiness bound.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
			defer cancel()
			err := r.waitReady(ctx, containerRef{node: "pve", vmid: handMadeVMID})
			if len(tt.wantErr) == 0 && err != nil {
				t.Fatalf("waitReady: %v", err)
			}
			for _, want := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("waitReady error %v, want it to contain %q", err, want)
				}
			}
			if tt.wantCalls != 0 && calls.Load() != tt.wantCalls {
				t.Errorf("pct exec ran %d times, want %d", calls.Load(), tt.wantCalls)
			}
		})
	}
}
