package pvesim

import (
	"fmt"
	"math"
	"strconv"
)

// Volume sizes the way PVE computes them, and PVE's answer to a size no
// volume can have. PVE's schema accepts any number of GiB for a new volume
// ("local-lvm:9223372036854775807") and any disk-size text: the checks are
// syntactic. Perl does not overflow either; the number silently becomes a
// float ("9.67140655691703e+24"), which reaches the storage tool as its
// size argument and is refused there, inside the task. So the simulator
// refuses such a size where PVE does (the create, resize or hot-plug
// fails, nothing is stored) and never turns it into a wrapped, negative
// byte count such as "size=-8388608T".

// volumeLimitBytes is 8 EiB (2^63 bytes): no volume reaches it, and no
// byte count of the simulator can hold it.
const volumeLimitBytes = float64(math.MaxInt64) // == 2^63 as a float64

// lvmSizeTooBigBytes is where lvm2's size parser gives up (16 EiB).
const lvmSizeTooBigBytes = 2 * volumeLimitBytes

// newDiskKiB is create_disks' size for a new "STORAGE:SIZE" volume, SIZE
// in GiB (decimals allowed): int(SIZE * 1024) * 1024 KiB.
func newDiskKiB(gib string) float64 {
	f, _ := strconv.ParseFloat(gib, 64) // newDiskRE has checked the syntax
	return math.Trunc(f*1024) * 1024
}

// perlNumber prints a float the way Perl stringifies it (%.15g), which is
// how an oversized size reaches lvcreate or qemu-img.
func perlNumber(f float64) string { return strconv.FormatFloat(f, 'g', 15, 64) }

// allocNewDisk allocates a new volume of gib GiB (the SIZE of
// "STORAGE:SIZE") and returns it with its size in bytes. A size of 8 EiB or
// more fails like the storage tool PVE runs: the lines it prints go to the
// task log (t may be nil for synchronous requests), the error is what
// PVE's run_command makes of its last line.
func (s *Server) allocNewDisk(t taskLog, node, storage string, vmid int, gib string) (*volume, int64, error) {
	kib := newDiskKiB(gib)
	if kib*1024 >= volumeLimitBytes {
		sc, ok := s.storage(storage)
		if !ok {
			return nil, 0, fmt.Errorf("storage '%s' does not exist", storage)
		}
		return nil, 0, oversizedAlloc(t, sc, s.freeDiskName(node, storage, vmid), kib)
	}
	size := int64(kib) * 1024
	v, err := s.allocDisk(node, storage, vmid, size)
	return v, size, err
}

// volumeSize is the size of an existing volume on node.
func (s *Server) volumeSize(node, volid string) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.volumeLocked(node, volid)
	if !ok {
		return 0, false
	}
	return v.Size, true
}

// The refusals below are PVE's texts verbatim (they end with a period), so
// they are built with errf like other PVE messages.

// oversizedAlloc is the refusal of vdisk_alloc for a size of 8 EiB or
// more: lvcreate cannot parse "-V <float>k" (LVM, LVM-thin); qemu-img
// refuses a size beyond 2^63-1 bytes (directory storages).
func oversizedAlloc(t taskLog, sc StorageConfig, diskName string, kib float64) error {
	arg := perlNumber(kib) + "k"
	switch sc.Type {
	case "lvmthin", "lvm":
		lvmArgumentError(t, "--virtualsize", arg, kib)
		return errf("lvcreate 'pve/%s' error:   Error during parsing of command line.", diskName)
	default:
		return errf("unable to create image: qemu-img: Invalid image size specified. Must be between 0 and %d.", int64(math.MaxInt64))
	}
}

// oversizedResize is volume_resize's refusal of a new size of 8 EiB or
// more (lvextend -L <float>k; qemu-img resize on directory storages).
func oversizedResize(t taskLog, sc StorageConfig, volname string, bytes float64) error {
	kib := bytes / 1024
	switch sc.Type {
	case "lvmthin", "lvm":
		lvmArgumentError(t, "--size", perlNumber(kib)+"k", kib)
		return errf("error resizing volume '/dev/pve/%s': Error during parsing of command line.", volname)
	default:
		return errf("qemu-img: Invalid image size specified. Must be between 0 and %d.", int64(math.MaxInt64))
	}
}

// lvmArgumentError logs what lvm2 prints before "Error during parsing of
// command line." for a size argument it cannot take.
func lvmArgumentError(t taskLog, option, arg string, kib float64) {
	if t == nil {
		return
	}
	if kib*1024 >= lvmSizeTooBigBytes {
		t.log("  Size is too big (>=16EiB).")
	}
	t.log("  Invalid argument for %s: %s", option, arg)
}
