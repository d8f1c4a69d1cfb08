// Package pveformat owns the textual formats Proxmox VE uses on the wire:
// property strings (net0, rootfs, features…), tag lists, UPIDs, disk sizes,
// lenient booleans, appliance file names (which version a name means;
// appliance.go) and the formats of storage ids, bridge names and mount
// paths (ids.go). The API client, the simulator and the template parser all
// read and write these values through this one implementation.
package pveformat
