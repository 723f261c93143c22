//go:build race

package apitest

// raceDetector: the race detector slows the server several times over;
// tests that bound latency allow for it.
const raceDetector = true
