package provider

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/lxctm/terraform-provider-pve/internal/pveapi"
)

func TestSelectContainers(t *testing.T) {
	guests := []pveapi.ClusterResource{
		{Type: "lxc", VMID: 105, Node: "pve2", Name: "db-01", Tags: "db;prod"},
		{Type: "lxc", VMID: 101, Node: "pve", Name: "Web-01", Tags: "prod;web"},
		{Type: "lxc", VMID: 102, Node: "pve", Name: "web-02", Tags: "staging;web"},
		{Type: "qemu", VMID: 103, Node: "pve", Name: "web-vm", Tags: "web"},
		{Type: "lxc", VMID: 9000, Node: "pve", Name: "web-golden", Tags: "web", Template: true},
		{Type: "lxc", VMID: 104, Node: "pve", Name: "cache", Tags: ""},
	}
	cases := map[string]struct {
		filter containerFilter
		want   []int
	}{
		"everything, by vmid":         {containerFilter{}, []int{101, 102, 104, 105}},
		"node":                        {containerFilter{node: "pve2"}, []int{105}},
		"one tag":                     {containerFilter{tags: []string{"web"}}, []int{101, 102}},
		"every tag must be there":     {containerFilter{tags: []string{"prod", "web"}}, []int{101}},
		"a tag nobody has":            {containerFilter{tags: []string{"gpu"}}, nil},
		"glob, case-insensitive":      {containerFilter{hostname: "web-*"}, []int{101, 102}},
		"glob with a class":           {containerFilter{hostname: "WEB-0[2-9]"}, []int{102}},
		"glob matches the whole name": {containerFilter{hostname: "web"}, nil},
		"question mark":               {containerFilter{hostname: "cach?"}, []int{104}},
		"all filters together":        {containerFilter{node: "pve", tags: []string{"web"}, hostname: "*-01"}, []int{101}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var got []int
			for _, g := range selectContainers(guests, tc.filter) {
				got = append(got, g.VMID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("selected %v, want %v", got, tc.want)
			}
		})
	}
}

func TestGlobPatternValidator(t *testing.T) {
	cases := map[string]bool{"web-*": true, "db-0[1-3]": true, `a\*`: true, "web[": false, "[a-": false, `a\`: false}
	for pattern, valid := range cases {
		var resp validator.StringResponse
		globPattern{}.ValidateString(context.Background(), validator.StringRequest{
			Path: path.Root("hostname"), ConfigValue: types.StringValue(pattern),
		}, &resp)
		if resp.Diagnostics.HasError() == valid {
			t.Errorf("pattern %q: errors %v, want valid=%v", pattern, resp.Diagnostics, valid)
		}
	}
}

func TestInOrder(t *testing.T) {
	items := []int{5, 1, 4, 2, 3}
	var running, most atomic.Int32
	slow := func(_ context.Context, n int) int {
		now := running.Add(1)
		for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
		}
		time.Sleep(time.Duration(n) * time.Millisecond) // later items finish first
		running.Add(-1)
		return n * 10
	}
	var got []int
	for r := range inOrder(context.Background(), items, 2, slow) {
		got = append(got, r)
	}
	if !slices.Equal(got, []int{50, 10, 40, 20, 30}) {
		t.Errorf("results %v, want them in the items' order", got)
	}
	if most.Load() > 2 {
		t.Errorf("%d calls ran at once, want at most 2", most.Load())
	}
}

func TestInOrderStopsEarly(t *testing.T) {
	var calls atomic.Int32
	blockAfterFirst := func(ctx context.Context, n int) int {
		calls.Add(1)
		if n > 0 {
			<-ctx.Done() // only the consumer stopping ends these calls
		}
		return n
	}
	items := make([]int, 100)
	for i := range items {
		items[i] = i
	}
	for r := range inOrder(context.Background(), items, 2, blockAfterFirst) {
		if r != 0 {
			t.Fatalf("first result %d, want 0", r)
		}
		break
	}
	time.Sleep(20 * time.Millisecond) // a producer that kept going would start more calls
	if n := calls.Load(); n > 3 {
		t.Errorf("%d calls after the consumer stopped at the first result, want at most 3 (the first and two workers)", n)
	}
}
