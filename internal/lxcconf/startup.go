package lxcconf

import (
	"strconv"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// Startup is the boot order and delays (the startup key).
type Startup struct {
	Order, Up, Down int64 // -1 = unset
}

// NoStartup is a container without a startup key.
var NoStartup = Startup{Order: -1, Up: -1, Down: -1}

// Set reports whether any part of the startup key is set.
func (s Startup) Set() bool { return s != NoStartup && s != (Startup{}) }

func (s Startup) property() pveformat.PropertyString {
	var ps pveformat.PropertyString
	for _, part := range s.parts() {
		if *part.value >= 0 {
			ps.Set(part.key, strconv.FormatInt(*part.value, 10))
		}
	}
	return ps
}

func (s *Startup) parts() []struct {
	key   string
	value *int64
} {
	return []struct {
		key   string
		value *int64
	}{{"order", &s.Order}, {"up", &s.Up}, {"down", &s.Down}}
}

func parseStartup(ps pveformat.PropertyString) (Startup, error) {
	s := NoStartup
	for _, part := range s.parts() {
		if v := ps.Value(part.key); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return s, err
			}
			*part.value = n
		}
	}
	return s, nil
}
