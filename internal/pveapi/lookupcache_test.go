package pveapi

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/clocktest"
)

var storagesOfPVE = lookupKey{kind: "storages", node: "pve"}

// countingFetch answers "x" and counts its calls.
func countingFetch(calls *atomic.Int32) func(context.Context) (string, error) {
	return func(context.Context) (string, error) {
		calls.Add(1)
		return "x", nil
	}
}

func TestLookupCache_concurrentCallersShareOneFetch(t *testing.T) {
	c := newLookupCache(time.Now)
	release := make(chan struct{})
	var calls atomic.Int32
	fetch := func(ctx context.Context) (string, error) {
		calls.Add(1)
		select {
		case <-release:
			return "local,local-lvm", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	const callers = 8
	var wg sync.WaitGroup
	var fromCache atomic.Int32
	for range callers {
		wg.Go(func() {
			v, cached, err := cachedLookup(t.Context(), c, storagesOfPVE, fetch)
			if err != nil || v != "local,local-lvm" {
				t.Errorf("cachedLookup = %q, %v", v, err)
			}
			if cached {
				fromCache.Add(1)
			}
		})
	}
	// Let the callers pile up on the first fetch before it answers.
	for calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	if calls.Load() != 1 {
		t.Errorf("%d callers made %d fetches, want 1", callers, calls.Load())
	}
	if fromCache.Load() != callers-1 {
		t.Errorf("%d callers were answered from the cache, want %d (all but the one that fetched)", fromCache.Load(), callers-1)
	}
}

func TestLookupCache_expiresAfterTTL(t *testing.T) {
	clock := clocktest.New(time.Unix(1_700_000_000, 0))
	c := newLookupCache(clock.Now)
	var calls atomic.Int32
	for i, step := range []struct {
		advance   time.Duration
		wantCalls int32
		wantCache bool
	}{
		{0, 1, false},
		{lookupCacheTTL - time.Second, 1, true},
		{time.Second, 2, false},
		{time.Second, 2, true},
	} {
		clock.Advance(step.advance)
		_, cached, err := cachedLookup(t.Context(), c, storagesOfPVE, countingFetch(&calls))
		if err != nil || cached != step.wantCache || calls.Load() != step.wantCalls {
			t.Errorf("step %d: fromCache %v, %d fetches, %v; want %v, %d", i, cached, calls.Load(), err, step.wantCache, step.wantCalls)
		}
	}
}

func TestLookupCache_invalidateDropsOneNode(t *testing.T) {
	c := newLookupCache(time.Now)
	var calls atomic.Int32
	keys := []lookupKey{
		storagesOfPVE,
		{kind: "vztmpl", node: "pve", storage: "local"},
		{kind: "vztmpl", node: "pve", storage: "nfs"},
		{kind: "storages", node: "pve2"},
		{kind: "vztmpl", node: "pve2", storage: "local"},
	}
	for _, k := range keys {
		if _, _, err := cachedLookup(t.Context(), c, k, countingFetch(&calls)); err != nil {
			t.Fatal(err)
		}
	}
	c.invalidate("pve", "local")
	wantCached := map[lookupKey]bool{keys[0]: false, keys[1]: false, keys[2]: true, keys[3]: true, keys[4]: true}
	for k, want := range wantCached {
		if _, cached, _ := cachedLookup(t.Context(), c, k, countingFetch(&calls)); cached != want {
			t.Errorf("after invalidate(pve, local): %v from cache = %v, want %v", k, cached, want)
		}
	}
	c.invalidate("pve2", "")
	for _, k := range keys[3:] {
		if _, cached, _ := cachedLookup(t.Context(), c, k, countingFetch(&calls)); cached {
			t.Errorf("after invalidate(pve2, \"\"): %v still cached", k)
		}
	}
}

func TestLookupCache_errorsAreNotCached(t *testing.T) {
	c := newLookupCache(time.Now)
	boom := errors.New("500 storage status unavailable")
	_, _, err := cachedLookup(t.Context(), c, storagesOfPVE, func(context.Context) (string, error) { return "", boom })
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want %v", err, boom)
	}
	var calls atomic.Int32
	v, cached, err := cachedLookup(t.Context(), c, storagesOfPVE, countingFetch(&calls))
	if err != nil || cached || v != "x" || calls.Load() != 1 {
		t.Errorf("after a failed lookup: %q, fromCache %v, %v, %d fetches; want a fresh fetch", v, cached, err, calls.Load())
	}
}

// A caller waiting on another caller's lookup is not failed by the end of
// that caller's context: it looks up itself.
func TestLookupCache_waiterOutlivesTheFetchersContext(t *testing.T) {
	c := newLookupCache(time.Now)
	fetcherCtx, cancelFetcher := context.WithCancel(t.Context())
	started := make(chan struct{})
	done := make(chan error)
	go func() {
		_, _, err := cachedLookup(fetcherCtx, c, storagesOfPVE, func(ctx context.Context) (string, error) {
			close(started)
			<-ctx.Done()
			return "", ctx.Err()
		})
		done <- err
	}()
	<-started
	var calls atomic.Int32
	waiter := make(chan string)
	go func() {
		v, _, err := cachedLookup(t.Context(), c, storagesOfPVE, countingFetch(&calls))
		if err != nil {
			t.Errorf("the waiter failed: %v", err)
		}
		waiter <- v
	}()
	time.Sleep(20 * time.Millisecond) // the waiter is waiting now
	cancelFetcher()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("the fetcher's error %v, want context.Canceled", err)
	}
	if v := <-waiter; v != "x" || calls.Load() != 1 {
		t.Errorf("the waiter got %q after %d fetches of its own, want x after 1", v, calls.Load())
	}
}
