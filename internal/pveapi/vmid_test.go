package pveapi

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// vmidServer models PVE's id bookkeeping: nextid answers the lowest id not
// taken (as a JSON string, like PVE), create takes the id synchronously,
// and "raced" ids are grabbed by another process the moment our create for
// them arrives.
type vmidServer struct {
	mu        sync.Mutex
	taken     map[int]string // id -> "ours" | "other"
	raced     map[int]bool
	conflicts []int
}

func (s *vmidServer) routes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"GET /cluster/nextid": func(w http.ResponseWriter, _ *http.Request) {
			s.mu.Lock()
			id := 100
			for s.taken[id] != "" {
				id++
			}
			s.mu.Unlock()
			writeData(w, strconv.Itoa(id))
		},
		"POST /nodes/pve/lxc": func(w http.ResponseWriter, r *http.Request) {
			vmid, _ := strconv.Atoi(param(r, "vmid"))
			time.Sleep(2 * time.Millisecond) // widen the window a missing lock would expose
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.raced[vmid] && s.taken[vmid] == "" {
				s.taken[vmid] = "other"
			}
			if s.taken[vmid] != "" {
				s.conflicts = append(s.conflicts, vmid)
				writePVEError(w, http.StatusInternalServerError, fmt.Sprintf("CT %d already exists on node 'pve'", vmid), nil)
				return
			}
			s.taken[vmid] = "ours"
			writeData(w, fmt.Sprintf("UPID:pve:00000001:00000002:63DF62A5:vzcreate:%d:root@pam!tf:", vmid))
		},
	}
}

func TestConcurrentAllocationsGetDistinctVMIDs(t *testing.T) {
	srv := &vmidServer{taken: map[int]string{101: "other"}, raced: map[int]bool{100: true, 104: true, 105: true, 112: true}}
	f := newFakePVE(t, srv.routes())
	c := newTestClient(t, f, nil)

	const n = 20
	ids := make(chan int, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			params := NewParams().Set("hostname", fmt.Sprintf("ct-%d", i)).Set("ostemplate", "local:vztmpl/debian.tar.zst")
			vmid, upid, err := c.CreateContainerAutoAsync(t.Context(), "pve", params)
			if err != nil {
				errs <- err
				return
			}
			if want := fmt.Sprintf(":vzcreate:%d:", vmid); !strings.Contains(upid, want) {
				errs <- fmt.Errorf("vmid %d got task %s", vmid, upid)
				return
			}
			ids <- vmid
		})
	}
	wg.Wait()
	close(ids)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var got []int
	for id := range ids {
		got = append(got, id)
	}
	slices.Sort(got)
	if len(got) != n || len(slices.Compact(slices.Clone(got))) != n {
		t.Fatalf("got %d ids, distinct %v", len(got), got)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for _, id := range got {
		if srv.taken[id] != "ours" {
			t.Errorf("id %d was returned but the server gave it to %q", id, srv.taken[id])
		}
	}
	slices.Sort(srv.conflicts)
	if want := []int{100, 104, 105, 112}; !slices.Equal(srv.conflicts, want) {
		t.Errorf("conflicts = %v, want only the ids other processes took: %v", srv.conflicts, want)
	}
}

func TestAmbiguousCreateIsNotRetriedWithAnotherID(t *testing.T) {
	var posts int
	var mu sync.Mutex
	f := newFakePVE(t, map[string]http.HandlerFunc{
		"GET /cluster/nextid": func(w http.ResponseWriter, _ *http.Request) { writeData(w, "100") },
		"POST /nodes/pve/lxc": func(w http.ResponseWriter, _ *http.Request) {
			mu.Lock()
			posts++
			first := posts == 1
			mu.Unlock()
			if first {
				// The worker was forked (and created the CT) but its UPID was lost.
				writePVEError(w, http.StatusInternalServerError, "got no worker upid - start worker failed", nil)
				return
			}
			writePVEError(w, http.StatusInternalServerError, "CT 100 already exists on node 'pve'", nil)
		},
	})
	c := newTestClient(t, f, nil)
	vmid, _, err := c.CreateContainerAutoAsync(t.Context(), "pve", NewParams())
	var amb *AmbiguousCreateError
	if !errors.As(err, &amb) || amb.VMID != 100 || vmid != 100 {
		t.Fatalf("vmid %d, err = %v, want an ambiguous create of 100", vmid, err)
	}
	if !errors.Is(err, ErrAlreadyExists) {
		t.Error("the ambiguous error still wraps the already-exists answer")
	}
	if n := f.count(http.MethodGet, "/cluster/nextid"); n != 1 {
		t.Errorf("nextid called %d times: an ambiguous create must not move on to another id", n)
	}
}

func TestLockTimeoutThenTakenMovesToNextID(t *testing.T) {
	var mu sync.Mutex
	taken := map[string]bool{}
	posts := map[string]int{}
	f := newFakePVE(t, map[string]http.HandlerFunc{
		"GET /cluster/nextid": func(w http.ResponseWriter, _ *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			if taken["100"] {
				writeData(w, "101")
				return
			}
			writeData(w, "100")
		},
		"POST /nodes/pve/lxc": func(w http.ResponseWriter, r *http.Request) {
			id := param(r, "vmid")
			mu.Lock()
			defer mu.Unlock()
			posts[id]++
			if id == "100" && posts[id] == 1 {
				// Another process is creating 100 and holds its config lock…
				writePVEError(w, http.StatusInternalServerError, "can't lock file '/run/lock/lxc/pve-config-100.lock' - got timeout", nil)
				return
			}
			if id == "100" {
				// …and has created it by the time the retry arrives.
				taken["100"] = true
				writePVEError(w, http.StatusInternalServerError, "CT 100 already exists on node 'pve'", nil)
				return
			}
			writeData(w, "UPID:pve:00000001:00000002:63DF62A5:vzcreate:"+id+":root@pam!tf:")
		},
	})
	c := newTestClient(t, f, nil)
	vmid, _, err := c.CreateContainerAutoAsync(t.Context(), "pve", NewParams())
	if err != nil || vmid != 101 {
		t.Fatalf("vmid %d err %v, want 101: a lock timeout proves the first attempt created nothing", vmid, err)
	}
}

func TestExplicitVMIDTakenIsAlreadyExists(t *testing.T) {
	f := newFakePVE(t, map[string]http.HandlerFunc{
		"POST /nodes/pve/lxc": func(w http.ResponseWriter, _ *http.Request) {
			writePVEError(w, http.StatusInternalServerError, "CT 150 already exists on node 'pve'", nil)
		},
	})
	c := newTestClient(t, f, nil)
	_, err := c.CreateContainerAsync(t.Context(), "pve", 150, NewParams())
	var amb *AmbiguousCreateError
	if !errors.Is(err, ErrAlreadyExists) || errors.As(err, &amb) {
		t.Fatalf("err = %v, want a plain already-exists error", err)
	}
}
