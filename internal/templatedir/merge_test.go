package templatedir

import (
	"errors"
	"testing"
)

func mustSpec(t *testing.T, bucket, manager, spec string) Package {
	t.Helper()
	p, err := ValidatePackageSpec(manager, spec)
	if err != nil {
		t.Fatal(err)
	}
	p.Bucket = bucket
	return p
}

func TestMergePackages(t *testing.T) {
	base := []Package{mustSpec(t, "base", "apt", "curl"), mustSpec(t, "base", "apt", "jq=1.6-2")}
	more := []Package{mustSpec(t, "web", "apt", "curl"), mustSpec(t, "web", "npm", "typescript@5.4.5"), mustSpec(t, "web", "apt", "nginx")}
	got, err := MergePackages(base, more)
	if err != nil {
		t.Fatal(err)
	}
	var specs []string
	for _, p := range got {
		specs = append(specs, p.Bucket+":"+p.Manager+":"+p.Spec)
	}
	want := []string{"base:apt:curl", "base:apt:jq=1.6-2", "web:npm:typescript@5.4.5", "web:apt:nginx"}
	if len(specs) != len(want) {
		t.Fatalf("got %v, want %v", specs, want)
	}
	for i := range want {
		if specs[i] != want[i] {
			t.Fatalf("got %v, want %v", specs, want)
		}
	}

	// The same name at another version, from another bucket, is refused
	// with both rows named.
	_, err = MergePackages(base, []Package{mustSpec(t, "pins", "apt", "jq=1.7-1")})
	var conflict *PackageConflictError
	if !errors.As(err, &conflict) || conflict.First.Bucket != "base" || conflict.Second.Bucket != "pins" {
		t.Fatalf("want a conflict naming base and pins, got %v", err)
	}
	if msg := err.Error(); msg != `apt package jq is pinned differently by bucket "base" (jq=1.6-2) and bucket "pins" (jq=1.7-1); keep one version` {
		t.Fatalf("message %q", msg)
	}

	// Different managers may share a name.
	if _, err := MergePackages([]Package{mustSpec(t, "a", "apt", "yarn")}, []Package{mustSpec(t, "b", "npm", "yarn@1.22.22")}); err != nil {
		t.Fatalf("apt yarn and npm yarn must not conflict: %v", err)
	}
}
