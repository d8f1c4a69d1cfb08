package pvesim

import (
	"context"
	"fmt"
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
	owner := 0
	if ok {
		current, owner = v.Size, v.VMID
	}
	s.mu.Unlock()
	if !ok {
		return nil, errf("Could not determine current size of volume '%s'", volid)
	}
	if owner != vmid {
		return nil, errf("can't resize mount point owned by another container (%d)", owner)
	}
	relative := strings.HasPrefix(sizeText, "+")
	delta, err := pveformat.ParseDiskSize(strings.TrimPrefix(sizeText, "+"))
	if err != nil {
		return nil, paramErr1("size", "unable to parse size")
	}
	newSize := delta
	if relative {
		newSize = current + delta
	}
	if newSize < current {
		return nil, errf("unable to shrink disk size")
	}
	if newSize == current {
		return nil, errf("disk is already at specified size")
	}
	t := s.startTask(node, "resize", strconv.Itoa(vmid), q.who, vmid, q.lockFail, func(ctx context.Context, t *task) error {
		return s.resizeWorker(ctx, t, node, vmid, disk, volid, current, newSize)
	})
	return t.upid, nil
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
