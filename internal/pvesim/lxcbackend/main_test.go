package lxcbackend_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend"
	"github.com/lxctm/terraform-provider-pve/internal/pvesim/lxcbackend/lxctest"
)

// Environment of the crashing helper process TestCleanupStaleAfterCrash
// starts: the state directory and the OS image to use.
const (
	crashStateDirEnv = "LXCBACKEND_TEST_CRASH_STATE_DIR"
	crashImageEnv    = "LXCBACKEND_TEST_CRASH_IMAGE"
	crashExitCode    = 3
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashStateDirEnv); dir != "" {
		os.Exit(startAndCrash(dir, os.Getenv(crashImageEnv)))
	}
	os.Exit(m.Run())
}

// startAndCrash plays a simulator that dies without cleaning up: it sets up
// a backend with egress, starts a container and exits without Close.
func startAndCrash(stateDir, image string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := lxcbackend.New(lxcbackend.Config{StateDir: stateDir, Egress: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	spec := lxctest.Spec(401, image, "dhcp", true)
	if err := b.Create(ctx, spec, func(string) {}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := b.Start(ctx, spec.VMID); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("started")
	return crashExitCode
}
