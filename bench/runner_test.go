package main

import (
	"testing"
	"time"
)

func TestMergeRunsWeighsByRequestsAndTime(t *testing.T) {
	l := load{connections: 8}
	m := mergeRuns([]measurement{
		{scenario: "a", system: "x", load: l, requests: 1000, rps: 500, p50: 4, p99: 20, appCPU: time.Millisecond, dbCPU: 2 * time.Millisecond, peakRSS: 10},
		{scenario: "a", system: "x", load: l, requests: 3000, rps: 1500, p50: 2, p99: 30, appCPU: 3 * time.Millisecond, errors: 1, firstError: "boom", peakRSS: 30},
		{scenario: "a", system: "x", load: l, requests: 2000, rps: 1000, p50: 3, p99: 10, peakRSS: 20},
	})
	// 6,000 requests in 2 + 2 + 2 seconds.
	if m.requests != 6000 || m.rps != 1000 {
		t.Errorf("requests %d, rps %v; want 6000, 1000", m.requests, m.rps)
	}
	if m.p50 != 3 || m.p99 != 30 {
		t.Errorf("p50 %v, p99 %v; want the median 3 and the largest 30", m.p50, m.p99)
	}
	// (1,000×1 + 3,000×3) / 6,000 ms and 1,000×2 / 6,000 ms.
	if want := 10 * time.Millisecond / 6; m.appCPU != want {
		t.Errorf("app CPU %v, want %v", m.appCPU, want)
	}
	if want := 2 * time.Millisecond / 6; m.dbCPU != want {
		t.Errorf("db CPU %v, want %v", m.dbCPU, want)
	}
	if m.errors != 1 || m.firstError != "boom" || m.peakRSS != 30 || m.scenario != "a" || m.system != "x" || m.load != l {
		t.Errorf("merged %+v", m)
	}
}

func TestMergedPercentilesAreThoseOfAllRequests(t *testing.T) {
	uniform := func(n int, from, to float64) measurement {
		lat := make([]float64, n)
		for i := range lat {
			lat[i] = from + (to-from)*float64(i)/float64(n)
		}
		return measurement{requests: n, rps: float64(n), quantiles: quantilesOf(lat)}
	}
	near := func(got, want float64) bool { return got > want-0.02 && got < want+0.02 }
	// A slow turn and a fast one: together, half the requests took under
	// 2 ms, and the slowest 1 % were in the slow turn's last 4 %.
	m := mergeRuns([]measurement{uniform(1000, 1, 2), uniform(1000, 3, 4)})
	if !near(m.p50, 2) && !near(m.p50, 3) {
		t.Errorf("p50 %v, want 2 to 3", m.p50)
	}
	if !near(m.p99, 3.98) {
		t.Errorf("p99 %v, want 3.98", m.p99)
	}
	// A turn with three times the requests weighs three times as much.
	m = mergeRuns([]measurement{uniform(3000, 1, 2), uniform(1000, 3, 4)})
	if !near(m.p50, 1+2.0/3) {
		t.Errorf("weighed p50 %v, want %v", m.p50, 1+2.0/3)
	}
	// Without distributions: the median p50 and the largest p99.
	m = mergeRuns([]measurement{{requests: 1, rps: 1, p50: 1, p99: 5}, {requests: 1, rps: 1, p50: 3, p99: 9}, {requests: 1, rps: 1, p50: 2, p99: 7}})
	if m.p50 != 2 || m.p99 != 9 {
		t.Errorf("p50 %v, p99 %v; want 2 and 9", m.p50, m.p99)
	}
}
