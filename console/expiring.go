package console

import (
	"cmp"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/expiry"
)

// expiringShown is how many of the soonest-expiring records the page
// lists.
const expiringShown = 200

// expiringRow is one record a sweep would delete soon.
type expiringRow struct {
	expiry.Item
	Label    string
	Pinnable bool
	Verp     bool
}

// expiringData fills the expiring page.
type expiringData struct {
	Days  int
	Rows  []expiringRow
	Total int
}

// expiring lists the session's records that expire within days, soonest
// first, each pair and VERP source with a pin button.
func (c *Console) expiring(w http.ResponseWriter, r *http.Request, s *session) error {
	if c.cfg.Expiring == nil {
		return failf(http.StatusNotFound, "Expiry is not configured on this node.")
	}
	d := expiringData{Days: 30}
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 3650 {
			return failf(http.StatusBadRequest, "Days must be a whole number from 0 to 3650.")
		}
		d.Days = n
	}
	v := c.store.Index().Load()
	until := c.cfg.Now().Add(time.Duration(d.Days) * 24 * time.Hour)
	var items []expiry.Item
	c.cfg.Expiring(v, until, "", func(it expiry.Item) bool {
		if !s.sees(v.Entity(it.Entity)) {
			return true
		}
		d.Total++
		items = append(items, it)
		if len(items) >= 8*expiringShown {
			items = soonest(items, expiringShown)
		}
		return true
	})
	for _, it := range soonest(items, expiringShown) {
		row := expiringRow{Item: it, Label: v.Entity(it.Entity).Label(), Verp: it.Kind == expiry.KindVerps}
		row.Pinnable = it.Kind == expiry.KindPairs || it.Kind == expiry.KindDomainPairs || row.Verp
		d.Rows = append(d.Rows, row)
	}
	c.render(w, http.StatusOK, "expiring", view{Title: "Expiring soon", Nav: "expiring", S: s, Notice: notice(r), Data: d})
	return nil
}

// soonest sorts items by expiry time and keeps the first n.
func soonest(items []expiry.Item, n int) []expiry.Item {
	slices.SortFunc(items, func(a, b expiry.Item) int {
		if c := cmp.Compare(a.Expires, b.Expires); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	return items[:min(n, len(items))]
}

// pin pins or unpins a pair or VERP source of the session's relays: the
// same write as re-adding it with the flag, which changes nothing else.
func (c *Console) pin(w http.ResponseWriter, r *http.Request, s *session) error {
	v := c.store.Index().Load()
	e, err := entityParam(v, s, r.PostFormValue("entity"))
	if err != nil {
		return err
	}
	key, pinned, verp := r.PostFormValue("key"), r.PostFormValue("pinned") == "1", r.PostFormValue("kind") == "verp"
	t, body := command.PairPut, any(command.PairBody{Sender: key, Entity: e.ID, Pinned: pinned})
	switch {
	case !verp && v.Pair(e.ID, []byte(key)) != nil:
	case verp && v.Verp(e.ID, []byte(key)) != nil:
		t, body = command.VerpPut, command.VerpBody{Domain: key, Entity: e.ID, Pinned: pinned}
	default:
		return failf(http.StatusNotFound, "%s is not listed through %s (any more).", key, e.Label())
	}
	done := "unpinned"
	if pinned {
		done = "pinned"
	}
	if _, err := c.propose(r.Context(), t, body); errors.Is(err, errSpooled) {
		done = "spooled"
	} else if err != nil {
		return err
	}
	back := "/console/expiring?done=" + done
	if r.PostFormValue("from") == "pairs" {
		back = "/console/pairs?done=" + done + "&kind=" + kindParam(verp) + "&entity=" + r.PostFormValue("entity")
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}
