package cache

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// Memory is an in-process cache for a single instance. It is bounded: when
// full, expired entries are swept and, if that is not enough, arbitrary
// entries are evicted.
type Memory struct {
	mu      sync.Mutex
	entries map[string]memEntry
	max     int
	now     func() time.Time
}

type memEntry struct {
	value   []byte
	expires time.Time
}

// NewMemory returns a cache holding at most maxEntries values.
func NewMemory(maxEntries int) *Memory {
	return &Memory{entries: map[string]memEntry{}, max: maxEntries, now: time.Now}
}

func (m *Memory) Kind() string               { return "memory" }
func (m *Memory) Ping(context.Context) error { return nil }

func (m *Memory) Get(_ context.Context, key string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok {
		return nil, false, nil
	}
	if !m.now().Before(e.expires) {
		delete(m.entries, key)
		return nil, false, nil
	}
	return e.value, true, nil
}

func (m *Memory) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return ErrNoTTL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, exists := m.entries[key]; !exists && len(m.entries) >= m.max {
		m.evictLocked()
	}
	// Copy: the caller may reuse its buffer.
	m.entries[key] = memEntry{value: append([]byte(nil), value...), expires: m.now().Add(ttl)}
	return nil
}

func (m *Memory) evictLocked() {
	now := m.now()
	for k, e := range m.entries {
		if !now.Before(e.expires) {
			delete(m.entries, k)
		}
	}
	for k := range m.entries {
		if len(m.entries) < m.max {
			return
		}
		delete(m.entries, k)
	}
}

func (m *Memory) Incr(_ context.Context, key string, ttl time.Duration) (int64, error) {
	if ttl <= 0 {
		return 0, ErrNoTTL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	if e, ok := m.entries[key]; ok && m.now().Before(e.expires) {
		n, _ = strconv.ParseInt(string(e.value), 10, 64)
	}
	n++
	m.entries[key] = memEntry{value: []byte(strconv.FormatInt(n, 10)), expires: m.now().Add(ttl)}
	return n, nil
}

func (m *Memory) Delete(_ context.Context, keys ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		delete(m.entries, k)
	}
	return nil
}
