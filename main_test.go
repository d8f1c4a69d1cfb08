package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestHelpListsSubcommandsAndFlags(t *testing.T) {
	for _, arg := range []string{"-h", "--help"} {
		var out, errOut bytes.Buffer
		_, code, exit := parseFlags([]string{arg}, &out, &errOut)
		if !exit || code != 0 {
			t.Fatalf("%s: exit %v code %d", arg, exit, code)
		}
		for _, want := range []string{"simulate", "version", "-debug", "-version"} {
			if !strings.Contains(errOut.String(), want) {
				t.Errorf("%s does not mention %q:\n%s", arg, want, errOut.String())
			}
		}
	}
}

func TestVersionFlag(t *testing.T) {
	for _, arg := range []string{"-version", "--version"} {
		var out, errOut bytes.Buffer
		_, code, exit := parseFlags([]string{arg}, &out, &errOut)
		if !exit || code != 0 || out.String() != version+"\n" {
			t.Errorf("%s: exit %v code %d stdout %q", arg, exit, code, out.String())
		}
	}
}

func TestServeFlagsAndMistakes(t *testing.T) {
	var out, errOut bytes.Buffer
	if debug, _, exit := parseFlags([]string{"-debug"}, &out, &errOut); exit || !debug {
		t.Errorf("-debug: debug %v exit %v", debug, exit)
	}
	if _, _, exit := parseFlags(nil, &out, &errOut); exit {
		t.Error("no arguments must serve the provider")
	}
	for _, args := range [][]string{{"--bogus"}, {"simulte"}} {
		errOut.Reset()
		if _, code, exit := parseFlags(args, &out, &errOut); !exit || code != 2 || !strings.Contains(errOut.String(), "simulate") {
			t.Errorf("%q: exit %v code %d, stderr %q", args, exit, code, errOut.String())
		}
	}
}
