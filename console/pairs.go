package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// Paging of the pairs page.
const (
	pairPage = 50
	// scanBudget bounds the records one page request reads: a search that
	// matches little in a huge index answers with what it found and a
	// cursor to search on from, instead of reading everything.
	scanBudget = 1_000_000
	// maxChoices is how many relays the add form offers in its list.
	maxChoices = 500
)

// pairRow is one pair or VERP source on the page.
type pairRow struct {
	Entity      *record.Entity
	Key         string
	Pinned      bool
	Created     int64
	LastQueried int64
	By, Method  string
}

// pairsData fills the pairs page.
type pairsData struct {
	Verp     bool
	Kind     string
	Q        string
	Entity   *record.Entity // the filter, or nil
	Rows     []pairRow
	Next     string
	Partial  bool // the scan budget ran out before the page filled
	Choices  []*record.Entity
	Sender   string // the add form's value after an error
	EntityID uint64
}

func (c *Console) pairs(w http.ResponseWriter, r *http.Request, s *session) error {
	d, err := c.pairsData(r, s)
	if err != nil {
		return err
	}
	c.render(w, http.StatusOK, "pairs", view{Title: pairsTitle(d.Verp), Nav: d.Kind, S: s, Notice: notice(r), Data: d})
	return nil
}

func pairsTitle(verp bool) string {
	if verp {
		return "VERP sources"
	}
	return "Pairs"
}

// pairsData reads the page's query and lists one page.
func (c *Console) pairsData(r *http.Request, s *session) (*pairsData, error) {
	v := c.store.Index().Load()
	verp := r.FormValue("kind") == "verp"
	d := &pairsData{Verp: verp, Kind: kindParam(verp), Q: strings.TrimSpace(r.URL.Query().Get("q"))}
	if id := r.URL.Query().Get("entity"); id != "" {
		e, err := entityParam(v, s, id)
		if err != nil {
			return nil, err
		}
		d.Entity, d.EntityID = e, e.ID
	}
	after, err := index.ParseCursor(r.URL.Query().Get("after"))
	if err != nil {
		return nil, failf(http.StatusBadRequest, "The page link is damaged: go back to the first page.")
	}
	d.Choices = visible(v, s, maxChoices)
	c.listPairs(v, s, d, after)
	return d, nil
}

// listPairs fills d.Rows with the next page after the cursor: a walk in
// the index's own order, so a page costs the same at the millionth pair
// as at the first. A record outside the session's relays is skipped on
// its entity ID, before its text is read.
func (c *Console) listPairs(v *index.View, s *session, d *pairsData, after index.Cursor) {
	q := strings.ToLower(d.Q)
	var scope map[uint64]bool // nil: every entity (an admin)
	switch {
	case d.Entity != nil:
		scope = map[uint64]bool{d.Entity.ID: true}
	case !s.Admin():
		scope = map[uint64]bool{}
		for _, e := range visible(v, s, 0) {
			scope[e.ID] = true
		}
	}
	var lastRow index.Cursor
	read := 0
	each := v.EachPairAfter
	if d.Verp {
		each = v.EachVerpAfter
	}
	each(after, func(ref index.Ref) bool {
		read++
		if read > scanBudget {
			d.Partial, d.Next = true, ref.Cursor().String()
			return false
		}
		if (scope != nil && !scope[ref.Entity()]) || (q != "" && !strings.Contains(ref.Key(), q)) {
			return true
		}
		if len(d.Rows) == pairPage {
			d.Next = lastRow.String()
			return false
		}
		d.Rows = append(d.Rows, pairRow{Entity: v.Entity(ref.Entity()), Key: ref.Key(), Pinned: ref.Pinned(), Created: ref.Created(),
			LastQueried: ref.LastQueried(), By: ref.By(), Method: ref.Method()})
		lastRow = ref.Cursor()
		return true
	})
}

// addPair whitelists a sender (or a domain) through one of the session's
// relays.
func (c *Console) addPair(w http.ResponseWriter, r *http.Request, s *session) error {
	v := c.store.Index().Load()
	verp := r.PostFormValue("kind") == "verp"
	key, e, err := c.pairForm(v, s, r, verp)
	if err == nil {
		t, body := command.PairPut, any(command.PairBody{Sender: key, Entity: e.ID, By: "console:" + s.Who, Method: "console",
			Pinned: r.PostFormValue("pinned") != ""})
		if verp {
			t, body = command.VerpPut, command.VerpBody{Domain: key, Entity: e.ID, By: "console:" + s.Who, Method: "console",
				Pinned: r.PostFormValue("pinned") != ""}
		}
		_, err = c.propose(r.Context(), t, body)
	}
	done := "added"
	if errors.Is(err, errSpooled) {
		done, err = "spooled", nil
	}
	if ue, ok := err.(*userError); ok && ue.status < 500 {
		return c.pairsAgain(w, r, s, ue)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/console/pairs?done="+done+"&kind="+kindParam(verp)+"&entity="+r.PostFormValue("entity"), http.StatusSeeOther)
	return nil
}

// pairForm validates the sender (or list domain) and relay fields.
func (c *Console) pairForm(v *index.View, s *session, r *http.Request, verp bool) (string, *record.Entity, error) {
	raw := strings.TrimSpace(r.PostFormValue("sender"))
	if raw == "" {
		return "", nil, failf(http.StatusBadRequest, "Enter a sender address, or a domain to whitelist all of its addresses.")
	}
	var sender string
	var err error
	if verp {
		sender, err = record.NormalizeDomain(raw)
	} else {
		sender, err = record.NormalizeSender(raw)
	}
	if err != nil {
		return "", nil, failf(http.StatusBadRequest, "%q is not a sender address or domain: %v.", raw, err)
	}
	e, err := entityParam(v, s, r.PostFormValue("entity"))
	if err != nil {
		return "", nil, err
	}
	return sender, e, nil
}

// pairsAgain shows the pairs page again with the form's values and why it
// was refused.
func (c *Console) pairsAgain(w http.ResponseWriter, r *http.Request, s *session, ue *userError) error {
	d, err := c.pairsData(r, s)
	if err != nil {
		return err
	}
	d.Sender = r.PostFormValue("sender")
	d.EntityID = 0
	if e, err := entityParam(c.store.Index().Load(), s, r.PostFormValue("entity")); err == nil {
		d.EntityID = e.ID
	}
	c.render(w, ue.status, "pairs", view{Title: pairsTitle(d.Verp), Nav: d.Kind, S: s, Error: ue.msg, Data: d})
	return nil
}

// deletePair removes a pair or VERP source of one of the session's relays.
func (c *Console) deletePair(w http.ResponseWriter, r *http.Request, s *session) error {
	v := c.store.Index().Load()
	e, err := entityParam(v, s, r.PostFormValue("entity"))
	if err != nil {
		return err
	}
	key := r.PostFormValue("key")
	verp := r.PostFormValue("kind") == "verp"
	t, body := command.PairDelete, any(command.PairBody{Sender: key, Entity: e.ID})
	found := v.Pair(e.ID, []byte(key)) != nil
	if verp {
		t, body = command.VerpDelete, command.VerpBody{Domain: key, Entity: e.ID}
		found = v.Verp(e.ID, []byte(key)) != nil
	}
	if !found {
		return failf(http.StatusNotFound, "%s is not listed through %s.", key, e.Label())
	}
	if _, err := c.propose(r.Context(), t, body); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/pairs?done=deleted&kind="+kindParam(verp)+"&entity="+r.PostFormValue("entity"), http.StatusSeeOther)
	return nil
}

func kindParam(verp bool) string {
	if verp {
		return "verp"
	}
	return "pairs"
}

// notices are the confirmations a redirect after a form names.
var notices = map[string]string{
	"added":     "Added. Every mirror answers for it within moments.",
	"deleted":   "Deleted.",
	"saved":     "Saved. Every mirror answers for it within moments.",
	"pinned":    "Pinned: it will not expire.",
	"unpinned":  "Unpinned: it expires when nobody asks for it for the kind's window.",
	"grouped":   "Grouped: the relays are one group now, with their pairs and VERP sources.",
	"dismissed": "Dismissed: the suggestion is not shown again, to anyone, until its relays share twice as many senders.",
	"spooled":   "Taken, but the cluster has no quorum right now: this node keeps the change and commits it once the quorum is back.",
}

func notice(r *http.Request) string { return notices[r.URL.Query().Get("done")] }
