package pveapi

import "context"

// semaphore bounds concurrent holders and, unlike sync.Mutex, gives up when
// the caller's context ends. With capacity 1 it is a context-aware mutex
// (ticket refresh, VMID allocation); with capacity N it caps in-flight HTTP
// requests (MaxParallelRequests).
type semaphore chan struct{}

func newSemaphore(capacity int) semaphore { return make(semaphore, capacity) }

// acquire waits for a slot or for ctx to end.
func (s semaphore) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case s <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release frees a slot taken by acquire.
func (s semaphore) release() { <-s }
