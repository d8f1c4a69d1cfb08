// Package pvesimtest starts a pvesim simulator for one Go test: New(t,
// opts...) listens on 127.0.0.1 with random ports, logs to the test and
// closes the simulator when the test ends. It exists so that package pvesim
// itself never imports testing; only _test.go files import this package.
package pvesimtest
