package pvesim

import (
	"context"
	"fmt"
	"strings"

	"github.com/lxctm/terraform-provider-pve/internal/pveformat"
)

// configJSON types a config's values for the API, digest included.
func configJSON(values map[string]string, digest string) map[string]any {
	out := make(map[string]any, len(values)+1)
	for k, v := range values {
		out[k] = jsonValue(k, v)
	}
	out["digest"] = digest
	return out
}

// handleConfigGet is GET /nodes/{node}/lxc/{vmid}/config.
func (s *Server) handleConfigGet(q *request) (any, error) {
	if q.has("snapshot") && q.params.Bool("current") {
		msg := "cannot use 'snapshot' parameter with 'current'"
		return nil, paramErr(map[string]string{"snapshot": msg, "current": msg})
	}
	st, err := s.loadCT(q.node(), q.vmid())
	if err != nil {
		return nil, err
	}
	if q.has("snapshot") { // load_snapshot_config: the section, with the file's digest
		snap, ok := st.Config.Snapshots[q.str("snapshot")]
		if !ok {
			return nil, errf("snapshot '%s' does not exist", q.str("snapshot"))
		}
		return configJSON(snap, st.Digest), nil
	}
	values := st.Config.merged()
	if q.params.Bool("current") {
		values = st.Config.Values
	}
	return configJSON(values, st.Digest), nil
}

// handlePending is GET /nodes/{node}/lxc/{vmid}/pending.
func (s *Server) handlePending(q *request) (any, error) {
	st, err := s.loadCT(q.node(), q.vmid())
	if err != nil {
		return nil, err
	}
	c := st.Config
	keys := map[string]bool{"digest": true}
	for k := range c.Values {
		keys[k] = true
	}
	for k := range c.Pending {
		keys[k] = true
	}
	for _, k := range c.PendingDelete {
		keys[k] = true
	}
	out := []map[string]any{}
	for _, k := range sortedKeys(keys) {
		item := map[string]any{"key": k}
		if k == "digest" {
			item["value"] = st.Digest
		} else if v, ok := c.Values[k]; ok {
			item["value"] = jsonValue(k, v)
		}
		if v, ok := c.Pending[k]; ok {
			item["pending"] = jsonValue(k, v)
		}
		if c.hasPendingDelete(k) {
			item["delete"] = 1
		}
		out = append(out, item)
	}
	return out, nil
}

// configMetaParams are PUT config parameters that are not config keys.
var configMetaParams = map[string]bool{"node": true, "vmid": true, "digest": true, "delete": true, "revert": true}

// handleConfigPut is PUT /nodes/{node}/lxc/{vmid}/config: synchronous,
// returns null. Changes go to the pending section and are applied at once
// on a stopped container; on a running one the hot-pluggable ones are.
func (s *Server) handleConfigPut(q *request) (any, error) {
	node, vmid := q.node(), q.vmid()
	set := map[string]string{}
	for k, v := range q.params {
		if !configMetaParams[k] {
			set[k] = v
		}
	}
	if len(set) == 0 && !q.has("delete") && !q.has("revert") {
		return nil, errf("no options specified")
	}
	deletes := pveformat.SplitTags(q.str("delete"))
	reverts := pveformat.SplitTags(q.str("revert"))

	// Permission checks need the current config (features, unprivileged).
	st, aerr := s.loadCT(node, vmid)
	if aerr != nil {
		return nil, aerr
	}
	unprivileged := st.Config.Values["unprivileged"] == "1"
	if err := checkRootOnly(q.who, map[string]string{}, append(append([]string(nil), deletes...), reverts...), st.Config.Values, unprivileged); err != nil {
		return nil, err
	}
	for _, opt := range reverts {
		if _, ok := schema.ConfigKey(opt); !ok {
			return nil, paramErr1("revert", fmt.Sprintf("unknown option '%s'", opt))
		}
		if _, ok := set[opt]; ok {
			return nil, paramErr1("revert", fmt.Sprintf("you can't use '-%s' and '-revert %s' at the same time", opt, opt))
		}
	}
	for _, opt := range deletes {
		if _, ok := schema.ConfigKey(opt); !ok {
			return nil, paramErr1("delete", fmt.Sprintf("unknown option '%s'", opt))
		}
		if _, ok := set[opt]; ok {
			return nil, paramErr1("delete", fmt.Sprintf("you can't use '-%s' and -delete %s' at the same time", opt, opt))
		}
		for _, r := range reverts {
			if r == opt {
				return nil, paramErr1("delete", fmt.Sprintf("you can't use '-delete %s' and '-revert %s' at the same time", opt, opt))
			}
		}
	}
	if err := checkRootOnly(q.who, set, nil, st.Config.Values, unprivileged); err != nil {
		return nil, err
	}

	unlock, aerr := s.lockCT(q.ctx, vmid, s.cfg.LockTimeout)
	if aerr != nil {
		return nil, aerr
	}
	defer unlock()
	st, aerr = s.loadCT(node, vmid)
	if aerr != nil {
		return nil, aerr
	}
	if l := st.Config.lock(); l != "" {
		return nil, ctLockedErr(l)
	}
	if d := q.str("digest"); q.has("digest") && d != st.Digest {
		return nil, errf("detected modified configuration - file changed by other user? Try again.")
	}
	cfg := st.Config.clone()
	errs, err := s.updateConfig(q.ctx, node, vmid, cfg, st.Running, set, deletes, reverts)
	if err != nil {
		return nil, err
	}
	s.writeCT(vmid, cfg)
	spec := specFor(vmid, node, cfg.Values, "")
	if berr := s.backendCall(q.ctx, vmid, func() error { return s.backend.Update(q.ctx, spec) }); berr != nil {
		s.logf("pvesim: CT %d: backend update: %v", vmid, berr)
	}
	if len(errs) > 0 {
		return nil, paramErr(errs)
	}
	return nil, nil
}

// fastplugKeys change at once even on a running container.
var fastplugKeys = map[string]bool{
	"description": true, "onboot": true, "startup": true, "protection": true, "hostname": true,
	"hookscript": true, "cores": true, "tags": true, "lock": true,
}

// updateConfig is update_pct_config: revert, queue deletions, write new
// values to the pending section, then apply (stopped) or hot-plug
// (running). It returns per-key hot-plug/apply errors.
func (s *Server) updateConfig(ctx context.Context, node string, vmid int, cfg *ctConfig, running bool, set map[string]string, deletes, reverts []string) (map[string]string, *apiError) {
	for _, opt := range reverts {
		delete(cfg.Pending, opt)
		cfg.removePendingDelete(opt)
	}
	modified := map[string]bool{}
	protected := cfg.Values["protection"] == "1"
	for _, opt := range deletes {
		_, cur := cfg.Values[opt]
		_, pend := cfg.Pending[opt]
		if !cur && !pend {
			continue // PVE only warns: "cannot delete '<opt>' - not set in current configuration!"
		}
		modified[opt] = true
		switch {
		case opt == "memory" || opt == "rootfs" || opt == "ostype":
			return nil, errf("unable to delete required option '%s'", opt)
		case unusedKeyRE.MatchString(opt) || mpKeyRE.MatchString(opt):
			if protected {
				return nil, errf("can't remove CT %d drive '%s' - protection mode enabled", vmid, opt)
			}
		case opt == "unprivileged":
			return nil, errf("unable to delete read-only option: '%s'", opt)
		}
		// add_to_pending_delete: a pending value of the key goes too.
		delete(cfg.Pending, opt)
		cfg.addPendingDelete(opt)
	}
	for _, opt := range sortedKeys(set) {
		modified[opt] = true
		value := set[opt]
		switch {
		case isVolumeKey(opt):
			if protected {
				return nil, errf("can't update CT %d drive '%s' - protection mode enabled", vmid, opt)
			}
			ps, err := parseMountPoint(opt, value)
			if err != nil {
				return nil, errf("%v", err)
			}
			if vol := ps.Value("volume"); mountPointType(vol) == "volume" {
				sid, _, err := parseVolumeID(vol)
				if err != nil {
					if m := newDiskRE.FindStringSubmatch(vol); m != nil && m[1] == "" {
						return nil, errf("unable to parse volume ID '%s'", vol)
					}
					return nil, errf("%v", err)
				}
				sc, aerr := s.storageOrErr(sid)
				if aerr != nil {
					return nil, aerr
				}
				if !sc.has("rootdir") {
					return nil, errf("storage '%s' does not allow content type 'rootdir' (Container)", sid)
				}
			}
		case opt == "hookscript":
			if err := s.checkHookscript(node, value); err != nil {
				return nil, err
			}
		case opt == "unprivileged":
			return nil, errf("unable to modify read-only option: '%s'", opt)
		case opt == "tags":
			value = pveformat.JoinTags(pveformat.NormalizeTags(pveformat.SplitTags(value)))
		case netKeyRE.MatchString(opt):
			if p, ok := schema.ConfigKey(opt); ok {
				if ps, err := p.ParseValue(value); err == nil {
					if mtu := atoiOr(ps.Value("mtu"), 0); mtu > 1500 {
						return nil, errf("%s: MTU size '%d' is bigger than bridge MTU '1500'", opt, mtu)
					}
				}
			}
		}
		if p, ok := schema.ConfigKey(opt); ok && p.IsPropertyString() {
			if ps, err := p.ParseValue(value); err == nil {
				if printed, err := p.Canonical(ps); err == nil {
					value = printed // PVE stores property strings re-printed
				}
			}
		}
		cfg.Pending[opt] = value
		cfg.removePendingDelete(opt)
	}
	cfg.cleanupPending()
	errs := map[string]string{}
	if running {
		s.hotplugPending(node, vmid, cfg, modified, errs)
	} else {
		s.applyPending(node, vmid, cfg, modified, errs)
	}
	_ = ctx
	return errs, nil
}

// checkHookscript is check_hookscript: a snippets volume that exists.
func (s *Server) checkHookscript(node, volid string) *apiError {
	_, volname, err := parseVolumeID(volid)
	if err != nil {
		return errf("%v", err)
	}
	if !strings.HasPrefix(volname, "snippets/") {
		return errf("'%s' is not in the snippets directory", volid)
	}
	s.mu.Lock()
	_, ok := s.volumeLocked(node, volid)
	s.mu.Unlock()
	if !ok {
		return errf("script '%s' does not exist", volid)
	}
	return nil
}

// applyPending is vmconfig_apply_pending for a stopped container.
func (s *Server) applyPending(node string, vmid int, cfg *ctConfig, selection map[string]bool, errs map[string]string) {
	for _, opt := range append([]string(nil), cfg.PendingDelete...) {
		if selection != nil && !selection[opt] {
			continue
		}
		switch {
		case mpKeyRE.MatchString(opt):
			if ps, err := parseMountPoint(opt, cfg.Values[opt]); err == nil {
				if vol := ps.Value("volume"); mountPointType(vol) == "volume" && !volumeInUse(cfg, vol, opt) {
					addUnusedVolume(cfg, vol)
				}
			}
		case unusedKeyRE.MatchString(opt):
			if vol := unusedVolume(cfg.Values[opt]); vol != "" && !volumeInUse(cfg, vol, opt) && !volumeInSnapshots(cfg, vol) {
				if err := s.freeVolume(node, vol); err != nil {
					errs[opt] = fmt.Sprintf("unable to apply pending change %s : %v", opt, err)
					continue
				}
			}
		}
		delete(cfg.Values, opt)
		cfg.removePendingDelete(opt)
	}
	cfg.cleanupPending()
	for _, opt := range sortedKeys(cfg.Pending) {
		if selection != nil && !selection[opt] {
			continue
		}
		switch {
		case mpKeyRE.MatchString(opt):
			if err := s.applyPendingMountPoint(node, vmid, cfg, opt); err != nil {
				errs[opt] = fmt.Sprintf("unable to apply pending change %s : %v", opt, err)
				continue
			}
		case netKeyRE.MatchString(opt):
			v, err := canonicalNet(opt, cfg.Pending[opt])
			if err != nil {
				errs[opt] = fmt.Sprintf("unable to apply pending change %s : %v", opt, err)
				continue
			}
			cfg.Pending[opt] = v
		}
		cfg.Values[opt] = cfg.Pending[opt]
		delete(cfg.Pending, opt)
	}
}

// hotplugPending is vmconfig_hotplug_pending for a running container:
// fast-plug keys and hot-pluggable changes are applied, the rest stays
// pending until the next start.
func (s *Server) hotplugPending(node string, vmid int, cfg *ctConfig, selection map[string]bool, errs map[string]string) {
	for _, opt := range sortedKeys(cfg.Pending) {
		if selection[opt] && fastplugKeys[opt] {
			cfg.Values[opt] = cfg.Pending[opt]
			delete(cfg.Pending, opt)
		}
	}
	for _, opt := range append([]string(nil), cfg.PendingDelete...) {
		if !selection[opt] {
			continue
		}
		switch {
		case fastplugKeys[opt], opt == "swap", opt == "cpulimit", opt == "cpuunits", netKeyRE.MatchString(opt):
		case unusedKeyRE.MatchString(opt):
			if vol := unusedVolume(cfg.Values[opt]); vol != "" && !volumeInUse(cfg, vol, opt) && !volumeInSnapshots(cfg, vol) {
				if err := s.freeVolume(node, vol); err != nil {
					errs[opt] = fmt.Sprintf("unable to hotplug %s: %v", opt, err)
					continue
				}
			}
		default:
			continue // not hot-pluggable: stays pending
		}
		delete(cfg.Values, opt)
		cfg.removePendingDelete(opt)
	}
	for _, opt := range sortedKeys(cfg.Pending) {
		if !selection[opt] {
			continue
		}
		switch {
		case opt == "cpulimit", opt == "cpuunits", opt == "memory", opt == "swap":
		case netKeyRE.MatchString(opt):
			v, err := canonicalNet(opt, cfg.Pending[opt])
			if err != nil {
				errs[opt] = fmt.Sprintf("unable to hotplug %s: %v", opt, err)
				continue
			}
			cfg.Pending[opt] = v
		case mpKeyRE.MatchString(opt):
			if _, exists := cfg.Values[opt]; exists {
				continue // don't hot-plug over an existing mount point
			}
			if err := s.applyPendingMountPoint(node, vmid, cfg, opt); err != nil {
				errs[opt] = fmt.Sprintf("unable to hotplug %s: %v", opt, err)
				continue
			}
		case devKeyRE.MatchString(opt):
			if _, exists := cfg.Values[opt]; exists {
				continue
			}
		default:
			continue
		}
		cfg.Values[opt] = cfg.Pending[opt]
		delete(cfg.Pending, opt)
	}
}

// applyPendingMountPoint allocates a new "STORAGE:SIZE" volume or
// canonicalises an existing one; a replaced volume becomes unusedN.
func (s *Server) applyPendingMountPoint(node string, vmid int, cfg *ctConfig, opt string) error {
	ps, err := parseMountPoint(opt, cfg.Pending[opt])
	if err != nil {
		return err
	}
	old, hadOld := cfg.Values[opt]
	vol := ps.Value("volume")
	if m := newDiskRE.FindStringSubmatch(vol); m != nil && mountPointType(vol) == "volume" {
		v, size, err := s.allocNewDisk(nil, node, m[1], vmid, m[2])
		if err != nil {
			return err
		}
		ps.Set("volume", v.VolID)
		ps.Set("size", pveformat.FormatDiskSize(size))
	} else if mountPointType(vol) == "volume" {
		s.mu.Lock()
		v, ok := s.volumeLocked(node, vol)
		if ok {
			ps.Set("size", pveformat.FormatDiskSize(v.Size))
		}
		s.mu.Unlock()
	}
	cfg.Pending[opt] = canonical(opt, ps)
	if hadOld {
		if ops, err := parseMountPoint(opt, old); err == nil {
			if ov := ops.Value("volume"); mountPointType(ov) == "volume" && ov != ps.Value("volume") && !volumeInUse(cfg, ov, opt) {
				addUnusedVolume(cfg, ov)
			}
		}
	}
	return nil
}

// unusedVolume reads the volume of an unusedN value.
func unusedVolume(value string) string {
	ps, err := parseMountPoint("unused0", value)
	if err != nil {
		return ""
	}
	return ps.Value("volume")
}

// volumeInUse reports whether a config still references vol other than
// through the key except.
func volumeInUse(cfg *ctConfig, vol, except string) bool {
	for _, section := range []map[string]string{cfg.Values, cfg.Pending} {
		for k, v := range section {
			if k == except || !isVolumeKey(k) {
				continue
			}
			if ps, err := parseMountPoint(k, v); err == nil && ps.Value("volume") == vol {
				return true
			}
		}
	}
	return false
}

// volumeInSnapshots reports whether a snapshot still references vol: PVE
// then drops an unusedN entry without freeing the volume.
func volumeInSnapshots(cfg *ctConfig, vol string) bool {
	for _, snap := range cfg.Snapshots {
		if containsString(snapshotVolumes(snap), vol) {
			return true
		}
	}
	return false
}

// addUnusedVolume records vol as the first free unusedN.
func addUnusedVolume(cfg *ctConfig, vol string) {
	for k, v := range cfg.Values {
		if unusedKeyRE.MatchString(k) && unusedVolume(v) == vol {
			return
		}
	}
	for i := 0; i < 256; i++ {
		key := fmt.Sprintf("unused%d", i)
		if _, used := cfg.Values[key]; !used {
			cfg.Values[key] = vol
			return
		}
	}
}
