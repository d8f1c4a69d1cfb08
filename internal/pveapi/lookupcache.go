package pveapi

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// lookupCacheTTL bounds how old a shared lookup may be. It spans the
// creates of a typical apply, so they share one lookup per node, while an
// image deleted by someone else during a long apply is noticed again soon.
const lookupCacheTTL = time.Minute

// lookupCache keeps the answers of the read-only lookups every create of
// one apply repeats: a node's storage list and the OS images on its
// storages. Without it, N containers cost N of each; with it, one per node.
// Concurrent callers of the same lookup share one request.
//
// Staleness is bounded three ways: entries expire after lookupCacheTTL; the
// client drops a node's entries when it changes what they describe (an
// image download, a deleted volume); and FindOSImage asks again before it
// reports an image missing from a cached answer, so an image someone else
// downloaded is found at once. A Client lives for one terraform command, so
// the next plan always looks afresh.
type lookupCache struct {
	mu      sync.Mutex
	now     func() time.Time
	entries map[lookupKey]*lookupEntry
}

// lookupKey names one lookup: kind "storages" (a node's storage list) or
// "vztmpl" (the OS images on one storage of a node).
type lookupKey struct {
	kind, node, storage string
}

type lookupEntry struct {
	done    chan struct{} // closed once the fields below are set
	ready   bool          // set under lookupCache.mu together with fetched
	fetched time.Time
	value   any
	err     error
}

func newLookupCache(now func() time.Time) *lookupCache {
	return &lookupCache{now: now, entries: map[lookupKey]*lookupEntry{}}
}

// cachedLookup returns the answer to the lookup key, fetching it unless a
// fresh one is cached or another caller is fetching it already. fromCache
// tells whether the answer was fetched before this call. Errors are not
// cached. Callers must not modify the returned value: it is shared.
func cachedLookup[T any](ctx context.Context, c *lookupCache, key lookupKey, fetch func(context.Context) (T, error)) (value T, fromCache bool, err error) {
	for {
		c.mu.Lock()
		e, ok := c.entries[key]
		if !ok || (e.ready && c.now().Sub(e.fetched) >= lookupCacheTTL) {
			e = &lookupEntry{done: make(chan struct{})}
			c.entries[key] = e
			c.mu.Unlock()
			return fillLookup(ctx, c, key, e, fetch)
		}
		c.mu.Unlock()

		select {
		case <-e.done:
		case <-ctx.Done():
			return value, false, ctx.Err()
		}
		if e.err == nil {
			v, ok := e.value.(T)
			if !ok {
				return value, false, fmt.Errorf("lookup %v holds a %T, not a %T", key, e.value, value)
			}
			return v, true, nil
		}
		// Another caller's fetch failed. When only its context ended, the
		// lookup is tried again; any other error is this caller's too.
		if !errors.Is(e.err, context.Canceled) && !errors.Is(e.err, context.DeadlineExceeded) {
			return value, false, e.err
		}
	}
}

// fillLookup runs fetch for the entry e just registered under key and
// publishes the result; a failed fetch leaves no entry behind.
func fillLookup[T any](ctx context.Context, c *lookupCache, key lookupKey, e *lookupEntry, fetch func(context.Context) (T, error)) (T, bool, error) {
	v, err := fetch(ctx)
	c.mu.Lock()
	e.value, e.err, e.fetched, e.ready = v, err, c.now(), true
	if err != nil && c.entries[key] == e {
		delete(c.entries, key)
	}
	c.mu.Unlock()
	close(e.done)
	return v, false, err
}

// invalidate forgets the lookups of node: all of them when storage is
// empty, else its storage list and that storage's images. A fetch already
// under way still answers its callers.
func (c *lookupCache) invalidate(node, storage string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.entries {
		if k.node == node && (storage == "" || k.storage == "" || k.storage == storage) {
			delete(c.entries, k)
		}
	}
}
