package pveapi

import (
	"context"
	"errors"
	"fmt"
)

// maxVMIDAttempts bounds how many fresh ids one allocation tries when other
// processes keep taking them.
const maxVMIDAttempts = 20

// AllocateVMID picks a free VMID and creates a guest with it without
// colliding: GET /cluster/nextid and the create request run under one lock
// per Client, so concurrent creates in this process (terraform
// -parallelism=N) never get the same id; PVE takes the id synchronously
// before answering the create. When another process took the id in between
// (create fails with ErrAlreadyExists) a fresh id is fetched and the create
// sent again. create must dispatch the request and return the task's UPID
// (e.g. wrap CreateContainerAsync); the task is waited for by the caller,
// outside the lock.
//
// On failure vmid is the id of the last attempt, so that an
// *AmbiguousCreateError can be acted upon.
func (c *Client) AllocateVMID(ctx context.Context, create func(ctx context.Context, vmid int) (upid string, err error)) (vmid int, upid string, err error) {
	if err := c.vmidLock.acquire(ctx); err != nil {
		return 0, "", err
	}
	defer c.vmidLock.release()
	for attempt := 1; ; attempt++ {
		vmid, err = c.NextID(ctx, nil)
		if err != nil {
			return 0, "", fmt.Errorf("allocating a VMID: %w", err)
		}
		upid, err = create(ctx, vmid)
		var ambiguous *AmbiguousCreateError
		switch {
		case err == nil:
			subsystemDebug(ctx, "allocated VMID", map[string]any{"vmid": vmid, "attempt": attempt})
			return vmid, upid, nil
		case errors.As(err, &ambiguous), !errors.Is(err, ErrAlreadyExists):
			return vmid, "", err
		case attempt >= maxVMIDAttempts:
			return vmid, "", fmt.Errorf("allocating a VMID: %d ids in a row were taken by others: %w", attempt, err)
		}
		subsystemWarn(ctx, "VMID taken by another client, trying the next free one", map[string]any{"vmid": vmid, "attempt": attempt})
	}
}

// CreateContainerAutoAsync creates a container with an allocated VMID (see
// AllocateVMID) and returns the id and the create task's UPID.
func (c *Client) CreateContainerAutoAsync(ctx context.Context, node string, params *Params) (vmid int, upid string, err error) {
	return c.AllocateVMID(ctx, func(ctx context.Context, vmid int) (string, error) {
		return c.CreateContainerAsync(ctx, node, vmid, params)
	})
}

// CreateContainerAuto creates a container with an allocated VMID and waits
// for the create task. vmid is returned with a task error too: the
// container then exists or was removed by PVE, and the caller decides.
func (c *Client) CreateContainerAuto(ctx context.Context, node string, params *Params) (vmid int, res *TaskResult, err error) {
	vmid, upid, err := c.CreateContainerAutoAsync(ctx, node, params)
	if err != nil {
		return vmid, nil, err
	}
	res, err = c.WaitTask(ctx, upid)
	return vmid, res, err
}

// CloneContainerAutoAsync clones container vmid to an allocated new VMID.
func (c *Client) CloneContainerAutoAsync(ctx context.Context, node string, vmid int, opts CloneOptions) (newid int, upid string, err error) {
	return c.AllocateVMID(ctx, func(ctx context.Context, newid int) (string, error) {
		return c.CloneContainerAsync(ctx, node, vmid, newid, opts)
	})
}

// CloneContainerAuto clones to an allocated new VMID and waits for the task.
func (c *Client) CloneContainerAuto(ctx context.Context, node string, vmid int, opts CloneOptions) (newid int, res *TaskResult, err error) {
	newid, upid, err := c.CloneContainerAutoAsync(ctx, node, vmid, opts)
	if err != nil {
		return newid, nil, err
	}
	res, err = c.WaitTask(ctx, upid)
	return newid, res, err
}
