package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
)

// listFlags are the filter and paging flags of list commands.
type listFlags struct {
	filters map[string]*string
	order   []string
	limit   int
	after   string
	all     bool
	json    bool
}

// declareList declares --ip, --entity, --prefix, the extra filters, and the
// paging flags.
func declareList(fs *flag.FlagSet, extra ...string) *listFlags {
	lf := &listFlags{filters: map[string]*string{}}
	help := map[string]string{
		"ip":         "only records of the relay entity of this IP (longest-prefix match)",
		"entity":     "only records of this entity ID",
		"prefix":     "only records of entities with a member inside this prefix",
		"sender":     "only this sender",
		"domain":     "only this domain (pairs: senders at it, and the domain-wide pair)",
		"registered": "only registered (true) or unregistered (false) relays",
		"days":       "what expires within this many days",
		"kind":       "only this kind: pairs, domain_pairs, verp_sources, relays, groups, entities",
	}
	for _, name := range append([]string{"ip", "entity", "prefix"}, extra...) {
		lf.filters[name] = fs.String(name, "", help[name])
		lf.order = append(lf.order, name)
	}
	fs.IntVar(&lf.limit, "limit", 100, "records per page (1-1000)")
	fs.StringVar(&lf.after, "after", "", "cursor: list after this point (the next value of a previous page)")
	fs.BoolVar(&lf.all, "all", false, "follow the pages to the end")
	fs.BoolVar(&lf.json, "json", false, "print JSON instead of a table")
	return lf
}

// pages fetches path with the filters, page by page while --all, handing
// each answer to take, which returns the next cursor.
func (lf *listFlags) pages(ctx context.Context, e *invocation, path string, take func([]byte) (string, error)) error {
	after := lf.after
	for {
		q := url.Values{}
		for _, name := range lf.order {
			if v := *lf.filters[name]; v != "" {
				q.Set(name, v)
			}
		}
		q.Set("limit", fmt.Sprint(lf.limit))
		if after != "" {
			q.Set("after", after)
		}
		var raw json.RawMessage
		if _, err := e.api.do(ctx, "GET", path+"?"+q.Encode(), nil, &raw); err != nil {
			return err
		}
		next, err := take(raw)
		if err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		if !lf.all {
			fmt.Fprintf(e.stderr, "more: run again with --after %s, or use --all\n", next)
			return nil
		}
		after = next
	}
}

func decodeJSON(raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decoding the answer: %w", err)
	}
	return nil
}
