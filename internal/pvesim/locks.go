package pvesim

import (
	"context"
	"errors"
	"sync"
	"time"
)

// configLocks stands for PVE's flock on /run/lock/lxc/pve-config-<vmid>.lock:
// a per-VMID mutex that read-modify-write sequences hold and that gives up
// after a timeout with PVE's message.
type configLocks struct {
	mu    sync.Mutex
	locks map[int]chan struct{}
}

func newConfigLocks() *configLocks { return &configLocks{locks: map[int]chan struct{}{}} }

// lockTimeoutKey marks a context whose lock attempts fail at once, the
// lock-timeout fault.
type lockTimeoutKey struct{}

func withForcedLockTimeout(ctx context.Context) context.Context {
	return context.WithValue(ctx, lockTimeoutKey{}, true)
}

func forcedLockTimeout(ctx context.Context) bool {
	v, _ := ctx.Value(lockTimeoutKey{}).(bool)
	return v
}

// errLockTimeout is wrapped by lock's timeout error.
var errLockTimeout = errors.New("lock timeout")

// lockError carries PVE's text for a lock that could not be taken.
type lockError struct{ vmid int }

func (e *lockError) Error() string { return lockTimeoutText(e.vmid) }
func (e *lockError) Unwrap() error { return errLockTimeout }

// lock takes vmid's config lock, waiting at most timeout.
func (l *configLocks) lock(ctx context.Context, vmid int, timeout time.Duration) (unlock func(), err error) {
	if forcedLockTimeout(ctx) {
		return nil, &lockError{vmid: vmid}
	}
	l.mu.Lock()
	ch, ok := l.locks[vmid]
	if !ok {
		ch = make(chan struct{}, 1)
		l.locks[vmid] = ch
	}
	l.mu.Unlock()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case ch <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-ch }) }, nil
	case <-timer.C:
		return nil, &lockError{vmid: vmid}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
