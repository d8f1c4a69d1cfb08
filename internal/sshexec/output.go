package sshexec

import (
	"bytes"
	"io"
	"sync"
)

// defaultOutputLimit is how much of each of stdout and stderr a Result
// keeps (the end of it); line callbacks still see everything.
const defaultOutputLimit = 4 << 20

// maxLineBytes bounds one line handed to a callback; a longer line is
// delivered in pieces of this size, so a command writing megabytes
// without a newline cannot grow memory without bound.
const maxLineBytes = 64 << 10

// capture collects one output stream of a command: the last limit bytes
// for the Result, and complete lines for an optional callback.
type capture struct {
	limit  int
	onLine func(string)
	gate   *callbackGate

	mu   sync.Mutex
	tail []byte

	line []byte // the current unfinished line (reader goroutine only)
}

// callbackGate serialises the stdout and stderr callbacks of one Run, so
// callers need no locking of their own, and shuts them off when Run
// returns, so no callback runs after it.
type callbackGate struct {
	mu     sync.Mutex
	closed bool
}

// close waits for a callback under way and lets no other start.
func (g *callbackGate) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

func newCapture(limit int, onLine func(string), gate *callbackGate) *capture {
	return &capture{limit: limit, onLine: onLine, gate: gate}
}

// readFrom consumes r until it ends, then delivers a last line that had no
// newline.
func (c *capture) readFrom(r io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			c.write(buf[:n])
		}
		if err != nil {
			break
		}
	}
	if len(c.line) > 0 {
		c.emit(c.line)
		c.line = nil
	}
}

func (c *capture) write(p []byte) {
	c.mu.Lock()
	c.tail = append(c.tail, p...)
	// Trim only when twice the limit is reached, so keeping the tail
	// costs amortised constant time per byte.
	if len(c.tail) > 2*c.limit {
		c.tail = append(c.tail[:0], c.tail[len(c.tail)-c.limit:]...)
	}
	c.mu.Unlock()

	if c.onLine == nil {
		return
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			c.line = append(c.line, p...)
			for len(c.line) > maxLineBytes {
				c.emit(c.line[:maxLineBytes])
				c.line = append(c.line[:0], c.line[maxLineBytes:]...)
			}
			return
		}
		if len(c.line) > 0 {
			c.line = append(c.line, p[:i]...)
			c.emit(c.line)
			c.line = c.line[:0]
		} else {
			c.emit(p[:i])
		}
		p = p[i+1:]
	}
}

// emit hands one line, without its newline (and a carriage return before
// it), to the callback.
func (c *capture) emit(line []byte) {
	line = bytes.TrimSuffix(line, []byte("\r"))
	c.gate.mu.Lock()
	defer c.gate.mu.Unlock()
	if !c.gate.closed {
		c.onLine(string(line))
	}
}

// bytes returns a copy of the kept tail of the stream.
func (c *capture) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tail
	if len(t) > c.limit {
		t = t[len(t)-c.limit:]
	}
	return bytes.Clone(t)
}
