package sshexec

import (
	"bytes"
	"testing"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/sshnode/sshnodetest"
)

// BenchmarkRun measures one round trip — session, exec, pct exec in the
// simulated node, exit status — over a reused connection.
func BenchmarkRun(b *testing.B) {
	n := startNode(b, sshnodetest.WithoutLog())
	c := newClient(b, n.config())
	cmd := Command{Argv: PctExec(testVMID, sshnodetest.ArgvRecord)}
	mustRun(b, c, cmd) // connect outside the measurement
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Run(b.Context(), testNodeName, cmd); err != nil {
			b.Fatal(err)
		}
	}
	if got := n.Accepted(); got != 1 {
		b.Errorf("%d connections, want 1", got)
	}
}

// BenchmarkRunParallel is BenchmarkRun from several goroutines sharing the
// connection.
func BenchmarkRunParallel(b *testing.B) {
	n := startNode(b, sshnodetest.WithoutLog())
	c := newClient(b, n.config())
	cmd := Command{Argv: PctExec(testVMID, sshnodetest.ArgvRecord)}
	mustRun(b, c, cmd)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Run(b.Context(), testNodeName, cmd); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRunStdin8MiB streams 8 MiB of stdin to a command, the size of a
// large provisioning payload.
func BenchmarkRunStdin8MiB(b *testing.B) {
	n := startNode(b, sshnodetest.WithoutLog())
	c := newClient(b, n.config())
	payload := bytes.Repeat([]byte("0123456789abcdef"), 8<<20/16)
	mustRun(b, c, Command{Argv: PctExec(testVMID, sshnodetest.ArgvRecord)})
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		res, err := c.Run(b.Context(), testNodeName, Command{Argv: PctExec(testVMID, sshnodetest.ArgvDrain), Stdin: bytes.NewReader(payload)})
		if err != nil {
			b.Fatal(err)
		}
		if string(res.Stdout) != "8388608\n" {
			b.Fatalf("the command read %q bytes", res.Stdout)
		}
	}
}
