package provider

import (
	"context"
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
// invalidates it.
type clusterView struct {
	mu      sync.Mutex
	fetched time.Time
	guests  map[int]pveapi.ClusterResource
}

// clusterGuest returns the cluster's view of a guest, and whether it exists.
func (d *providerData) clusterGuest(ctx context.Context, api *pveapi.Client, vmid int) (pveapi.ClusterResource, bool, error) {
	v := &d.cluster
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.guests == nil || time.Since(v.fetched) > clusterViewTTL {
		list, err := api.ClusterResources(ctx, "vm")
		if err != nil {
			return pveapi.ClusterResource{}, false, err
		}
		v.guests = make(map[int]pveapi.ClusterResource, len(list))
		for _, g := range list {
			v.guests[g.VMID] = g
		}
		v.fetched = time.Now()
	}
	g, ok := v.guests[vmid]
	return g, ok, nil
}

// invalidateCluster drops the cached guest list after a change.
func (d *providerData) invalidateCluster() {
	d.cluster.mu.Lock()
	d.cluster.guests = nil
	d.cluster.mu.Unlock()
}
