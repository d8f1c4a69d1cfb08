// Package lxctest is the one harness of the tests that run real LXC
// containers on the simulator's lxc backend (lxcbackend, provision and the
// provider's end-to-end suite), so the backend binary ships none of it.
//
// Require (or RequireInstalling) skips a test where real containers cannot
// run or are not wanted: set PVE_TEST_LXC=0 to turn them off (make
// test-unit does). NewBackend starts a backend on a private bridge in a
// directory unprivileged containers can enter, Image prepares the Debian
// appliance, Spec describes a container on the bridge, Sh and Output run
// commands in it like `pct exec`.
//
// Containers have no egress: LocalRepo serves apt, pip and npm packages
// on the bridge (ServeRepo points every new container at it) and ServeFile
// serves single files there, so no test traffic leaves the bridge.
//
// Only _test.go files import this package.
package lxctest
