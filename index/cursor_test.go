package index

import (
	"fmt"
	"testing"

	"github.com/wlns/wlns/record"
)

// TestEachPairAfter_PagesVisitEveryPairOnce pages through 5,000 pairs of
// three entities (the table splits into many leaves) with a deletion
// between pages, and demands every surviving pair exactly once.
func TestEachPairAfter_PagesVisitEveryPairOnce(t *testing.T) {
	for _, size := range []int{1, 7, 100} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			ix := New()
			tx := ix.Begin()
			for i := range 5000 {
				tx.PutEntity(entity(uint64(i%3+1), false, fmt.Sprintf("192.0.2.%d", i%3+1)))
				tx.PutPair(&record.Pair{Entity: uint64(i%3 + 1), Sender: fmt.Sprintf("u%d@example.org", i)})
			}
			tx.Commit()
			seen := map[string]int{}
			var c Cursor
			deleted := ""
			for pages := 0; ; pages++ {
				n := 0
				var last Ref
				ix.Load().EachPairAfter(c, func(r Ref) bool {
					seen[fmt.Sprint(r.Entity(), r.Key())]++
					last, n = r, n+1
					return n < size
				})
				if n == 0 {
					break
				}
				c2, err := ParseCursor(last.Cursor().String())
				if err != nil || c2 != last.Cursor() {
					t.Fatalf("cursor %s does not round-trip: %v", last.Cursor(), err)
				}
				c = c2
				if pages == 3 && deleted == "" {
					// Delete a pair the walk has not reached: it must not appear.
					ix.Load().EachPairAfter(c, func(r Ref) bool {
						deleted = fmt.Sprint(r.Entity(), r.Key())
						tx := ix.Begin()
						tx.DeletePair(r.Entity(), r.Key())
						tx.Commit()
						return false
					})
				}
			}
			if len(seen) != 4999 {
				t.Errorf("paging saw %d distinct pairs, want 4999", len(seen))
			}
			for k, n := range seen {
				if n != 1 || k == deleted {
					t.Errorf("pair %s seen %d times (deleted: %v)", k, n, k == deleted)
				}
			}
		})
	}
}

func TestParseCursor_RejectsGarbage(t *testing.T) {
	for _, s := range []string{"xyz", "00", "0000000000000000000000000000000000000000ff"} {
		if _, err := ParseCursor(s); err == nil {
			t.Errorf("ParseCursor(%q) accepted it", s)
		}
	}
}
