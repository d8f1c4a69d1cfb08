// Package sshnodetest is the one harness of the tests that talk to a
// simulated node over SSH without the whole simulator: sshnode's own tests
// (the server side) and sshexec's (the provider's client side). It exists so
// that neither suite keeps its own copy of a fake node, and so that
// package sshnode itself never imports testing; only _test.go files import
// this package.
//
// NewHost is a configurable sshnode.Host whose containers run their
// commands on the test machine, apart from a few scripted ones (ArgvRecord,
// ArgvBlock, ArgvDrain), and which records every call. Start serves an
// sshnode.Server for it on 127.0.0.1 until the test ends, with a fresh host
// key, a root password and one authorized client key (NewKey).
package sshnodetest
