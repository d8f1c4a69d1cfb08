package pveformat

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// UPID identifies a Proxmox VE task:
// UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>: (hex numbers,
// trailing colon; id may be empty; user may be a token id).
type UPID struct {
	Node      string
	PID       uint32
	PStart    uint64
	StartTime time.Time
	Type      string
	ID        string
	User      string
	raw       string
}

var upidRE = regexp.MustCompile(`^UPID:([a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s]+):$`)

// ErrInvalidUPID is PVE's text for a string that is not a task id.
var ErrInvalidUPID = errors.New("unable to parse worker upid")

// ParseUPID decodes a task id.
func ParseUPID(s string) (UPID, error) {
	m := upidRE.FindStringSubmatch(s)
	if m == nil {
		return UPID{}, ErrInvalidUPID
	}
	pid, _ := strconv.ParseUint(m[2], 16, 32)
	pstart, _ := strconv.ParseUint(m[3], 16, 64)
	start, _ := strconv.ParseInt(m[4], 16, 64)
	return UPID{
		Node: m[1], PID: uint32(pid), PStart: pstart, StartTime: time.Unix(start, 0).UTC(),
		Type: m[5], ID: m[6], User: m[7], raw: s,
	}, nil
}

// String prints the task id in PVE's form.
func (u UPID) String() string {
	if u.raw != "" {
		return u.raw
	}
	return fmt.Sprintf("UPID:%s:%08X:%08X:%08X:%s:%s:%s:", u.Node, u.PID, u.PStart, u.StartTime.Unix(), u.Type, u.ID, u.User)
}
