package lxcbackend

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// lockPollInterval is how often a waiting builder retries a busy lock.
const lockPollInterval = 100 * time.Millisecond

// errLockBusy says another process holds a lock file.
var errLockBusy = errors.New("lock is held by another process")

// tryLockFile takes an exclusive flock on path without waiting. The lock
// lives as long as the returned file stays open, and dies with the process,
// so a crashed holder never leaves it behind.
func tryLockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock file: %w", err)
	}
	if err := flockExclusive(f); err != nil {
		_ = f.Close()
		if errors.Is(err, errLockBusy) {
			return nil, err
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return f, nil
}

// lockFile waits until it holds the exclusive flock on path or ctx ends;
// release gives it up. It serialises builders across processes.
func lockFile(ctx context.Context, path string) (release func(), err error) {
	for {
		f, err := tryLockFile(path)
		if err == nil {
			return func() { _ = f.Close() }, nil
		}
		if !errors.Is(err, errLockBusy) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %s: %w", path, ctx.Err())
		case <-time.After(lockPollInterval):
		}
	}
}
