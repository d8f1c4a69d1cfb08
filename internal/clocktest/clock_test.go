package clocktest

import (
	"testing"
	"time"
)

func TestAdvanceMovesNowForward(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := New(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now() = %s, want the start %s", got, start)
	}
	c.Advance(90 * time.Minute)
	c.Advance(31 * time.Minute)
	if got, want := c.Now(), start.Add(121*time.Minute); !got.Equal(want) {
		t.Fatalf("after advancing 121 min, Now() = %s, want %s", got, want)
	}
}
