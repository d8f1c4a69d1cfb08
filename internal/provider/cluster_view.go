package provider

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
)

// clusterViewTTL bounds how old the shared guest list may be. A refresh of
// many containers happens within it, so they all share one request.
const clusterViewTTL = 5 * time.Second

// clusterView caches GET /cluster/resources?type=vm for the containers of
// one refresh: every container's Read needs its status, and asking the
// cluster once instead of each container keeps a refresh at one request per
// container (its config) plus this shared one. Any change the provider makes
// invalidates it. The plans of new containers look up host names in it.
type clusterView struct {
	mu      sync.Mutex
	fetched time.Time
	guests  map[int]pveapi.ClusterResource
	// tracked are the VMIDs the refreshes of this process read: containers
	// in state, including tainted ones a plan replaces.
	tracked map[int]bool
}

// clusterGuests returns the cluster's guests by VMID, from the shared
// list. Callers must not modify the map.
func (d *providerData) clusterGuests(ctx context.Context, api *pveapi.Client) (map[int]pveapi.ClusterResource, error) {
	v := &d.cluster
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.guests == nil || time.Since(v.fetched) > clusterViewTTL {
		list, err := api.ClusterResources(ctx, "vm")
		if err != nil {
			return nil, err
		}
		v.guests = make(map[int]pveapi.ClusterResource, len(list))
		for _, g := range list {
			v.guests[g.VMID] = g
		}
		v.fetched = time.Now()
	}
	return v.guests, nil
}

// clusterGuest returns the cluster's view of a guest, and whether it exists.
func (d *providerData) clusterGuest(ctx context.Context, api *pveapi.Client, vmid int) (pveapi.ClusterResource, bool, error) {
	guests, err := d.clusterGuests(ctx, api)
	if err != nil {
		return pveapi.ClusterResource{}, false, err
	}
	g, ok := guests[vmid]
	return g, ok, nil
}

// containersNamed lists the cluster's containers (not templates) whose
// host name is name, as DNS compares names (ignoring case), except those
// this process's refreshes read: they are in state already.
func (d *providerData) containersNamed(ctx context.Context, api *pveapi.Client, name string) ([]pveapi.ClusterResource, error) {
	guests, err := d.clusterGuests(ctx, api)
	if err != nil {
		return nil, err
	}
	d.cluster.mu.Lock()
	defer d.cluster.mu.Unlock()
	var out []pveapi.ClusterResource
	for vmid, g := range guests {
		if g.Type == "lxc" && !g.Template && strings.EqualFold(g.Name, name) && !d.cluster.tracked[vmid] {
			out = append(out, g)
		}
	}
	return out, nil
}

// noteTracked records that a refresh read container vmid.
func (d *providerData) noteTracked(vmid int) {
	d.cluster.mu.Lock()
	defer d.cluster.mu.Unlock()
	if d.cluster.tracked == nil {
		d.cluster.tracked = map[int]bool{}
	}
	d.cluster.tracked[vmid] = true
}

// invalidateCluster drops the cached guest list after a change.
func (d *providerData) invalidateCluster() {
	d.cluster.mu.Lock()
	d.cluster.guests = nil
	d.cluster.mu.Unlock()
}
