// Package clocktest is a clock a test moves forward by hand, for the clock
// seams (a `Now func() time.Time` field) of the API client and the
// simulator, so ticket lifetimes and renewals can be tested without
// waiting. Only _test.go files import it.
package clocktest

import (
	"sync"
	"time"
)

// Clock is a settable clock; it is safe for concurrent use, as the client
// and the simulator read it from their own goroutines.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New is a clock that reads start until it is advanced.
func New(start time.Time) *Clock { return &Clock{now: start} }

// Now is the clock's time; pass the method value as the seam.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
