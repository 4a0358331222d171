package policy

import (
	"container/list"
	"sync"
	"time"
)

// cache keeps DNS answers until their TTL runs out, at most max of them;
// when full it drops the least recently used. It is safe for concurrent use.
type cache struct {
	mu    sync.Mutex
	max   int
	ll    *list.List // front: most recently used *cacheEntry
	items map[string]*list.Element
}

type cacheEntry struct {
	name    string
	ans     Answer
	expires time.Time
}

func newCache(max int) *cache {
	return &cache{max: max, ll: list.New(), items: make(map[string]*list.Element)}
}

// get returns the cached answer for name if it has not expired at now.
func (c *cache) get(name string, now time.Time) (Answer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[name]
	if !ok {
		return Answer{}, false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		c.ll.Remove(el)
		delete(c.items, name)
		return Answer{}, false
	}
	c.ll.MoveToFront(el)
	return e.ans, true
}

// put stores an answer for ttl; a zero ttl stores nothing.
func (c *cache) put(name string, ans Answer, ttl time.Duration, now time.Time) {
	if ttl <= 0 || c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[name]; ok {
		e := el.Value.(*cacheEntry)
		e.ans, e.expires = ans, now.Add(ttl)
		c.ll.MoveToFront(el)
		return
	}
	for c.ll.Len() >= c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.items, last.Value.(*cacheEntry).name)
	}
	c.items[name] = c.ll.PushFront(&cacheEntry{name: name, ans: ans, expires: now.Add(ttl)})
}

// len is the number of entries, expired or not.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
