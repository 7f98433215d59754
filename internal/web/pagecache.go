package web

import (
	"bytes"
	"compress/gzip"
	"container/list"
	"net/http"
	"strconv"
	"sync"
)

// pageCache keeps rendered pages, and their gzip bytes, of pages computed from one tenant's data
// and settings for one filter: the dashboard and the conversation list (ADR 028). A page's key
// starts with the result's own key (dashboard.Service.ResultKey: asker, tenant,
// filter resolved to absolute dates, tenant version: the result cache's rules) and adds what the
// page shows besides the result: the language, the request's path and query (the scope's base,
// the raw parameters whose problems the page reports, the language link), the reader's app role,
// and the clock-dependent texts rendered at that moment ("updated 2 min ago", the tenant's date),
// so a page never outlives its minute, its tenant's version or its midnight; a page showing times
// in the reader's zone (the list) adds the zone. Nothing in these pages is per user or per request
// beyond that (no CSRF token: cross-origin protection is by header; no user name; no nonce).
//
// Entries of a tenant's older versions are dropped when a newer one is stored; beyond max bytes
// the least recently used go.
type pageCache struct {
	max int64 // bytes of html and gzip kept

	mu       sync.Mutex
	lru      *list.List // of *cachedPage, most recent first
	entries  map[string]*list.Element
	versions map[int64]string // tenant → newest version stored
	size     int64
	observe  func(hit bool)
}

type cachedPage struct {
	key      string
	tenant   int64
	version  string
	csp      string // the page's own Content-Security-Policy, "" for the default
	html, gz []byte
}

func (p *cachedPage) bytes() int64 { return int64(len(p.key) + len(p.html) + len(p.gz) + 128) }

func newPageCache(maxBytes int64, observe func(bool)) *pageCache {
	if maxBytes <= 0 {
		return nil
	}
	return &pageCache{max: maxBytes, lru: list.New(), entries: map[string]*list.Element{},
		versions: map[int64]string{}, observe: observe}
}

func (c *pageCache) get(key string) *cachedPage {
	c.mu.Lock()
	el, ok := c.entries[key]
	if ok {
		c.lru.MoveToFront(el)
	}
	c.mu.Unlock()
	if c.observe != nil {
		c.observe(ok)
	}
	if !ok {
		return nil
	}
	return el.Value.(*cachedPage)
}

func (c *pageCache) put(p *cachedPage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.versions[p.tenant]; ok && old != p.version {
		for el := c.lru.Front(); el != nil; {
			next := el.Next()
			if e := el.Value.(*cachedPage); e.tenant == p.tenant && e.version != p.version {
				c.remove(el)
			}
			el = next
		}
	}
	c.versions[p.tenant] = p.version
	if el, ok := c.entries[p.key]; ok {
		c.remove(el)
	}
	c.entries[p.key] = c.lru.PushFront(p)
	c.size += p.bytes()
	for c.size > c.max && c.lru.Len() > 0 {
		c.remove(c.lru.Back())
	}
}

func (c *pageCache) remove(el *list.Element) {
	e := el.Value.(*cachedPage)
	c.lru.Remove(el)
	delete(c.entries, e.key)
	c.size -= e.bytes()
}

// stats reports the entries and bytes kept.
func (c *pageCache) stats() (entries int, size int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len(), c.size
}

// pageKey joins a page's key parts; a part never holds a NUL byte (those are paths, queries,
// codes and texts the server made), so two different lists never give one key.
func pageKey(parts ...string) string {
	n := 0
	for _, p := range parts {
		n += len(p) + 1
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = append(b, p...)
		b = append(b, 0)
	}
	return string(b)
}

// servePage writes a cached page: its gzip bytes to a client that takes them (the compress
// middleware passes a body that is encoded already), its html otherwise.
func servePage(w http.ResponseWriter, r *http.Request, p *cachedPage) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if p.csp != "" {
		h.Set("Content-Security-Policy", p.csp)
	}
	body := p.html
	if r.Header.Get("Range") == "" && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = p.gz
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// renderCached is render for a page that may be cached under key (in tenant's version): served
// from the cache when it is there, rendered, kept and served otherwise. An empty key, or no
// cache, renders as usual.
func (s *Server) renderCached(w http.ResponseWriter, r *http.Request, key string, tenant int64, version, name string, data any) error {
	if s.pageCache == nil || key == "" {
		return s.render(w, r, http.StatusOK, name, data)
	}
	html, err := s.execute(name, data)
	if err != nil {
		return err
	}
	var gz bytes.Buffer
	zw := gzipPool.Get().(*gzip.Writer)
	zw.Reset(&gz)
	_, _ = zw.Write(html)
	_ = zw.Close()
	gzipPool.Put(zw)
	p := &cachedPage{key: key, tenant: tenant, version: version, html: html, gz: gz.Bytes()}
	if c, ok := data.(brandCSP); ok {
		p.csp = c.csp()
	}
	s.pageCache.put(p)
	servePage(w, r, p)
	return nil
}

// cachedPage returns the page kept under key, nil when there is none (or no cache).
func (s *Server) cachedPage(key string) *cachedPage {
	if s.pageCache == nil || key == "" {
		return nil
	}
	return s.pageCache.get(key)
}
