package pvesim

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// handleResize is PUT /nodes/{node}/lxc/{vmid}/resize: grow a volume,
// absolutely or by "+SIZE" (a bare number is bytes), in a "resize" task.
func (s *Server) handleResize(q *request) (any, error) {
	node, vmid := q.node(), q.vmid()
	disk := q.str("disk")
	sizeText := q.str("size")
	unlock, aerr := s.lockCT(q.ctx, vmid, s.cfg.LockTimeout)
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	st, aerr := s.loadCT(node, vmid)
	if aerr != nil {
		return nil, aerr
	}
	if l := st.Config.lock(); l != "" {
		return nil, ctLockedErr(l)
	}
	if q.has("digest") && q.str("digest") != st.Digest {
		return nil, errf("detected modified configuration - file changed by other user? Try again.")
	}
	value, ok := st.Config.Values[disk]
	if !ok {
		return nil, errf("format error\nvolume: property is missing and it is not optional")
	}
	ps, err := parseMountPoint(disk, value)
	if err != nil {
		return nil, errf("%v", err)
	}
	volid := ps.Value("volume")
	if mountPointType(volid) != "volume" {
		return nil, errf("unable to resize mount point type %s", mountPointType(volid))
	}
	s.mu.Lock()
	v, ok := s.volumeLocked(node, volid)
	var current int64
	owner, storage := 0, ""
	if ok {
		current, owner, storage = v.Size, v.VMID, v.Storage
	}
	s.mu.Unlock()
	if !ok {
		return nil, errf("Could not determine current size of volume '%s'", volid)
	}
	if owner != vmid {
		return nil, errf("can't resize mount point owned by another container (%d)", owner)
	}
	requested, err := requestedSize(sizeText, current)
	if err != nil {
		return nil, paramErr1("size", "unable to parse size")
	}
	if requested < float64(current) {
		return nil, errf("unable to shrink disk size")
	}
	if requested == float64(current) {
		return nil, errf("disk is already at specified size")
	}
	if requested >= volumeLimitBytes {
		// PVE takes the size (Perl makes it a float) and its storage tool
		// refuses it inside the task; nothing changes.
		sc, _ := s.storage(storage)
		_, volname, _ := parseVolumeID(volid)
		t := s.startTask(node, "resize", strconv.Itoa(vmid), q.who, vmid, q.lockFail, func(ctx context.Context, t *task) error {
			if err := s.taskWork(ctx, t, s.cfg.taskDuration("resize")); err != nil {
				return err
			}
			return oversizedResize(t, sc, volname, requested)
		})
		return t.upid, nil
	}
	newSize := int64(requested)
	t := s.startTask(node, "resize", strconv.Itoa(vmid), q.who, vmid, q.lockFail, func(ctx context.Context, t *task) error {
		return s.resizeWorker(ctx, t, node, vmid, disk, volid, current, newSize)
	})
	return t.upid, nil
}

// requestedSize is resize's new size in bytes: absolute, or "+SIZE" added to
// current; a bare number is bytes. It is a float like PVE's arithmetic, so
// an enormous size stays enormous instead of wrapping around.
func requestedSize(text string, current int64) (float64, error) {
	relative := strings.HasPrefix(text, "+")
	text = strings.TrimPrefix(text, "+")
	number, unit := text, int64(1)
	for suffix, mult := range map[string]int64{"K": pveformat.KiB, "M": pveformat.MiB, "G": pveformat.GiB, "T": pveformat.TiB} {
		if n, ok := strings.CutSuffix(text, suffix); ok {
			number, unit = n, mult
		}
	}
	f, err := strconv.ParseFloat(number, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("unable to parse size %q", text)
	}
	size := math.Trunc(f * float64(unit))
	if relative {
		size += float64(current)
	}
	return size, nil
}

func (s *Server) resizeWorker(ctx context.Context, t *task, node string, vmid int, disk, volid string, from, to int64) error {
	if err := s.taskWork(ctx, t, s.cfg.taskDuration("resize")); err != nil {
		return err
	}
	unlock, st, err := s.lockAndLoadCT(ctx, node, vmid)
	if err != nil {
		return err
	}
	defer unlock()
	s.mu.Lock()
	if v, ok := s.volumeLocked(node, volid); ok {
		v.Size = to
	}
	s.mu.Unlock()
	_, volname, _ := parseVolumeID(volid)
	t.log("  Size of logical volume pve/%s changed from %s to %s.", volname, humanGiB(from), humanGiB(to))
	t.log("  Logical volume pve/%s successfully resized.", volname)
	if st.Running {
		t.log("resize2fs 1.47.2 (1-Jan-2025)")
		t.log("The filesystem on /dev/loop0 is now %d (4k) blocks long.", to/4096)
	}
	cfg := st.Config.clone()
	ps, err := parseMountPoint(disk, cfg.Values[disk])
	if err != nil {
		return err
	}
	ps.Set("size", pveformat.FormatDiskSize(to))
	cfg.Values[disk] = canonical(disk, ps)
	s.writeCT(vmid, cfg)
	spec := specFor(vmid, node, cfg.Values, "")
	return s.backendCall(ctx, vmid, func() error { return s.backend.Update(ctx, spec) })
}

func humanGiB(n int64) string {
	return fmt.Sprintf("%.2f GiB (%d extents)", float64(n)/float64(pveformat.GiB), n/(4*pveformat.MiB))
}
