package pvesim

import (
	"encoding/json"
	"io"
	"sync"
	"time"
)

// FaultSeparator separates the faults of one RequestRecord.
const FaultSeparator = "; "

// RequestRecord is one API request as the simulator saw it. Secrets are
// never recorded: password-like parameters are masked and credentials
// (tickets, CSRF tokens, token secrets) travel in headers that are not kept.
type RequestRecord struct {
	Time   time.Time      `json:"time"`
	Method string         `json:"method"`
	Path   string         `json:"path"`             // as requested, /api2/json prefix included
	Params map[string]any `json:"params,omitempty"` // query and body merged, secrets masked
	// Auth is who made the request: "root@pam" or a token id; empty when
	// unauthenticated.
	Auth   string `json:"auth,omitempty"`
	Status int    `json:"status"` // 0 when the connection was dropped
	// Message is the first line of an error answer.
	Message string `json:"message,omitempty"`
	// Fault lists the injected faults that shaped the answer, each in
	// --fault syntax (ParseFault reads it back), separated by FaultSeparator.
	Fault    string        `json:"fault,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// maskedValue replaces secrets in the request log.
const maskedValue = "********"

// secretParams are parameters whose values never reach the request log.
var secretParams = map[string]bool{"password": true, "otp": true, "tfa-challenge": true, "vncticket": true}

func maskParams(params map[string]any) map[string]any {
	if len(params) == 0 {
		return nil
	}
	out := make(map[string]any, len(params))
	for k, v := range params {
		if secretParams[k] {
			out[k] = maskedValue
			continue
		}
		out[k] = v
	}
	return out
}

// requestLog keeps every record in memory and optionally appends JSON lines.
type requestLog struct {
	mu      sync.Mutex
	records []RequestRecord
	sink    io.Writer
}

func (l *requestLog) add(r RequestRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, r)
	if l.sink != nil {
		line, err := json.Marshal(r)
		if err == nil {
			_, _ = l.sink.Write(append(line, '\n'))
		}
	}
}

func (l *requestLog) list() []RequestRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]RequestRecord(nil), l.records...)
}

func (l *requestLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = nil
}
